"""The clinician's experience in Chromium: the flowchart with the walked path, the printable and
pasteable report, accessibility (axe-core, keyboard, focus, announcements), fail-safe errors and
the phone and desktop layouts."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from .conftest import DESKTOP, PHONE, Screenshot
from .wizard import Wizard

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

DUODENAL_GASTRINOMA = {
    "suspected_syndrome": "gastrinoma",
    "functional_status": "gastrinoma",
    "disease_extent": "localized",
    "tumor_size_cm": 0.6,
    "tumor_location": "duodenum",
}
METASTATIC_G12 = {
    "suspected_syndrome": "none",
    "functional_status": "nonfunctioning",
    "disease_extent": "metastatic",
    "ki67_percent": 10,
    "liver_metastases": "none",
    "sstr_status": "negative",
    "progressive": False,
}
INSULINOMA_BODY = {
    "suspected_syndrome": "insulinoma",
    "functional_status": "insulinoma",
    "sstr_status": "negative",
    "disease_extent": "localized",
    "tumor_size_cm": 1.8,
    "tumor_location": "body",
}


# -- helpers ---------------------------------------------------------------------------------


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.1 A and AA rules) on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    return page.evaluate("async (options) => (await axe.run(document, options)).violations", options)


def assert_no_violations(page: Page, where: str) -> None:
    violations = axe_violations(page)
    summary = [
        f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes'][:3]]}"
        for v in violations
    ]
    assert not violations, f"axe found violations on {where}:\n" + "\n".join(summary)


def flowchart_classes(page: Page) -> dict[str, set[str]]:
    nodes = page.locator("svg.flowchart [data-node]")
    return {
        str(node.get_attribute("data-node")): set((node.get_attribute("class") or "").split())
        for node in nodes.all()
    }


def on_path(page: Page) -> set[str]:
    return {slug for slug, classes in flowchart_classes(page).items() if "on-path" in classes}


def focused_id(page: Page) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.id"))


def tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        if page.evaluate("(s) => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def walk_to_result(page: Page, case: dict[str, Any]) -> Wizard:
    wizard = Wizard(page)
    wizard.start()
    wizard.walk_case(case)
    assert wizard.outcome() is not None
    return wizard


# -- flowchart -------------------------------------------------------------------------------


def test_flowchart_highlights_the_path_of_each_walk(page: Page, screenshot: Screenshot) -> None:
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    walk_to_result(page, DUODENAL_GASTRINOMA)
    chart = page.locator("svg.flowchart")
    expect(chart).to_be_visible()
    first = on_path(page)
    assert {"syndrome", "biochem_gastrinoma", "fx_symptom_control", "size", "location"} <= first
    assert "surgery_gastrinoma_duodenal" in first and "ki67" not in first
    classes = flowchart_classes(page)
    assert "current" in classes["surgery_gastrinoma_duodenal"]
    assert "ruled-out" in classes["ki67"] and "ruled-out" in classes["biochem_insulinoma"]
    walked_edge = page.locator(
        'svg.flowchart [data-source="location"][data-target="surgery_gastrinoma_duodenal"]'
    )
    expect(walked_edge).to_have_class(re.compile(r"\bon-path\b"))
    expect(page.locator("svg.flowchart [data-code]")).to_have_count(0)
    screenshot(page, "flowchart-result-duodenal-gastrinoma-1280")

    page.get_by_role("button", name="Start a new walk").click()
    wizard = Wizard(page)
    page.locator("#walk form[data-step] [name=suspected_syndrome]").first.wait_for()
    wizard.walk_case(METASTATIC_G12)
    second = on_path(page)
    assert {"ki67", "liver", "met_sstr", "met_progressive", "advanced_g12_surveillance"} <= second
    assert "location" not in second and "size" not in second
    assert "ruled-out" in flowchart_classes(page)["location"]
    assert not blocked, f"the pages broke their Content Security Policy: {blocked}"


def test_flowchart_on_a_step_marks_the_current_step_and_what_the_answers_rule_out(page: Page) -> None:
    wizard = Wizard(page)
    wizard.start()
    wizard.answer(suspected_syndrome="none")
    wizard.answer(functional_status="nonfunctioning")
    details = page.locator("details.flowchart-details")
    expect(details).not_to_have_attribute("open", "")
    expect(page.locator("svg.flowchart")).to_be_hidden()
    details.locator("summary").click()
    expect(page.locator("svg.flowchart")).to_be_visible()
    classes = flowchart_classes(page)
    assert "current" in classes["extent"]
    assert {"on-path"} <= classes["syndrome"] and {"on-path"} <= classes["biochem_general"]
    # A nonfunctioning tumour never needs hormone-related symptom control.
    assert "ruled-out" in classes["fx_symptom_control"]
    assert not classes["size"] & {"ruled-out", "on-path"}


def test_the_step_flowchart_loads_when_opened_and_stays_open_on_the_next_steps(page: Page) -> None:
    wizard = Wizard(page)
    wizard.start()
    loads: list[str] = []
    page.on("request", lambda r: loads.append(r.url) if "/flowchart/" in r.url else None)
    wizard.answer(suspected_syndrome="none")
    expect(page.locator("svg.flowchart")).to_have_count(0)
    assert loads == []
    page.locator("details.flowchart-details summary").click()
    expect(page.locator("svg.flowchart")).to_be_visible()
    assert len(loads) == 1 and loads[0].endswith("?step=biochem_general")
    assert "current" in flowchart_classes(page)["biochem_general"]

    wizard.answer(functional_status="nonfunctioning")
    expect(page.locator("details.flowchart-details")).to_have_attribute("open", "")
    expect(page.locator('svg.flowchart [data-node="extent"]')).to_have_class(re.compile(r"\bcurrent\b"))
    assert len(loads) == 2
    # The walked question is a link back to its step, which re-routes from there.
    page.locator('svg.flowchart [data-node="syndrome"] a').click()
    expect(page).to_have_url(re.compile(r"/steps/syndrome/$"))
    expect(wizard.field("suspected_syndrome").and_(page.locator("[value=none]"))).to_be_checked()


def test_a_flowchart_that_fails_to_load_says_so_without_marking_the_walk_stale(page: Page) -> None:
    wizard = Wizard(page)
    wizard.start()
    page.route("**/flowchart/**", lambda route: route.fulfill(status=500, body="Server Error"))
    page.locator("details.flowchart-details summary").click()
    expect(page.locator(".flowchart-slot [role=alert]")).to_contain_text("could not be loaded")
    expect(page.locator(".flowchart-slot a", has_text="Open the flowchart")).to_be_visible()
    expect(page.locator("#walk")).not_to_have_class(re.compile(r"\bis-stale\b"))


def test_clicking_a_walked_question_on_the_flowchart_changes_its_answer(page: Page) -> None:
    wizard = walk_to_result(page, DUODENAL_GASTRINOMA)
    links = page.locator("svg.flowchart a.fc-link")
    linked = {link.locator("xpath=..").get_attribute("data-node") for link in links.all()}
    assert linked == {"syndrome", "biochem_gastrinoma", "extent", "size", "location"}
    page.locator('svg.flowchart [data-node="location"] a').click()
    expect(page).to_have_url(re.compile(r"/steps/location/$"))
    expect(page.locator("h1")).to_have_text("Where is the tumour?")
    expect(wizard.field("tumor_location").and_(page.locator("[value=duodenum]"))).to_be_checked()
    wizard.answer(tumor_location="tail")
    assert wizard.outcome() == "surgery_gastrinoma_distal"
    expect(page.locator('[data-code="special.splenectomy_vaccination"]')).to_be_visible()
    assert "surgery_gastrinoma_distal" in on_path(page)


# -- report ----------------------------------------------------------------------------------


def test_result_prints_as_a_report(page: Page, screenshot: Screenshot) -> None:
    walk_to_result(page, INSULINOMA_BODY)
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".progress-stages")).to_be_hidden()
    expect(page.locator(".report-actions")).to_be_hidden()
    expect(page.locator(".trail-change").first).to_be_hidden()
    expect(page.locator(".rec-why").first).to_be_hidden()
    meta = page.locator(".report-meta")
    expect(meta).to_contain_text(re.compile(r"pathway version \d+ \(published \d{1,2} \w+ \d{4}\)"))
    expect(meta).to_contain_text("Printed")
    expect(meta).to_contain_text("/pathways/pnet/walks/")
    expect(page.locator(".inputs")).to_contain_text("1.8 cm")
    expect(page.locator(".why")).to_be_visible()
    expect(page.locator(".why li").first).to_contain_text("Suspected syndrome is")
    expect(page.locator(".references-section")).to_be_visible()
    expect(page.locator("#ref-1")).to_be_visible()
    expect(page.locator(".cautions")).to_be_visible()
    for code in (
        "caution.ssa_insulinoma",
        "caution.ssa_insulinoma_sstr_negative",
        "special.splenectomy_vaccination",
    ):
        expect(page.locator(f'[data-code="{code}"]')).to_be_visible()
    breaks = page.evaluate(
        "() => ['.cautions', '.rec'].map(s => getComputedStyle(document.querySelector(s)).breakInside)"
    )
    assert breaks == ["avoid", "avoid"]
    screenshot(page, "report-print-insulinoma")
    pdf = page.pdf(format="A4", print_background=False)
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    page.emulate_media(media="screen")
    expect(page.locator(".site-header")).to_be_visible()


def test_copy_as_text_puts_a_plain_summary_on_the_clipboard(
    new_context: Callable[..., BrowserContext],
) -> None:
    context = new_context(timezone_id="Europe/Berlin")
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    walk_to_result(page, INSULINOMA_BODY)
    button = page.get_by_role("button", name="Copy as text")
    button.click()
    expect(page.locator(".copy-status")).to_contain_text("Copied")
    text = page.evaluate("navigator.clipboard.readText()")
    assert text == page.locator("#report-text").input_value()
    assert "<" not in text and "data-code" not in text
    outcome = page.locator("[data-outcome]").inner_text().strip()
    for expected in (
        "Pancreatic neuroendocrine tumours (PNETs)",
        "pathway version 3 (published",
        f"Management: {outcome}",
        "Tumour size 1.8 cm",
        "Tumour location Pancreatic body",
        "CAUTIONS:",
        "Workup done along the way: Baseline markers",
        "References:",
    ):
        assert expected in text, (expected, text)
    # A note for the record: at most 25 lines, the browser's local time, no trace and no link.
    lines = text.splitlines()
    assert len(lines) <= 25, text
    assert re.fullmatch(
        r"Walk last changed \d{1,2} \w+ \d{4}(,| at) \d\d:\d\d (CET|CEST|GMT\+[12])", lines[1]
    ), lines[1]
    assert "UTC" not in text and "/walks/" not in text and "http" not in text and "->" not in text
    cautions = text.split("CAUTIONS:")[1].split("\n\n")[0]
    assert "hypoglycaemia" in cautions.lower() or "insulinoma" in cautions.lower()


def test_copy_as_text_falls_back_when_the_clipboard_api_is_missing(page: Page) -> None:
    walk_to_result(page, DUODENAL_GASTRINOMA)
    page.evaluate("Object.defineProperty(navigator, 'clipboard', {value: undefined, configurable: true})")
    page.get_by_role("button", name="Copy as text").click()
    expect(page.locator(".copy-status")).not_to_be_empty()
    area = page.locator("#report-text")
    if page.locator("button[data-copied=false]").count():
        expect(area).to_be_visible()
        expect(area).to_be_focused()
        selected = page.evaluate(
            "() => { const a = document.getElementById('report-text');"
            " return a.selectionEnd - a.selectionStart; }"
        )
        assert selected == len(area.input_value())
    else:
        expect(page.locator("button[data-copied=true]")).to_have_count(1)


def test_each_recommendation_shows_its_sources_and_why_on_demand(page: Page) -> None:
    walk_to_result(page, INSULINOMA_BODY)
    rec = page.locator('[data-code="caution.ssa_insulinoma_sstr_negative"]')
    expect(rec.locator(".cite").first).to_be_visible()
    expect(rec.locator(".rec-sources")).to_be_visible()
    expect(rec.locator(".rec-flag")).to_contain_text("Caution")
    why = rec.locator("details.rec-why")
    expect(why.locator("ol")).to_be_hidden()
    why.locator("summary").click()
    expect(why).to_contain_text("Which functional syndrome is suspected?")
    expect(why).to_contain_text("SSTR imaging is Negative")
    # Given at the SSTR step: the extent of disease is decided later and is no part of why.
    expect(why.locator("ol li")).to_have_count(2)
    expect(why.locator("ol")).not_to_contain_text("What is the extent of disease?")
    vaccination = page.locator('[data-code="special.splenectomy_vaccination"] details.rec-why')
    vaccination.locator("summary").click()
    expect(vaccination).to_contain_text("answer: Pancreatic body")


# -- accessibility ---------------------------------------------------------------------------


def test_axe_finds_no_violations_on_any_page_type(
    new_context: Callable[..., BrowserContext], site_url: str
) -> None:
    # axe is injected as an inline script, which the Content Security Policy rightly blocks.
    page = new_context(bypass_csp=True).new_page()
    page.goto("/")
    assert_no_violations(page, "the landing page")
    page.goto("/pathways/pnet/")
    assert_no_violations(page, "the introduction")
    wizard = Wizard(page)
    wizard.start()
    assert_no_violations(page, "a choice step (radios)")
    wizard.answer(suspected_syndrome="insulinoma")
    assert "glucose_mg_dl" in wizard.field_names()
    assert_no_violations(page, "the biochemistry step with optional lab fields")
    wizard.answer(functional_status="insulinoma", glucose_mg_dl="40")
    wizard.answer(sstr_status="positive")
    wizard.answer(disease_extent="localized")
    assert wizard.field_names() == ["tumor_size_cm"]
    assert_no_violations(page, "a number step")
    wizard.answer(tumor_size_cm="31")
    expect(page.locator("[role=alert]").first).to_be_visible()
    assert_no_violations(page, "a step with an error")
    page.locator("details.flowchart-details summary").click()
    expect(page.locator("svg.flowchart")).to_be_visible()
    assert_no_violations(page, "a step with the flowchart open")

    page = new_context(bypass_csp=True).new_page()
    wizard = Wizard(page)
    wizard.start()
    wizard.answer(suspected_syndrome="none")
    wizard.answer(functional_status="nonfunctioning")
    wizard.answer(disease_extent="localized")
    wizard.answer(tumor_size_cm="0.8")
    assert wizard.field_names() == ["ki67_known"]
    assert_no_violations(page, "a yes/no step")
    wizard.answer(ki67_known="false")
    assert wizard.field_names() == ["incidental"]
    wizard.answer(incidental="true")
    assert wizard.outcome() == "observation"
    assert_no_violations(page, "the result with its flowchart")
    page.locator("details.rec-why summary").first.click()
    page.locator("details.report-text-details summary").click()
    assert_no_violations(page, "the result with the evidence and the text open")
    page.set_viewport_size(PHONE)
    assert_no_violations(page, "the result on a phone")

    page.set_viewport_size(DESKTOP)
    page.goto("/admin/login/")
    assert_no_violations(page, "the admin login")


def test_a_whole_walk_with_the_keyboard_alone(page: Page) -> None:
    page.goto("/pathways/pnet/")
    tab_to(page, "form[data-step] button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("[name=suspected_syndrome]").first).to_be_attached()

    def choose(name: str, value: str) -> None:
        tab_to(page, f"[name={name}]")
        for _ in range(12):
            if page.locator(f"[name={name}][value={value}]").is_checked():
                break
            page.keyboard.press("ArrowDown")
        else:
            raise AssertionError(f"arrow keys never chose {name}={value}")
        submit()

    def number(name: str, value: str) -> None:
        tab_to(page, f"[name={name}]")
        page.keyboard.type(value)
        submit()

    def submit() -> None:
        heading = page.locator("#step-title").inner_text()
        tab_to(page, "form[data-step] button[type=submit]")
        page.keyboard.press("Enter")
        expect(page.locator("#step-title")).not_to_have_text(heading)
        expect(page.locator("#step-title")).to_be_focused()

    choose("suspected_syndrome", "none")
    choose("functional_status", "nonfunctioning")
    choose("disease_extent", "localized")
    number("tumor_size_cm", "2.5")
    choose("ki67_known", "false")
    choose("tumor_location", "head")
    expect(page.locator("[data-outcome=surgery_head]")).to_be_visible()
    expect(page.locator('[data-code="nf.formal_resection_lnd"]')).to_be_visible()

    # Changing an answer from the trail, still by keyboard.
    tab_to(page, '[data-change="tumor_size_cm"]')
    page.keyboard.press("Enter")
    expect(page.locator("#step-title")).to_have_text("What is the tumour size?")
    expect(page.locator("#step-title")).to_be_focused()


def test_focus_moves_to_the_new_heading_after_each_swap_and_errors_are_announced(page: Page) -> None:
    wizard = Wizard(page)
    wizard.start()
    wizard.answer(suspected_syndrome="none")
    assert focused_id(page) == "step-title"
    wizard.answer(functional_status="nonfunctioning")
    wizard.answer(disease_extent="localized")
    assert focused_id(page) == "step-title"
    announcer = page.locator("#announcer")
    expect(announcer).to_have_attribute("aria-live", "assertive")
    wizard.answer(tumor_size_cm="31")
    assert focused_id(page) == "id_tumor_size_cm", "a refused answer puts the user on the field to correct"
    expect(announcer).to_contain_text("not saved")
    expect(announcer).to_contain_text("30")


# -- fail safe -------------------------------------------------------------------------------


def _reach_size_step(page: Page) -> Wizard:
    wizard = Wizard(page)
    wizard.start()
    wizard.answer(suspected_syndrome="insulinoma")
    wizard.answer(functional_status="insulinoma")
    wizard.answer(sstr_status="negative")
    wizard.answer(disease_extent="localized")
    return wizard


def _post_only(handler: Callable[[Route], None]) -> Callable[[Route], None]:
    def route(route: Route) -> None:
        if route.request.method == "POST":
            handler(route)
        else:
            route.continue_()

    return route


@pytest.mark.parametrize("failure", ["server-error", "unreachable"])
def test_a_failed_step_says_so_and_marks_the_recommendations_not_current(
    page: Page, screenshot: Screenshot, failure: str
) -> None:
    wizard = _reach_size_step(page)
    url = page.url
    shown = page.locator("#walk [data-code]").count()
    assert shown > 0
    if failure == "server-error":
        page.route("**/steps/**", _post_only(lambda r: r.fulfill(status=500, body="Server Error")))
    else:
        page.route("**/steps/**", _post_only(lambda r: r.abort("connectionrefused")))
    wizard.fill({"tumor_size_cm": "1.2"})
    page.locator("form[data-step] button[type=submit]").click()

    error = page.locator(".walk-status .walk-error[role=alert]")
    expect(error).to_be_visible()
    expect(error).to_contain_text("not current")
    expect(error).to_contain_text("server could not" if failure == "server-error" else "connection")
    expect(page.locator("#walk")).to_have_class(re.compile(r"\bis-stale\b"))
    expect(page.locator("#walk [data-code] .stale-badge")).to_have_count(shown)
    expect(page.locator("#walk [data-code] .stale-badge").first).to_have_text("Not current")
    expect(page.locator(".walk-status")).to_have_attribute("aria-live", "polite")
    assert page.url == url
    expect(page.locator("form[data-step] button[type=submit]")).to_be_enabled()
    screenshot(page, f"error-{failure}-1280")

    page.unroute("**/steps/**")
    page.reload()
    expect(page.locator(".walk-error")).to_have_count(0)
    expect(page.locator('[data-change="tumor_size_cm"]')).to_have_count(0)


def test_the_submit_button_is_disabled_while_a_step_is_in_flight(page: Page) -> None:
    wizard = _reach_size_step(page)
    held: list[Route] = []
    page.route("**/steps/**", _post_only(held.append))
    wizard.fill({"tumor_size_cm": "1.2"})
    button = page.locator("form[data-step] button[type=submit]")
    button.click()
    expect(button).to_be_disabled()
    # The route handler runs when Playwright next hears from the browser: give a loaded machine time.
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    assert len(held) == 1
    held[0].continue_()
    expect(page.locator('[data-change="tumor_size_cm"]')).to_have_count(1)
    assert len(held) == 1, "one submission only"


# -- layouts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_step_and_result_are_usable_at_phone_and_desktop_width(
    new_context: Callable[..., BrowserContext], screenshot: Screenshot, size: str
) -> None:
    viewport = PHONE if size == "phone" else DESKTOP
    width = viewport["width"]
    page = new_context(viewport=viewport).new_page()
    wizard = Wizard(page)
    wizard.start()
    wizard.answer(suspected_syndrome="insulinoma")
    no_sideways_scroll = "() => document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(no_sideways_scroll)
    screenshot(page, f"step-biochemistry-{width}")
    wizard.answer(functional_status="insulinoma")
    wizard.answer(sstr_status="negative")
    wizard.answer(disease_extent="localized")
    wizard.answer(tumor_size_cm="31")
    screenshot(page, f"step-error-{width}")
    page.locator("details.flowchart-details summary").click()
    expect(page.locator("svg.flowchart")).to_be_visible()
    assert page.evaluate(no_sideways_scroll)
    screenshot(page, f"step-flowchart-{width}")
    wizard.answer(tumor_size_cm="1.8")
    wizard.walk_case(INSULINOMA_BODY)
    expect(page.locator("[data-outcome]")).to_be_visible()
    assert page.evaluate(no_sideways_scroll)
    box = page.get_by_role("button", name="Start a new walk").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    screenshot(page, f"result-{width}")


def test_without_javascript_the_report_and_flowchart_still_work(js_disabled_page: Page) -> None:
    page = js_disabled_page
    walk_to_result(page, DUODENAL_GASTRINOMA)
    expect(page.locator("svg.flowchart")).to_be_visible()
    expect(page.get_by_role("button", name="Copy as text")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    page.locator("details.report-text-details summary").click()
    expect(page.locator("#report-text")).to_contain_text("Management: Duodenal gastrinoma")
    page.locator('svg.flowchart [data-node="size"] a').click()
    expect(page).to_have_url(re.compile(r"/steps/size/$"))
    expect(page.locator("[name=tumor_size_cm]")).to_have_value("0.6")
    page.locator("details.flowchart-details summary").click()
    page.get_by_role("link", name="Open the flowchart").click()
    expect(page.locator("h1")).to_have_text("Flowchart of the pathway, with your path")
    expect(page.locator('svg.flowchart [data-node="size"]')).to_have_class(re.compile(r"\bcurrent\b"))
    page.get_by_role("link", name="Back to the walk").click()
    expect(page).to_have_url(re.compile(r"/steps/size/$"))
