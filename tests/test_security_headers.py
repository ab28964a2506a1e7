"""Security headers on every kind of page: CSP, HSTS, framing, sniffing, referrer, caching."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.walking import OBSERVATION_CASE, step_url, walk_with

pytestmark = pytest.mark.django_db


def _directives(header: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def _pages(version) -> dict[str, tuple[str, str]]:
    start = walk_with(version, {})
    done = walk_with(version, OBSERVATION_CASE)
    return {
        "home": ("get", "/"),
        "intro": ("get", "/pathways/pnet/"),
        "step": ("get", step_url(start)),
        "result": ("get", f"/pathways/pnet/walks/{done.pk}/"),
        "api": ("post", "/api/pathways/pnet/evaluate"),
        "admin login": ("get", "/admin/login/"),
        "404": ("get", "/no-such-page/"),
    }


PAGE_KINDS = ["home", "intro", "step", "result", "api", "admin login", "404"]
NO_STORE_KINDS = {"intro", "step", "result", "admin login"}
EXPECTED_STATUS = {"404": 404}


@pytest.fixture
def responses(pnet_version) -> dict[str, object]:
    client = Client()
    answers = {}
    for kind, (method, url) in _pages(pnet_version).items():
        if method == "post":
            answers[kind] = client.post(
                url, data=b'{"suspected_syndrome": "none"}', content_type="application/json", secure=True
            )
        else:
            answers[kind] = client.get(url, secure=True)
    return answers


@pytest.mark.parametrize("kind", PAGE_KINDS)
def test_page_answers_as_expected(responses, kind):
    assert responses[kind].status_code == EXPECTED_STATUS.get(kind, 200)


@pytest.mark.parametrize("kind", PAGE_KINDS)
def test_csp_forbids_inline_and_eval_script_and_style(responses, kind):
    policy = _directives(responses[kind]["Content-Security-Policy"])
    for directive in ("script-src", "style-src", "default-src"):
        assert policy[directive] == ["'self'"], directive
    header = responses[kind]["Content-Security-Policy"]
    assert "unsafe-inline" not in header
    assert "unsafe-eval" not in header


@pytest.mark.parametrize("kind", PAGE_KINDS)
def test_csp_locks_framing_plugins_base_and_form_targets(responses, kind):
    policy = _directives(responses[kind]["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]


@pytest.mark.parametrize("kind", PAGE_KINDS)
def test_transport_and_browser_hardening_headers(responses, kind):
    response = responses[kind]
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.parametrize("kind", sorted(NO_STORE_KINDS))
def test_walk_and_admin_pages_are_never_stored(responses, kind):
    assert "no-store" in responses[kind]["Cache-Control"]


def test_admin_pages_behind_login_are_never_stored(pnet_version):
    User = get_user_model()
    User.objects.create_superuser("root", "root@example.org", "a-long-admin-password-1")
    client = Client()
    client.force_login(User.objects.get(username="root"))
    for url in ("/admin/", "/admin/pathways/walk/", "/admin/logout/"):
        response = client.get(url, secure=True)
        assert "no-store" in response.get("Cache-Control", ""), url


def test_plain_http_redirects_to_https_in_production(settings, pnet_version):
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get("/", secure=False)
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_session_and_csrf_cookies_are_secure_httponly_and_same_site(settings, pnet_version):
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    User = get_user_model()
    User.objects.create_superuser("root", "root@example.org", "a-long-admin-password-1")
    client = Client()
    page = client.get("/admin/login/", secure=True)
    csrf = page.cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"
    response = client.post(
        "/admin/login/",
        {"username": "root", "password": "a-long-admin-password-1", "next": "/admin/"},
        secure=True,
    )
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    # A shared workstation: the session dies with the browser and after a short idle time.
    assert session["max-age"] == ""
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE and settings.SESSION_SAVE_EVERY_REQUEST
    assert settings.SESSION_COOKIE_AGE <= 60 * 60


def test_walk_cookie_is_httponly_and_same_site(pnet_version):
    response = Client().post("/pathways/pnet/", secure=True)
    cookie = response.cookies["walk_pnet"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["secure"]


def test_base_template_configures_htmx_for_a_strict_csp(pnet_version):
    html = Client().get("/").content.decode()
    config = html.split('name="htmx-config" content=\'', 1)[1].split("'", 1)[0]
    parsed = json.loads(config)
    assert parsed["allowEval"] is False
    assert parsed["allowScriptTags"] is False
    assert parsed["includeIndicatorStyles"] is False
    assert parsed["historyCacheSize"] == 0


@pytest.mark.parametrize("kind", ["home", "intro", "step", "result", "admin login", "404"])
def test_pages_carry_no_inline_script_style_or_handlers(responses, kind):
    html = responses[kind].content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert not re.search(r"<style\b", html), "inline <style>"
    assert not re.search(r"\sstyle=", html), "style attribute"
    assert not re.search(r"\son[a-z]+=", html), "event handler attribute"
    assert "hx-on" not in html
