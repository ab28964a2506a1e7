"""The admin works under the strict Content Security Policy: no violations on its main pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page

from pathways.models import PathwayVersion, Recommendation

pytestmark = pytest.mark.e2e

PASSWORD = "a-long-admin-password-1"


@pytest.fixture
def violations(page: Page) -> list[str]:
    found: list[str] = []
    page.add_init_script(
        "window.addEventListener('securitypolicyviolation', e => "
        "console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile));"
    )
    page.on(
        "console", lambda message: found.append(message.text) if "CSP violation" in message.text else None
    )
    return found


def test_admin_pages_raise_no_csp_violation(page: Page, violations: list[str], site_url: str) -> None:
    get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)
    version: Any = PathwayVersion.objects.filter(pathway__slug="pnet", status="published").first()
    rec = Recommendation.objects.filter(version=version).first()
    page.goto(f"{site_url}/admin/login/")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", PASSWORD)
    page.locator("input[type=submit], button[type=submit]").first.click()
    page.wait_for_url(f"{site_url}/admin/")
    for path in (
        "/admin/",
        "/admin/pathways/pathwayversion/",
        f"/admin/pathways/pathway/{version.pathway.pk}/change/",
        f"/admin/pathways/recommendation/{rec.pk}/change/",
        "/admin/pathways/walk/",
        "/admin/auth/user/add/",
    ):
        response = page.goto(f"{site_url}{path}", timeout=30_000)
        assert response is not None and response.status == 200, path
        page.wait_for_timeout(200)
    assert violations == []
