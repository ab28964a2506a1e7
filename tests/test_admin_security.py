"""Admin security: login lockout (django-axes), client address behind proxies, staff-only access."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client, RequestFactory

from pnetsite.client_ip import client_ip

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-admin-password-1"
LOGIN = "/admin/login/"


@pytest.fixture
def admin_user():
    return get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)


def login(client: Client, username: str, password: str, **extra: str):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"}, **extra)


def fail_times(client: Client, count: int, username: str = "root", **extra: str) -> None:
    for _ in range(count):
        response = login(client, username, "wrong-password", **extra)
        # The form again with its error; the failure that reaches the limit is already refused.
        assert response.status_code in {200, 429}


def test_five_failures_lock_the_account_even_with_the_right_password(admin_user, settings):
    client = Client()
    fail_times(client, settings.AXES_FAILURE_LIMIT)
    response = login(client, "root", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_lockout_ends_after_the_cool_off(admin_user, settings):
    client = Client()
    fail_times(client, settings.AXES_FAILURE_LIMIT)
    assert login(client, "root", PASSWORD).status_code == 429
    # An hour later (longer than the cool-off):
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= timedelta(hours=1)
        attempt.save(update_fields=["attempt_time"])
    response = login(client, "root", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_success_before_the_limit_resets_the_count(admin_user, settings):
    client = Client()
    fail_times(client, settings.AXES_FAILURE_LIMIT - 1)
    assert login(client, "root", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.exists()


def test_rotating_forwarded_for_does_not_bypass_the_lockout_without_a_proxy(admin_user, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    client = Client()
    for index in range(settings.AXES_FAILURE_LIMIT):
        login(client, f"guess{index}", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{index + 1}")
    response = login(client, "root", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.200")
    assert response.status_code == 429


def test_rotating_forwarded_for_does_not_bypass_the_lockout_behind_one_proxy(admin_user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client = Client()
    for index in range(settings.AXES_FAILURE_LIMIT):
        # The client forges the left part; the proxy appends the address it really saw.
        forwarded = f"203.0.113.{index + 1}, 198.51.100.7"
        login(client, f"guess{index}", "wrong", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    response = login(
        client, "root", PASSWORD, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7"
    )
    assert response.status_code == 429
    # Another clinician behind the same proxy is not locked out by this address's guesses.
    fresh = login(Client(), "root", PASSWORD, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert fresh.status_code == 302


def test_guessing_one_user_name_from_many_addresses_locks_that_user_name(admin_user, settings):
    for index in range(settings.AXES_FAILURE_LIMIT):
        login(Client(), "root", "wrong", REMOTE_ADDR=f"192.0.2.{index + 1}")
    assert login(Client(), "root", PASSWORD, REMOTE_ADDR="192.0.2.99").status_code == 429


@pytest.mark.parametrize(
    ("count", "remote", "forwarded", "expected"),
    [
        (0, "127.0.0.1", "6.6.6.6", "127.0.0.1"),
        (1, "10.0.0.2", "6.6.6.6, 198.51.100.7", "198.51.100.7"),
        (1, "10.0.0.2", "198.51.100.7", "198.51.100.7"),
        (2, "10.0.0.3", "6.6.6.6, 198.51.100.7, 10.0.0.2", "198.51.100.7"),
        (2, "10.0.0.3", "198.51.100.7", "10.0.0.3"),  # did not pass both proxies
        (1, "10.0.0.2", "not-an-address", "10.0.0.2"),
        (1, "10.0.0.2", "", "10.0.0.2"),
        (1, "10.0.0.2", "::ffff:1.2.3.4, 2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_address_trusts_only_the_configured_proxies(settings, count, remote, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_non_staff_user_cannot_sign_in_to_the_admin(db):
    get_user_model().objects.create_user("clinician", password=PASSWORD)
    client = Client()
    response = login(client, "clinician", PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_staff_without_permissions_sees_no_models_and_cannot_open_them(db):
    user = get_user_model().objects.create_user("editor", password=PASSWORD, is_staff=True)
    client = Client()
    client.force_login(user)
    index = client.get("/admin/")
    assert index.status_code == 200
    assert b"/admin/pathways/" not in index.content
    assert client.get("/admin/pathways/walk/").status_code == 403
    assert client.get("/admin/auth/user/").status_code == 403


def test_staff_with_view_permission_cannot_change(db, pnet_version):
    user = get_user_model().objects.create_user("viewer", password=PASSWORD, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_pathway"))
    client = Client()
    client.force_login(user)
    pathway = pnet_version.pathway
    assert client.get(f"/admin/pathways/pathway/{pathway.pk}/change/").status_code == 200
    slug = pathway.slug
    response = client.post(f"/admin/pathways/pathway/{pathway.pk}/change/", {"slug": "x"})
    assert response.status_code == 403
    pathway.refresh_from_db()
    assert pathway.slug == slug


def test_admin_is_not_reachable_from_another_origin(admin_user):
    client = Client(enforce_csrf_checks=True)
    page = client.get(LOGIN)
    token = page.context["csrf_token"]
    response = client.post(
        LOGIN,
        {"username": "root", "password": PASSWORD, "csrfmiddlewaretoken": str(token)},
        HTTP_ORIGIN="https://evil.example",
    )
    assert response.status_code == 403


@pytest.mark.parametrize("length", [151, 256, 5000])
def test_over_long_user_name_is_recorded_cut_and_counts_towards_the_lockout(db, settings, length):
    get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)
    client = Client()
    response = login(client, "x" * length, "wrong")
    assert response.status_code == 200
    attempt = AccessAttempt.objects.get()
    assert attempt.username == "x" * 150
    fail_times(client, settings.AXES_FAILURE_LIMIT - 1, username="x" * length)
    assert login(client, "root", PASSWORD).status_code == 429
