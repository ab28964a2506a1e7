"""Newer-guidance notes in Chromium: a distinct block after the management, one line each in
print, named on one line of the copied text, and hostile note content that runs nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from pathways.content_io import import_document, load_bundled
from tests.test_guidance_notes import HOSTILE, NOTES, POOR_G3_CASE, with_notes

from .conftest import Screenshot
from .wizard import Wizard

pytestmark = pytest.mark.e2e


def test_result_shows_newer_guidance_after_the_management_in_screen_print_and_text(
    new_context: Callable[..., BrowserContext], screenshot: Screenshot
) -> None:
    import_document(with_notes(load_bundled("pnet"), [*NOTES, HOSTILE]), status="published")
    context = new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    wizard = Wizard(page)
    wizard.start()
    wizard.walk_case(POOR_G3_CASE)
    assert wizard.outcome() == "advanced_g3_poor"

    block = page.locator("section.newer-guidance")
    expect(block.get_by_role("heading")).to_have_text("Newer guidance differs from the source here")
    shown = block.locator("[data-newer]")
    expect(shown).to_have_count(3)
    assert [shown.nth(i).get_attribute("data-newer") for i in range(3)] == [
        "newer.hereditary_screening",
        "newer.nec_platinum_etoposide",
        "newer.hostile",
    ]
    assert block.locator("[data-code]").count() == 0
    # After the management, and visibly set apart from the recommendations.
    management = page.locator('[data-code="adv.chemotherapy_g3"]').bounding_box()
    assert management and block.bounding_box()["y"] > management["y"]
    assert block.evaluate("el => getComputedStyle(el).borderTopStyle") == "dashed"
    nec = block.locator('[data-newer="newer.nec_platinum_etoposide"]')
    expect(nec).to_contain_text("checked 1 December 2026")
    link = nec.get_by_role("link")
    expect(link).to_have_attribute("href", "https://doi.org/10.1111/jne.13249")
    expect(link).to_have_attribute("rel", "noopener")
    hostile = block.locator('[data-newer="newer.hostile"]')
    expect(hostile).to_contain_text('<b onmouseover="window.pwned=1">Evil</b> & co')
    assert hostile.locator("script, img, b, [onmouseover], a[href^='javascript' i]").count() == 0
    hostile.hover()
    screenshot(page, "newer-guidance-screen")

    page.emulate_media(media="print")
    expect(block).to_be_visible()
    expect(block.locator(".newer-intro")).to_be_hidden()
    for index in range(3):
        note = shown.nth(index)
        line = note.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)")
        assert note.bounding_box()["height"] < 1.6 * line, note.get_attribute("data-newer")
    screenshot(page, "newer-guidance-print")
    page.emulate_media(media="screen")

    page.get_by_role("button", name="Copy as text").click()
    expect(page.locator(".copy-status")).to_contain_text("Copied")
    text = page.evaluate("navigator.clipboard.readText()")
    # One line of the note names the newer guidance's sources, as plain text.
    lines = [
        line for line in text.splitlines() if line.startswith("Newer guidance differs from the source here: ")
    ]
    assert len(lines) == 1, text
    assert "Sorbye et al., J Neuroendocrinol 2023;35:e13249" in lines[0]
    assert '<b onmouseover="window.pwned=1">Evil</b> & co' in lines[0]
    assert page.evaluate("() => window.pwned === undefined") and dialogs == []
