"""The result reads plan first: one sentence naming the management, with the inputs that decided
it beside it, above everything else of the result and on screen without scrolling."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from .conftest import DESKTOP, PHONE, Screenshot
from .wizard import Wizard

pytestmark = pytest.mark.e2e

BODY_TUMOUR = {
    "suspected_syndrome": "none",
    "functional_status": "nonfunctioning",
    "disease_extent": "localized",
    "ki67_known": True,
    "tumor_size_cm": 2.5,
    "ki67_percent": 4,
    "tumor_location": "body",
}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_the_plan_and_its_deciding_inputs_come_first(
    new_context: Callable[..., BrowserContext],
    screenshot: Screenshot,
    viewport: dict[str, int],
    javascript: bool,
) -> None:
    page = new_context(viewport=viewport, java_script_enabled=javascript).new_page()
    wizard = Wizard(page)
    wizard.start()
    wizard.walk_case(BODY_TUMOUR)
    plan = page.locator("[data-plan]")
    expect(plan).to_have_text(
        "Plan: Formal resection with lymph node dissection; location-appropriate resection."
    )
    inputs = page.locator("[data-key-inputs]")
    expect(inputs.locator('[data-key="tumor_size_cm"]')).to_have_text("2.5 cm")
    expect(inputs.locator('[data-key="tumor_location"]')).to_contain_text("Pancreatic body")
    expect(inputs.locator('[data-key="disease_extent"]')).to_have_text("Localized and resectable")
    # Above everything else of the result, and on screen as the result opens.
    if javascript:
        expect(plan).to_be_focused()  # the page's heading: where focus lands after the swap
    plan_box = plan.bounding_box()
    assert (
        plan_box is not None
        and plan_box["y"] >= -1  # focus scrolls the heading to the top edge (sub-pixel)
        and plan_box["y"] + plan_box["height"] <= viewport["height"]
    )
    for later in ("[data-outcome]", ".cautions", ".rec-section"):
        box = page.locator(later).first.bounding_box()
        assert box is not None and box["y"] > plan_box["y"], later
    screenshot(page, f"result-plan-{viewport['width']}-{'js' if javascript else 'nojs'}")
