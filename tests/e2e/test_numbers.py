"""Numbers typed with the keyboard in Chromium are read as meant, whatever the browser's locale:
a decimal comma is a decimal point (a number field used to drop it: "1,5" became 15 cm), a
value typed in another unit is refused with the value in the asked unit, and a laboratory value
typed in one of its other common units is converted, and the next page says so."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from .conftest import Screenshot
from .wizard import Wizard

pytestmark = pytest.mark.e2e

TO_SIZE = {"suspected_syndrome": "none", "functional_status": "nonfunctioning", "disease_extent": "localized"}
COMBINATIONS = [("en-GB", True), ("de-DE", True), ("fr-FR", True), ("de-DE", False)]


def _at_size(
    new_context: Callable[..., BrowserContext], locale: str, javascript: bool
) -> tuple[Page, Wizard]:
    page = new_context(locale=locale, java_script_enabled=javascript).new_page()
    wizard = Wizard(page)
    wizard.start()
    for key, value in TO_SIZE.items():
        wizard.answer(**{key: value})
    expect(wizard.field("tumor_size_cm")).to_be_visible()
    return page, wizard


def _type(page: Page, wizard: Wizard, text: str, key: str = "tumor_size_cm") -> None:
    """Type into a number field with the keyboard and press Enter, as a clinician would."""
    field = wizard.field(key)
    field.focus()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(text)
    page.evaluate("document.getElementById('walk')?.setAttribute('data-e2e-stale', '')")
    page.keyboard.press("Enter")
    page.locator("#walk:not([data-e2e-stale])").wait_for(state="attached")
    wizard.settle()


@pytest.mark.parametrize(
    ("locale", "javascript"), COMBINATIONS, ids=[f"{loc}-js-{js}" for loc, js in COMBINATIONS]
)
def test_a_decimal_comma_typed_in_any_locale_routes_as_1_5_cm(
    new_context: Callable[..., BrowserContext], locale: str, javascript: bool
) -> None:
    from pathways.models import Walk

    page, wizard = _at_size(new_context, locale, javascript)
    assert wizard.field("tumor_size_cm").get_attribute("type") == "text"
    assert wizard.field("tumor_size_cm").get_attribute("inputmode") == "decimal"

    _type(page, wizard, "abc")  # said "This field is required" when the number field sent ""
    expect(page.locator(".invalid-feedback")).to_contain_text("Enter a plain number")

    _type(page, wizard, "15 mm")
    expect(page.locator(".invalid-feedback")).to_contain_text("Enter the value in cm: 15 mm is 1.5 cm.")
    assert Walk.objects.get().answers.get("tumor_size_cm") is None

    _type(page, wizard, "1,5")
    expect(wizard.field("tumor_size_cm")).to_have_count(0)
    assert Walk.objects.get().answers["tumor_size_cm"] == 1.5
    # The value that routed the walk is shown back with its unit.
    expect(wizard.trail_entry("tumor_size_cm")).to_contain_text(re.compile(r"1[.,]5\s*cm"))


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_a_size_far_beyond_the_thresholds_is_confirmed_before_it_routes(
    new_context: Callable[..., BrowserContext], javascript: bool
) -> None:
    from pathways.models import Walk

    page, wizard = _at_size(new_context, "en-GB", javascript)
    _type(page, wizard, "15")  # "15" meant as millimetres used to route as 15 cm at once
    expect(page.locator(".invalid-feedback")).to_contain_text(
        "15 cm is more than five times the largest threshold for Tumour size in this pathway (2 cm)"
    )
    assert Walk.objects.get().answers.get("tumor_size_cm") is None
    box = page.get_by_label("Yes, 15 cm is right")
    expect(box).not_to_be_checked()
    box.focus()
    page.keyboard.press("Space")
    page.evaluate("document.getElementById('walk')?.setAttribute('data-e2e-stale', '')")
    page.get_by_role("button", name="Continue").press("Enter")
    page.locator("#walk:not([data-e2e-stale])").wait_for(state="attached")
    wizard.settle()
    expect(wizard.field("tumor_size_cm")).to_have_count(0)
    assert Walk.objects.get().answers["tumor_size_cm"] == 15
    expect(wizard.trail_entry("tumor_size_cm")).to_contain_text("15 cm")


@pytest.mark.parametrize(
    ("locale", "javascript", "width"),
    [("de-DE", True, 1280), ("de-DE", False, 1280), ("en-GB", True, 390)],
    ids=["de-DE-js-on-1280", "de-DE-js-off-1280", "en-GB-js-on-390"],
)
def test_glucose_typed_in_mmol_l_is_recorded_in_mg_dl_and_the_next_page_says_so(
    new_context: Callable[..., BrowserContext],
    screenshot: Screenshot,
    locale: str,
    javascript: bool,
    width: int,
) -> None:
    from pathways.models import Walk

    page = new_context(
        locale=locale, java_script_enabled=javascript, viewport={"width": width, "height": 900}
    ).new_page()
    wizard = Wizard(page)
    wizard.start()
    wizard.answer(suspected_syndrome="insulinoma")
    expect(wizard.field("glucose_mg_dl")).to_be_visible()
    expect(page.locator("body")).to_contain_text("Also accepted, converted: mmol/L (1 mmol/L = 18.016 mg/dL)")
    wizard.fill({"functional_status": "insulinoma"})
    _type(page, wizard, "2,4 mmol/L", key="glucose_mg_dl")
    expect(wizard.field("glucose_mg_dl")).to_have_count(0)
    assert Walk.objects.get().answers["glucose_mg_dl"] == 43.24
    expect(page.locator("[data-converted]")).to_contain_text(
        "Glucose: 2.4 mmol/L is 43.24 mg/dL (1 mmol/L = 18.016 mg/dL;"
    )
    expect(wizard.trail_entry("glucose_mg_dl")).to_contain_text(re.compile(r"43[.,]24\s*mg/dL"))
    screenshot(page, f"glucose-converted-{locale}-js-{javascript}-{width}")
