"""Version 2 of the PNET pathway in Chromium at desktop width: grade asked in localized disease,
vaccination before cytoreductive surgery of a body or tail primary, restaging follow-up of
advanced disease, and the newer-guidance notes shown after the management."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from pathways import engine

from .conftest import DESKTOP, Screenshot
from .wizard import Step, Wizard

pytestmark = pytest.mark.e2e

WALK_URL = re.compile(r"/pathways/pnet/walks/[0-9a-f-]{36}/$")
NEWER_HEADING = "Newer guidance differs from the source here"
# Every note of version 2 gives its source and the date it was checked (contract, 6.5).
SOURCE_AND_DATE = re.compile(r"Source: (.+); checked \d{1,2} \w+ \d{4}")

# Contract 6.1: found incidentally, but Ki-67 40 % makes it high grade; `incidental` is not asked.
HIGH_GRADE_LOCALIZED = {
    "suspected_syndrome": "none",
    "functional_status": "nonfunctioning",
    "disease_extent": "localized",
    "tumor_size_cm": 0.9,
    "incidental": True,
    "ki67_known": True,
    "ki67_percent": 40,
    "differentiation": "poor",
    "tumor_location": "body",
}
# Contract 6.2 and 6.3: resectable liver metastases, so cytoreductive surgery; primary in the tail.
CYTOREDUCTIVE_TAIL = {
    "suspected_syndrome": "none",
    "functional_status": "nonfunctioning",
    "disease_extent": "metastatic",
    "ki67_percent": 5,
    "liver_metastases": "resectable",
    "tumor_location": "tail",
    "sstr_status": "positive",
    "progressive": False,
}
# Contract 6.5: SSTR-positive, progressive G1-G2 without liver metastases.
SSTR_POSITIVE_PROGRESSIVE = {
    "suspected_syndrome": "none",
    "functional_status": "nonfunctioning",
    "disease_extent": "metastatic",
    "ki67_percent": 5,
    "liver_metastases": "none",
    "sstr_status": "positive",
    "progressive": True,
}


def walk(page: Page, case: dict[str, Any]) -> tuple[Wizard, list[Step]]:
    wizard = Wizard(page)
    wizard.start()
    steps = wizard.walk_case(case)
    expect(page).to_have_url(WALK_URL)
    return wizard, steps


def asked(steps: list[Step]) -> list[str]:
    return [key for step in steps for key in step.fields]


def assert_page_shows_the_engine_result(
    wizard: Wizard, snapshot: engine.Snapshot, case: dict[str, Any]
) -> engine.Evaluation:
    """The page shows exactly the outcome, codes and notes the engine gives for the case."""
    typed, errors = engine.validate_case(snapshot, case)
    assert not errors, errors
    evaluation = engine.evaluate(snapshot, typed)
    assert evaluation.complete
    assert wizard.outcome() == evaluation.outcome
    assert wizard.codes() == set(evaluation.codes)
    for code in evaluation.codes:
        expect(wizard.page.locator(f'[data-code="{code}"]'), f"{code} shown once").to_have_count(1)
    notes = [note.code for note in engine.newer_guidance(snapshot, evaluation, typed)]
    assert shown_notes(wizard.page) == notes
    return evaluation


def shown_notes(page: Page) -> list[str]:
    return page.locator("[data-newer]").evaluate_all("elements => elements.map(el => el.dataset.newer)")


def assert_notes_follow_the_management(page: Page) -> None:
    """The notes stand in their own block, below every recommendation, and carry no code."""
    block = page.locator("section.newer-guidance")
    expect(block).to_be_visible()
    expect(block.get_by_role("heading")).to_have_text(NEWER_HEADING)
    expect(block.locator("[data-code]")).to_have_count(0)
    expect(page.locator("[data-newer][data-code]")).to_have_count(0)
    expect(page.locator("[data-newer]")).to_have_count(block.locator("[data-newer]").count())
    top = block.evaluate("el => el.getBoundingClientRect().top + window.scrollY")
    bottoms = page.locator("#walk [data-code]:visible").evaluate_all(
        "elements => elements.map(el => el.getBoundingClientRect().bottom + window.scrollY)"
    )
    assert bottoms and max(bottoms) <= top + 1, (max(bottoms), top)


def assert_note_has_source_and_date(page: Page, code: str) -> None:
    note = page.locator(f'section.newer-guidance [data-newer="{code}"]')
    expect(note).to_be_visible()
    text = note.locator(".newer-text")
    assert text.inner_text().strip(), f"{code} has no text"
    source = " ".join(note.locator(".newer-source").inner_text().split())
    match = SOURCE_AND_DATE.fullmatch(source)
    assert match and match.group(1).strip(), f"{code}: {source!r}"


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_incidental_0_9cm_tumour_with_ki67_40_poorly_differentiated_is_resected_not_observed(
    new_context: Callable[..., BrowserContext],
    v2_snapshot: engine.Snapshot,
    screenshot: Screenshot,
    javascript: bool,
) -> None:
    page = new_context(viewport=DESKTOP, java_script_enabled=javascript).new_page()
    wizard, steps = walk(page, HIGH_GRADE_LOCALIZED)

    fields = asked(steps)
    # The grade is asked after the size; being found incidentally cannot change a high-grade result.
    size = fields.index("tumor_size_cm")
    assert fields[size + 1 : size + 4] == ["ki67_known", "ki67_percent", "differentiation"], fields
    assert "incidental" not in fields
    assert_page_shows_the_engine_result(wizard, v2_snapshot, HIGH_GRADE_LOCALIZED)
    assert wizard.outcome() == "surgery_body_tail"
    for code in ("nf.observation", "nf.imaging_6_months", "nf.formal_resection_lnd"):
        expect(page.locator(f'[data-code="{code}"]')).to_have_count(0)
    expect(page.locator('[data-code="nf.resection_consider_lnd"]')).to_be_visible()
    caution = page.locator('.cautions [data-code="caution.high_grade_localized"]')
    expect(caution).to_be_visible()
    expect(caution).to_contain_text(re.compile(r"observation", re.I))
    expect(page.locator('[data-code="followup.post_treatment"]')).to_be_visible()
    expect(page.locator('[data-code="followup.advanced_restaging"]')).to_have_count(0)
    expect(page.locator('[data-newer="newer.grade_before_surveillance"]')).to_have_count(0)
    assert_notes_follow_the_management(page)
    assert_note_has_source_and_date(page, "newer.nec_platinum_etoposide")
    expect(page.locator('[data-newer="newer.nec_platinum_etoposide"] a')).to_have_attribute(
        "href", "https://doi.org/10.1111/jne.13249"
    )
    # The trail keeps the grade the walk was given, with its unit.
    expect(wizard.trail_entry("ki67_percent")).to_contain_text("40")
    expect(wizard.trail_entry("differentiation")).to_contain_text(re.compile(r"poor", re.I))

    posts = wizard.traffic.posts()
    assert all(htmx is javascript for _, _, htmx, _ in posts[1:]), posts
    mode = "js" if javascript else "nojs"
    screenshot(page, f"v2-high-grade-localized-{mode}-1280")


def test_cytoreductive_surgery_for_a_tail_primary_adds_vaccination_and_restaging(
    page: Page, v2_snapshot: engine.Snapshot, screenshot: Screenshot
) -> None:
    wizard, steps = walk(page, CYTOREDUCTIVE_TAIL)

    fields = asked(steps)
    # Asked once cytoreductive surgery is offered, before the SSTR status (contract 6.3).
    liver = fields.index("liver_metastases")
    assert fields[liver + 1] == "tumor_location", fields
    assert_page_shows_the_engine_result(wizard, v2_snapshot, CYTOREDUCTIVE_TAIL)
    assert wizard.outcome() == "advanced_g12_stable"
    for code in (
        "adv.cytoreductive_surgery",
        "special.splenectomy_vaccination",
        "followup.advanced_restaging",
        "adv.ssa",
    ):
        expect(page.locator(f'[data-code="{code}"]')).to_be_visible()
    expect(page.locator('[data-code="followup.post_treatment"]')).to_have_count(0)
    restaging = page.locator('[data-code="followup.advanced_restaging"]')
    expect(restaging).to_contain_text(re.compile(r"3.6 months"))
    expect(restaging).not_to_contain_text(re.compile(r"late recurrence", re.I))
    vaccination = page.locator('[data-code="special.splenectomy_vaccination"]')
    vaccination.locator("details.rec-why summary").click()
    expect(vaccination.locator("details.rec-why")).to_contain_text("Pancreatic tail")
    assert_notes_follow_the_management(page)
    assert_note_has_source_and_date(page, "newer.asplenia_vaccines")
    expect(page.locator('[data-newer="newer.asplenia_vaccines"]')).to_contain_text("14 days")
    expect(wizard.trail_entry("tumor_location")).to_contain_text("Pancreatic tail")
    screenshot(page, "v2-cytoreductive-tail-1280")


def test_sstr_positive_progressive_g1_g2_shows_its_newer_guidance_after_the_management(
    page: Page, v2_snapshot: engine.Snapshot, screenshot: Screenshot
) -> None:
    wizard, _ = walk(page, SSTR_POSITIVE_PROGRESSIVE)

    assert_page_shows_the_engine_result(wizard, v2_snapshot, SSTR_POSITIVE_PROGRESSIVE)
    assert wizard.outcome() == "advanced_g12_progressive"
    for code in ("adv.ssa", "adv.everolimus_or_sunitinib", "followup.advanced_restaging"):
        expect(page.locator(f'[data-code="{code}"]')).to_be_visible()
    # Contract 6.5: PRRT with an analogue, CAPTEM and cabozantinib with everolimus or sunitinib,
    # hereditary screening on every complete walk; Ki-67 5 % is below the CLARINET limit.
    expected = {"newer.prrt", "newer.captem", "newer.cabozantinib", "newer.hereditary_screening"}
    notes = shown_notes(page)
    assert set(notes) == expected, notes
    assert len(notes) == len(expected)
    assert_notes_follow_the_management(page)
    for code in sorted(expected):
        assert_note_has_source_and_date(page, code)
    expect(page.locator('[data-newer="newer.prrt"]')).to_contain_text("NETTER-2")
    expect(page.locator('[data-newer="newer.captem"]')).to_contain_text("E2211")
    expect(page.locator('[data-newer="newer.cabozantinib"]')).to_contain_text("CABINET")
    block = page.locator("section.newer-guidance")
    assert block.evaluate("el => getComputedStyle(el).borderTopStyle") == "dashed"
    block.scroll_into_view_if_needed()
    screenshot(page, "v2-newer-guidance-sstr-positive-progressive-1280")
