"""An editor changes a threshold in clinical words: finds the rule by searching "formal", types the
new size in the number control of the question, and the version's overview fits a 1,280 px screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from pathways import authoring
from pathways.models import EdgeCondition, PathwayVersion
from tests.conftest import PASSWORD, make_user
from tests.e2e.conftest import SCREENSHOTS, Screenshot

pytestmark = pytest.mark.e2e


def width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_editor_changes_the_formal_resection_threshold_with_the_number_control(
    page: Page, site_url: str, screenshot: Screenshot
) -> None:
    make_user("clinician-editor", superuser=True)
    published = PathwayVersion.objects.get(pathway__slug="pnet", status="published")
    draft = authoring.new_draft(published)
    authoring.check_version(draft)  # the gate's report is kept by content: the page reuses it

    page.goto("/admin/login/")
    page.fill("#id_username", "clinician-editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator(".pathway-index")).to_contain_text(f"Version {draft.number}")
    screenshot(page, "admin-index")

    page.goto(f"/admin/pathways/pathwayversion/{draft.pk}/change/")
    expect(page.locator(".pathway-stages")).to_contain_text("Tumour size over 2 cm → Formal resection")
    assert width(page) <= 1280
    screenshot(page, "admin-version-overview")
    page.screenshot(path=str(SCREENSHOTS / "admin-version-top.png"))

    page.goto(f"/admin/pathways/edge/?version__id__exact={draft.pk}")
    page.fill("#searchbar", "formal")
    page.press("#searchbar", "Enter")
    rule = page.locator("#result_list a", has_text=re.compile(r"^Tumour size over 2 cm → Formal resection"))
    rule.first.click()
    expect(page).to_have_url(re.compile(r"/admin/pathways/edge/\d+/change/"))
    number = page.locator("#conditions-group input.pathway-number")
    prefix = str(number.get_attribute("name")).removesuffix("-value")
    row = page.locator(f"#conditions-group tr.form-row:has(select[name='{prefix}-variable'])")
    expect(number).to_have_value("2.0")
    expect(row.locator(".pathway-unit")).to_have_text("cm")
    assert width(page) <= 1280
    screenshot(page, "admin-condition-form")

    # Another question draws its own control; choosing the size again brings the number back.
    variable = row.locator("select[name$='-variable']")
    size = variable.input_value()
    variable.select_option(label="Found incidentally")
    expect(row.locator("input[type=radio]")).to_have_count(2)
    variable.select_option(size)
    row.locator("input.pathway-number").fill("2.5")
    page.click('input[name="_save"]')
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    changed = EdgeCondition.objects.filter(edge__version=draft, variable__key="tumor_size_cm", value=2.5)
    assert changed.count() == 1 and changed.get().op == "gt"
    node = changed.get().edge.source
    page.goto(f"/admin/pathways/node/{node.pk}/change/")
    expect(page.locator(".pathway-rules")).to_contain_text("Tumour size over 2.5 cm → Formal resection")
    assert width(page) <= 1280
    screenshot(page, "admin-node-page")
