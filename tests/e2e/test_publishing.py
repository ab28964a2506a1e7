"""An editor moves formal resection from > 2 cm to > 2.5 cm in a draft of version 2: the publish page
lists the texts that still state 2 cm, shows the text fixed word by word, says it is publishing, and
clinicians then read what is new."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from pathways import authoring
from pathways.models import EdgeCondition, PathwayVersion, Recommendation, SafetyRuleCondition
from tests.conftest import EDITORS, PASSWORD, PUBLISHERS, make_user

pytestmark = pytest.mark.e2e

RECORD_PUBLISHING = """
document.addEventListener("submit", function () {
  var status = document.querySelector("[data-publish-status]");
  var button = document.querySelector("[data-publish-button]");
  sessionStorage.setItem("publishing", JSON.stringify({
    status: status.textContent, live: status.getAttribute("aria-live"),
    value: button.value, disabled: button.disabled,
  }));
});
"""
NOTE = "Formal resection now over 2.5 cm; the size texts were reviewed."


def move_formal_resection(draft: PathwayVersion) -> None:
    for model, version_field in ((EdgeCondition, "edge__version"), (SafetyRuleCondition, "rule__version")):
        for condition in model.objects.filter(**{version_field: draft}, variable__key="tumor_size_cm"):
            if condition.value == 2.0:
                condition.value = 2.5
                condition.save()


def test_editor_confirms_stale_texts_sees_the_word_diff_and_publishes(
    page: Page, new_context: Any, screenshot: Any
) -> None:
    make_user("editor", EDITORS, PUBLISHERS)
    published = PathwayVersion.objects.get(pathway__slug="pnet", status="published")
    draft = authoring.new_draft(published)
    move_formal_resection(draft)
    caution = Recommendation.objects.get(version=draft, code="caution.small_tumor_malignant_potential")
    caution.text = caution.text.replace("1-2 cm", "1-2.5 cm")  # one text fixed; the rest to confirm
    caution.save()

    page.goto("/admin/login/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    # What the page says once the form is sent, read as the browser leaves it (kept for this tab).
    page.add_init_script(RECORD_PUBLISHING)
    page.goto(f"/admin/pathways/pathwayversion/{draft.pk}/publish/")

    stale = page.locator("[data-stale-texts] [data-stale]")
    expect(stale).to_have_count(7)
    expect(page.locator("[data-stale-texts]")).to_contain_text(
        "The step “Resection for a nonfunctioning tumour of 2 cm or less” (title) states"
    )
    expect(page.locator("[data-stale-texts]")).not_to_contain_text("nf_small_resection")
    expect(page.locator("[data-stale-texts]")).to_contain_text("1-2 cm")
    expect(page.locator("[data-stale-texts]")).not_to_contain_text("caution.small_tumor_malignant_potential")
    words = page.locator("[data-word-diff]", has=page.locator("ins", has_text="1-2.5"))
    expect(words.locator("del")).to_have_text(["1-2"])
    screenshot(page, "publish-stale-texts-and-word-diff")

    for box in page.locator("[data-stale-texts] input[name=confirm]").all():
        box.check()
    page.fill("textarea[name=note]", NOTE)
    started = time.perf_counter()
    page.locator("[data-publish-button]").click()
    expect(page.locator(".messagelist")).to_contain_text("is published")
    print(f"\npublish in the browser: {time.perf_counter() - started:.2f} s from the click to the next page")
    seen = json.loads(page.evaluate("sessionStorage.getItem('publishing')"))
    assert seen == {
        "status": "Publishing… running the publish gate and retiring the previous version.",
        "live": "polite",
        "value": "Publishing…",
        "disabled": True,
    }
    draft.refresh_from_db()
    assert draft.status == "published" and len(draft.confirmed_texts) == 7

    clinician = new_context().new_page()
    clinician.goto("/pathways/pnet/")
    whats_new = clinician.locator("[data-whats-new]")
    expect(whats_new).to_contain_text(f"What's new in version {draft.number}")
    expect(whats_new).to_contain_text(NOTE)
    screenshot(clinician, "start-page-whats-new")
