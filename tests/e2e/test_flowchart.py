"""The flowchart page in Chromium: it opens on the walk's current step at desktop and phone width,
and axe finds nothing wrong with it, the names of its links included (WCAG 2.5.3)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, FloatRect, expect

from .conftest import DESKTOP, Screenshot
from .test_clinician import AXE, AXE_TAGS
from .wizard import Wizard

pytestmark = pytest.mark.e2e

PHONE_390 = {"width": 390, "height": 844}
# label-content-name-mismatch (WCAG 2.5.3) is one of axe's experimental rules: on only when asked.
NAME_RULE = "label-content-name-mismatch"


def assert_in_view(frame: FloatRect | None, box: FloatRect | None) -> None:
    assert frame is not None and box is not None
    assert frame["x"] <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"], (frame, box)
    assert frame["y"] <= box["y"] and box["y"] + box["height"] <= frame["y"] + frame["height"], (frame, box)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE_390], ids=["desktop-1280", "phone-390"])
def test_the_flowchart_opens_on_the_current_step_and_axe_finds_no_violation(
    new_context: Callable[..., BrowserContext], screenshot: Screenshot, viewport: dict[str, int]
) -> None:
    # axe is injected as an inline script, which the Content Security Policy rightly blocks.
    page = new_context(viewport=viewport, bypass_csp=True).new_page()
    wizard = Wizard(page)
    wizard.start()
    wizard.answer(suspected_syndrome="none")
    wizard.answer(functional_status="nonfunctioning")
    wizard.answer(disease_extent="metastatic")
    wizard.answer(ki67_percent="10")
    wizard.answer(liver_metastases="none")
    wizard.answer(sstr_status="negative")
    assert wizard.field_names() == ["progressive"]
    walk = re.search(r"/walks/([0-9a-f-]+)/", page.url)
    assert walk is not None
    page.goto(f"/pathways/pnet/walks/{walk.group(1)}/flowchart/")

    scroller = page.locator(".flowchart-scroll")
    current = page.locator("svg.flowchart .fc-node.current rect")
    expect(current).to_have_count(1)
    assert_in_view(scroller.bounding_box(), current.bounding_box())
    screenshot(page, f"flowchart-page-{viewport['width']}")

    # Without JavaScript the step's "Open the flowchart" link opens the chart on the current step too.
    plain = new_context(viewport=viewport, java_script_enabled=False).new_page()
    plain.goto(page.url.replace("/flowchart/", "/steps/met_progressive/"))
    plain.locator("details.flowchart-details summary").click()
    plain.get_by_role("link", name="Open the flowchart").click()
    expect(plain.locator("h1")).to_have_text("Flowchart of the pathway, with your path")
    assert_in_view(
        plain.locator(".flowchart-scroll").bounding_box(),
        plain.locator("svg.flowchart .fc-node.current rect").bounding_box(),
    )

    page.add_script_tag(path=str(AXE))
    options = {
        "runOnly": {"type": "tag", "values": AXE_TAGS},
        "rules": {NAME_RULE: {"enabled": True}},
        "resultTypes": ["violations"],
    }
    results = page.evaluate("async (options) => await axe.run(document, options)", options)
    checked = {rule["id"] for kind in ("passes", "incomplete", "violations") for rule in results[kind]}
    assert NAME_RULE in checked, "axe did not check the names of the links"
    summary = [f"{v['id']}: {[n['target'] for n in v['nodes'][:3]]}" for v in results["violations"]]
    assert not results["violations"], "\n".join(summary)
