"""An editor finds a gap in a draft through the admin checklist, fixes it, and it is published."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from pathways import authoring
from pathways.models import EdgeCondition, PathwayVersion

pytestmark = pytest.mark.e2e

PASSWORD = "a-long-admin-password-1"


def test_editor_fixes_a_gap_and_publishes(page: Page, site_url: str) -> None:
    get_user_model().objects.create_superuser("editor", "editor@example.org", PASSWORD)
    published = PathwayVersion.objects.get(pathway__slug="pnet", status="published")
    draft = authoring.new_draft(published)
    slip = EdgeCondition.objects.get(edge__version=draft, edge__source__slug="ki67", edge__order=1, op="le")
    slip.op = "lt"
    slip.save()

    page.goto("/admin/login/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")

    page.goto(f"/admin/pathways/pathwayversion/{draft.pk}/change/")
    checklist = page.locator(".pathway-checklist")
    expect(checklist).to_contain_text("gap")
    expect(checklist).to_contain_text("ki67_percent = 20")
    page.get_by_role("link", name="Publish…").click()
    expect(page.locator(".errornote")).to_contain_text("cannot be published")
    expect(page.locator("[data-publish-form]")).to_have_count(0)

    page.locator(".pathway-checklist a", has_text="step “What is the Ki-67 index?”").first.click()
    expect(page).to_have_url(re.compile(r"/admin/pathways/node/\d+/change/"))
    page.locator("#out_edges-group a.inlinechangelink").first.click()  # edge #1 out of ki67
    expect(page).to_have_url(re.compile(r"/admin/pathways/edge/\d+/change/"))
    page.select_option('select[name="conditions-0-op"]', "le")
    page.click('input[name="_save"]')
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    page.goto(f"/admin/pathways/pathwayversion/{draft.pk}/publish/")
    # Version 2 cites no reference for its one resolution of a gap in the source: a warning only.
    expect(page.locator("#content")).to_contain_text("0 error(s), 1 warning(s)")
    expect(page.locator(".pathway-checklist .pathway-check-error")).to_have_count(0)
    expect(page.locator(".pathway-checklist .pathway-check-warning")).to_have_count(1)
    expect(page.locator(".pathway-check-warning")).to_contain_text("uncited-resolution")
    expect(page.locator("[data-publish-form]")).to_have_count(1)
    page.fill("textarea[name=note]", "Ki-67 of exactly 20 % is G2 again")
    # The gate's report for this content was made for the publish page: the click reuses it, and
    # so does the version's page it returns to (the change note is checked on top).
    page.click("[data-publish-form] input[type=submit]")
    expect(page.locator(".messagelist")).to_contain_text("is published")

    draft.refresh_from_db()
    published.refresh_from_db()
    assert (draft.status, published.status) == ("published", "retired")
    assert draft.note == "Ki-67 of exactly 20 % is G2 again"
