"""Screenshots of the wizard's pages at a desktop and a phone width, for people to look at.

The pictures land in test-artifacts/screenshots/; the test itself checks that no page needs
sideways scrolling at either width and that focus lands on the new step after an htmx swap.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .conftest import DESKTOP, PHONE, Screenshot
from .wizard import Wizard

pytestmark = pytest.mark.e2e

SCREENS = {"desktop-1280": DESKTOP, "phone-375": PHONE}


def capture(page: Page, screenshot: Screenshot, name: str) -> None:
    """Screenshot the page at every width, checking that none of them scrolls sideways."""
    for screen, size in SCREENS.items():
        page.set_viewport_size(size)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= size["width"], f"{name} scrolls sideways at {screen}: {scroll_width}px"
        screenshot(page, f"{screen}-{name}")
    page.set_viewport_size(DESKTOP)


def test_intro_step_error_and_result_fit_desktop_and_phone_screens(
    page: Page, screenshot: Screenshot
) -> None:
    wizard = Wizard(page)
    page.goto("/pathways/pnet/")
    capture(page, screenshot, "1-intro")

    wizard.start()
    wizard.answer(suspected_syndrome="insulinoma")
    expect(page.locator("#step-title")).to_be_focused()
    capture(page, screenshot, "2-step")

    wizard.answer(functional_status="insulinoma")
    wizard.answer(sstr_status="negative")
    wizard.answer(disease_extent="localized")
    wizard.answer(tumor_size_cm="31")
    expect(wizard.field("tumor_size_cm")).to_have_attribute("aria-invalid", "true")
    capture(page, screenshot, "3-error")

    wizard.answer(tumor_size_cm="1.2")
    wizard.answer(tumor_location="body")
    expect(page.locator("[data-outcome]")).to_be_visible()
    expect(page.locator('[data-code="caution.ssa_insulinoma_sstr_negative"]')).to_be_visible()
    expect(page.locator('[data-code="special.splenectomy_vaccination"]')).to_be_visible()
    capture(page, screenshot, "4-result")
