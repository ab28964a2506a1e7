"""Small things a clinic desk notices: Change targets big enough to hit on a phone, a focus ring
that can be seen, and a favicon."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from .conftest import PHONE
from .wizard import Wizard

pytestmark = pytest.mark.e2e


def test_change_links_are_24_px_targets_and_the_focus_ring_is_visible_on_a_phone(
    new_context: Callable[..., BrowserContext],
) -> None:
    page = new_context(viewport=PHONE).new_page()
    wizard = Wizard(page)
    wizard.start()
    wizard.answer(suspected_syndrome="none")
    wizard.answer(functional_status="nonfunctioning")
    change = page.locator('[data-change="suspected_syndrome"]')
    box = change.bounding_box()
    assert box is not None and box["width"] >= 24 and box["height"] >= 24, box
    change.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # focused from the keyboard: :focus-visible applies
    expect(change).to_be_focused()
    ring = change.evaluate(
        "element => { const style = getComputedStyle(element);"
        " return [style.outlineStyle, parseFloat(style.outlineWidth), style.outlineColor]; }"
    )
    assert ring[0] == "solid" and ring[1] >= 2, ring
    # #0b5ed7 on white is 5.7:1 (at least 3:1 is needed).
    assert ring[2] == "rgb(11, 94, 215)", ring


def test_every_page_has_a_favicon_that_is_served(new_context: Callable[..., BrowserContext]) -> None:
    page = new_context().new_page()
    page.goto("/")
    href = page.locator("link[rel=icon]").get_attribute("href")
    assert href and href.endswith(".svg")
    response = page.request.get(href)
    assert response.status == 200 and "svg" in response.headers["content-type"]
