"""Injected content in a real browser: no dialog fires, no element or request is injected,
and the strict Content Security Policy holds for the app's own pages (no violations)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page

from pathways.content_io import import_document
from tests.test_sanitising import hostile_document
from tests.walking import OBSERVATION_CASE, walk_with

pytestmark = pytest.mark.e2e

# Every element or attribute the attacks try to smuggle in, looked for in the rendered content.
INJECTED = (
    "script:not([src]), iframe, object, embed, img, svg, style, form:not([data-step]):not([method=post]),"
    " base, meta[http-equiv], [onerror], [onload], [onclick], [onmouseover], [style],"
    " [hx-get], [hx-post], [hx-trigger], [data-hx-get], [data-hx-trigger],"
    " a[href^='javascript' i], a[href^='data' i], a[href^='vbscript' i]"
)


class Watch:
    """What a page did that an attack would cause: dialogs, CSP violations, stray requests."""

    def __init__(self, page: Page) -> None:
        self.dialogs: list[str] = []
        self.violations: list[str] = []
        self.requests: list[str] = []
        page.on("dialog", self._dialog)
        page.on("console", self._console)
        page.on("request", lambda request: self.requests.append(request.url))

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.violations.append(message.text)


@pytest.fixture
def watched(page: Page) -> Iterator[tuple[Page, Watch]]:
    watch = Watch(page)
    page.add_init_script(
        "window.addEventListener('securitypolicyviolation', e => "
        "console.error('Content Security Policy violation: ' + e.violatedDirective));"
    )
    yield page, watch


@pytest.fixture
def hostile(site_url: str) -> Any:
    return import_document(hostile_document(), status="published")


def assert_nothing_injected(page: Page, watch: Watch) -> None:
    page.wait_for_timeout(300)  # let any load-triggered handler or htmx request fire
    assert watch.dialogs == []
    injected = page.evaluate(
        "selector => Array.from(document.querySelectorAll('.rec-text, .node-body'))"
        ".flatMap(box => Array.from(box.querySelectorAll(selector))).map(el => el.outerHTML)",
        INJECTED,
    )
    assert injected == []
    assert page.evaluate("() => window.pwned === undefined")
    assert not [url for url in watch.requests if "/admin" in url or "evil.example" in url]


def test_hostile_step_page_runs_nothing(watched, hostile, site_url):
    page, watch = watched
    page.goto(f"{site_url}/pathways/pnet/")
    page.locator("form[data-step] button[type=submit]").click()
    page.wait_for_selector(".node-body")
    assert page.locator(".node-body[hx-disable]").count() == 1
    assert_nothing_injected(page, watch)


def test_hostile_result_page_runs_nothing(watched, hostile, site_url):
    page, watch = watched
    walk = walk_with(hostile, OBSERVATION_CASE)
    page.goto(f"{site_url}/pathways/pnet/walks/{walk.pk}/")
    page.wait_for_selector("[data-outcome]")
    assert page.locator(".rec-text[hx-disable]").count() >= 5
    assert_nothing_injected(page, watch)


def test_htmx_ignores_attributes_that_reach_rendered_markdown(watched, hostile, site_url):
    """Defence in depth: even an hx-* attribute that got past the sanitiser would do nothing."""
    page, watch = watched
    walk = walk_with(hostile, OBSERVATION_CASE)
    page.goto(f"{site_url}/pathways/pnet/walks/{walk.pk}/")
    page.wait_for_selector("[data-outcome]")
    page.evaluate(
        """() => {
            const box = document.querySelector('.rec-text');
            const el = document.createElement('button');
            el.id = 'smuggled';
            el.setAttribute('hx-get', '/admin/');
            el.setAttribute('hx-trigger', 'click');
            box.appendChild(el);
            htmx.process(el);
            el.click();
        }"""
    )
    page.wait_for_timeout(500)
    assert not [url for url in watch.requests if "/admin" in url]


def test_app_pages_hold_the_strict_policy_without_violations(watched, site_url):
    """Bootstrap and htmx work under the strict CSP: a whole walk raises no violation."""
    page, watch = watched
    page.goto(f"{site_url}/")
    page.goto(f"{site_url}/pathways/pnet/")
    page.locator("form[data-step] button[type=submit]").click()
    page.wait_for_selector("form[data-step] input[name=suspected_syndrome]")
    page.locator("input[name=suspected_syndrome][value=none]").check()
    page.locator("form[data-step] button[type=submit]").click()
    page.wait_for_selector("input[name=functional_status]")
    # Bootstrap's stylesheet applied (a primary button is not the browser default).
    colour = page.evaluate("() => getComputedStyle(document.querySelector('.btn-primary')).backgroundColor")
    assert colour not in {"rgba(0, 0, 0, 0)", "rgb(239, 239, 239)", ""}
    # htmx was configured not to inject its indicator style element.
    assert page.evaluate("() => document.querySelectorAll('style').length") == 0
    assert watch.violations == []
    assert watch.dialogs == []
    # Control: the policy is enforced and the watch sees it (an inline script is refused).
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.pwned = 1';"
        " document.body.appendChild(s); }"
    )
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.pwned === undefined")
    assert any("script-src" in violation for violation in watch.violations), watch.violations


def test_publisher_previewing_a_hostile_draft_publishes_nothing(watched, site_url):
    """Markup in a draft's help text, label, unit and choice labels that would post to the publish
    URL when loaded (with the form's CSRF token) stays text: no request, nothing published."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission

    from pathways import authoring
    from pathways.models import PathwayVersion, Variable

    page, watch = watched
    published = PathwayVersion.objects.get(pathway__slug="pnet", status="published")
    draft = authoring.new_draft(published)
    publish_path = f"/admin/pathways/pathwayversion/{draft.pk}/publish/"
    attack = (
        f'<span class="smuggled" hx-post="{publish_path}" hx-trigger="load" '
        f'hx-vals=\'{{"note": "smuggled"}}\'>x</span>'
    )
    for variable in Variable.objects.filter(version=draft):
        variable.help_text = f"{variable.help_text} {attack}"
        # A label holds at most 120 characters: the same attack without its hx-vals.
        short = f'<i class="smuggled" hx-post="{publish_path}" hx-trigger="load">x</i>'
        variable.label = f"{variable.label[:12]} {short}"
        assert len(variable.label) <= Variable._meta.get_field("label").max_length
        variable.choices = [[value, f"{label} {attack}"] for value, label in variable.choices]
        variable.save()
    publisher = get_user_model().objects.create_user("pub", password=PUBLISHER_PASSWORD, is_staff=True)
    # The role as the authoring migration defines it (an earlier browser test may have flushed it).
    publishers, _ = Group.objects.get_or_create(name="Pathway publishers")
    publishers.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="pathways",
            codename__in=["view_pathwayversion", "change_pathwayversion", "publish_pathwayversion"],
        )
    )
    publisher.groups.add(publishers)

    page.goto(f"{site_url}/admin/login/")
    page.fill("#id_username", "pub")
    page.fill("#id_password", PUBLISHER_PASSWORD)
    page.click("input[type=submit]")
    page.goto(f"{site_url}/admin/pathways/pathwayversion/{draft.pk}/change/")
    with page.context.expect_page() as opened:
        page.locator("form[action$='/preview/'] button[type=submit]").click()
    preview = opened.value
    preview.on("request", lambda request: watch.requests.append(request.url))
    preview.wait_for_selector("form[data-step] input[name=suspected_syndrome]")
    preview.wait_for_timeout(800)  # htmx would have fired its load trigger by now
    assert not [url for url in watch.requests if "/publish/" in url]
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert preview.locator(".smuggled").count() == 0
    assert "hx-post=" in preview.locator("form[data-step]").inner_text()  # shown as text
    # A choice and the step's own form still work through htmx.
    preview.locator("input[name=suspected_syndrome][value=none]").check()
    preview.locator("form[data-step] button[type=submit]").click()
    preview.wait_for_selector("input[name=functional_status]")
    preview.wait_for_timeout(800)
    assert preview.locator(".smuggled").count() == 0
    assert not [url for url in watch.requests if "/publish/" in url]
    draft.refresh_from_db()
    published.refresh_from_db()
    assert (draft.status, published.status) == ("draft", "published")


PUBLISHER_PASSWORD = "a-long-publisher-password-1"
