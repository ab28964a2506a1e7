"""Bad input and attacks through the wizard, the API and the admin.

Each case asserts the safe behaviour: a clear message, nothing changed, never a 500.
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from pathways.content_io import import_document, load_bundled
from pathways.models import Pathway, Walk
from tests.walking import csrf_token_from, current_step, step_url, walk_with

pytestmark = pytest.mark.django_db

AT_SIZE = {"suspected_syndrome": "none", "functional_status": "nonfunctioning", "disease_extent": "localized"}
HTMX = {"HTTP_HX_REQUEST": "true"}
API = "/api/pathways/pnet/evaluate"


def snapshot_of(walk: Walk) -> tuple[dict[str, Any], int, Any]:
    walk.refresh_from_db()
    return dict(walk.answers), walk.revision, walk.completed_at


def post_step(client: Client, walk: Walk, data: dict[str, Any] | str, node: str | None = None, **extra: Any):
    if isinstance(data, dict):
        data = {"revision": walk.revision, **data}
    return client.post(step_url(walk, node), data, **extra)


@pytest.fixture
def size_walk(pnet_version) -> Walk:
    walk = walk_with(pnet_version, AT_SIZE)
    assert current_step(walk) == "size"
    return walk


@pytest.fixture
def first_walk(pnet_version) -> Walk:
    walk = walk_with(pnet_version, {})
    assert current_step(walk) == "syndrome"
    return walk


# --- Wizard: numbers -------------------------------------------------------------------------

BAD_NUMBERS = {
    "negative": "-1",
    "zero where the minimum is exclusive": "0",
    "above the maximum": "31",
    "far above the maximum": "99999999999999999999999",
    "nan": "nan",
    "NaN": "NaN",
    "inf": "inf",
    "Infinity": "Infinity",
    "minus infinity": "-inf",
    "exponent": "1e1",
    "negative exponent": "15E-1",
    "arabic-indic digits": "\u0661\u066b\u0665",
    "full-width digit": "\uff12",
    "superscript digit": "\u00b2",
    "devanagari digit": "\u0968",
    "comma and point": "1,5.0",
    "two commas": "1,5,0",
    "thousands separator": "1,000",
    "hexadecimal": "0x1",
    "underscore": "1_0",
    "blank": "",
    "spaces only": "   ",
    "two decimal points": "1.2.3",
    "millimetres": "15 mm",
    "another unit": "2 in",
    "trailing text": "2 cm please",
    "very long": "1" * 500,
    "NUL byte": "1\x00",
    "bell character": "1\x07",
    "zero-width space": "1\u200b",
    "SQL injection": "1; DROP TABLE pathways_walk; --",
}


@pytest.mark.parametrize("name", sorted(BAD_NUMBERS))
def test_bad_number_is_refused_with_a_message_and_changes_nothing(client, size_walk, name):
    before = snapshot_of(size_walk)
    response = post_step(client, size_walk, {"tumor_size_cm": BAD_NUMBERS[name]})
    assert response.status_code == 422
    page = response.content.decode()
    assert "Nothing was saved" in page
    assert 'class="invalid-feedback' in page
    assert snapshot_of(size_walk) == before


@pytest.mark.parametrize(("typed", "stored"), [("1,5", 1.5), ("1.5 cm", 1.5), ("0,9", 0.9)])
def test_a_decimal_comma_or_the_asked_unit_is_read_as_meant(client, size_walk, typed, stored):
    response = post_step(client, size_walk, {"tumor_size_cm": typed})
    assert response.status_code == 303
    size_walk.refresh_from_db()
    assert size_walk.answers["tumor_size_cm"] == stored


def test_millimetres_are_refused_with_the_size_in_centimetres(client, size_walk):
    before = snapshot_of(size_walk)
    response = post_step(client, size_walk, {"tumor_size_cm": "15 mm"})
    assert response.status_code == 422
    assert "Enter the value in cm: 15 mm is 1.5 cm." in response.content.decode()
    assert snapshot_of(size_walk) == before


def test_bad_number_through_htmx_answers_the_partial_with_422(client, size_walk):
    before = snapshot_of(size_walk)
    response = post_step(client, size_walk, {"tumor_size_cm": "NaN"}, **HTMX)
    assert response.status_code == 422
    assert "<html" not in response.content.decode()
    assert snapshot_of(size_walk) == before


def test_boundary_numbers_are_accepted(client, size_walk):
    # 30 cm, the maximum, is far beyond the pathway's thresholds: it routes once confirmed.
    response = post_step(client, size_walk, {"tumor_size_cm": " 30 ", "confirm_tumor_size_cm": "30"})
    assert response.status_code == 303
    size_walk.refresh_from_db()
    assert size_walk.answers["tumor_size_cm"] == 30


# --- Wizard: choices, booleans, keys -----------------------------------------------------------

BAD_CHOICES = {
    "not offered": "carcinoid",
    "other case": "NONE",
    "trailing zero-width space": "none\u200b",
    "trailing NUL": "none\x00",
    "right-to-left override": "\u202enone",
    "HTML": "<script>alert(1)</script>",
    "very long": "none" * 1000,
}


@pytest.mark.parametrize("name", sorted(BAD_CHOICES))
def test_choice_not_offered_is_refused(client, first_walk, name):
    before = snapshot_of(first_walk)
    response = post_step(client, first_walk, {"suspected_syndrome": BAD_CHOICES[name]})
    assert response.status_code == 422
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert snapshot_of(first_walk) == before


@pytest.mark.parametrize("value", ["yes", "1", "True", "on", ""])
def test_boolean_accepts_only_true_or_false(client, pnet_version, value):
    walk = walk_with(pnet_version, {**AT_SIZE, "tumor_size_cm": 0.9, "ki67_known": False})
    assert current_step(walk) == "incidental"
    before = snapshot_of(walk)
    assert post_step(client, walk, {"incidental": value}).status_code == 422
    assert snapshot_of(walk) == before


def test_repeated_key_is_refused(client, first_walk):
    before = snapshot_of(first_walk)
    body = f"revision={first_walk.revision}&suspected_syndrome=none&suspected_syndrome=insulinoma"
    response = client.post(step_url(first_walk), body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 422
    assert "not several" in response.content.decode()
    assert snapshot_of(first_walk) == before


def test_extra_field_of_a_later_step_is_refused(client, first_walk):
    before = snapshot_of(first_walk)
    response = post_step(client, first_walk, {"suspected_syndrome": "none", "disease_extent": "metastatic"})
    assert response.status_code == 422
    assert "does not ask for" in response.content.decode()
    assert snapshot_of(first_walk) == before


def test_unknown_extra_field_with_a_huge_name_is_refused_and_truncated(client, first_walk):
    name = "x" * 5000
    body = f"revision=0&suspected_syndrome=none&{name}=1"
    response = client.post(step_url(first_walk), body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 422
    assert name not in response.content.decode()
    # The same field in a multipart body is over Django's header limit: a plain 400.
    assert post_step(client, first_walk, {"suspected_syndrome": "none", name: "1"}).status_code == 400
    assert snapshot_of(first_walk)[0] == {}


# --- Wizard: path, versions, replays, ids ---------------------------------------------------------


@pytest.mark.parametrize("node", ["ki67", "observation", "imaging", "no-such-node"])
def test_step_not_on_the_current_path_is_refused(client, first_walk, node):
    before = snapshot_of(first_walk)
    response = post_step(client, first_walk, {"ki67_percent": "10"}, node=node)
    assert response.status_code == 409
    assert "Nothing was changed" in response.content.decode()
    assert snapshot_of(first_walk) == before
    assert client.get(step_url(first_walk, node)).status_code == 302


def test_replayed_submit_is_refused_after_the_first(client, first_walk):
    form = {"revision": first_walk.revision, "suspected_syndrome": "none"}
    assert client.post(step_url(first_walk, "syndrome"), form).status_code == 303
    after_first = snapshot_of(first_walk)
    replay = client.post(step_url(first_walk, "syndrome"), form)
    assert replay.status_code == 409
    assert "Nothing was changed" in replay.content.decode()
    assert snapshot_of(first_walk) == after_first


def test_double_submit_with_different_answers_keeps_the_first(client, first_walk):
    url = step_url(first_walk, "syndrome")
    revision = first_walk.revision
    assert client.post(url, {"revision": revision, "suspected_syndrome": "none"}).status_code == 303
    second = client.post(url, {"revision": revision, "suspected_syndrome": "insulinoma"})
    assert second.status_code == 409
    first_walk.refresh_from_db()
    assert first_walk.answers == {"suspected_syndrome": "none"}


@pytest.mark.parametrize("revision", ["-1", "abc", "99999999999999999999999", "", "1.5", "\x00"])
def test_tampered_revision_is_refused(client, first_walk, revision):
    before = snapshot_of(first_walk)
    response = client.post(step_url(first_walk), {"revision": revision, "suspected_syndrome": "none"})
    assert response.status_code in {409, 422}
    assert snapshot_of(first_walk) == before


def test_walk_of_a_retired_version_stays_on_its_own_version(client, pnet_version):
    walk = walk_with(pnet_version, AT_SIZE)
    document = copy.deepcopy(load_bundled("pnet"))
    document["nodes"][0]["title"] = "Changed in the new version"
    newer = import_document(document, status="published")
    assert newer.pk != pnet_version.pk
    response = post_step(client, walk, {"tumor_size_cm": "3"})
    assert response.status_code == 303
    walk.refresh_from_db()
    assert walk.version_id == pnet_version.pk
    assert walk.answers["tumor_size_cm"] == 3


def test_walk_is_not_reachable_under_another_pathway(client, pnet_version):
    document = copy.deepcopy(load_bundled("pnet"))
    document["pathway"]["slug"] = "other"
    document["pathway"]["title"] = "Another pathway"
    import_document(document, status="published")
    assert Pathway.objects.filter(slug="other").exists()
    walk = walk_with(pnet_version, {})
    before = snapshot_of(walk)
    url = step_url(walk).replace("/pathways/pnet/", "/pathways/other/")
    assert client.get(url).status_code == 404
    assert client.post(url, {"revision": 0, "suspected_syndrome": "none"}).status_code == 404
    assert snapshot_of(walk) == before


@pytest.mark.parametrize(
    "walk_id", [str(uuid.uuid4()), "00000000-0000-0000-0000-000000000000", "not-a-uuid", "1 OR 1=1"]
)
def test_tampered_walk_id_is_404(client, pnet_version, walk_id):
    assert client.get(f"/pathways/pnet/walks/{walk_id}/").status_code == 404
    assert client.post(f"/pathways/pnet/walks/{walk_id}/steps/syndrome/", {"revision": 0}).status_code == 404


def test_tampered_resume_cookie_shows_the_introduction(client, pnet_version):
    client.cookies["walk_pnet"] = f"{uuid.uuid4()}:forged:signature"
    response = client.get("/pathways/pnet/")
    assert response.status_code == 200
    assert "Start" in response.content.decode()


# --- Wizard: CSRF, Origin, Host, sizes, methods --------------------------------------------------


def test_step_without_csrf_token_is_refused(pnet_version):
    walk = walk_with(pnet_version, {})
    before = snapshot_of(walk)
    client = Client(enforce_csrf_checks=True)
    response = client.post(step_url(walk), {"revision": 0, "suspected_syndrome": "none"})
    assert response.status_code == 403
    assert snapshot_of(walk) == before


def test_start_without_csrf_token_creates_no_walk(pnet_version):
    response = Client(enforce_csrf_checks=True).post("/pathways/pnet/")
    assert response.status_code == 403
    assert not Walk.objects.exists()


def test_step_from_a_foreign_origin_is_refused_even_with_a_token(pnet_version):
    walk = walk_with(pnet_version, {})
    before = snapshot_of(walk)
    client = Client(enforce_csrf_checks=True)
    token = csrf_token_from(client.get(step_url(walk)).content.decode())
    response = client.post(
        step_url(walk),
        {"revision": 0, "suspected_syndrome": "none", "csrfmiddlewaretoken": token},
        HTTP_ORIGIN="https://evil.example",
    )
    assert response.status_code == 403
    assert snapshot_of(walk) == before
    same_origin = client.post(
        step_url(walk),
        {"revision": 0, "suspected_syndrome": "none", "csrfmiddlewaretoken": token},
        HTTP_ORIGIN="http://testserver",
    )
    assert same_origin.status_code == 303


@pytest.mark.parametrize(
    "host", ["evil.example", "testserver.evil.example", "testserver@evil.example", "a" * 300]
)
def test_foreign_host_header_is_refused(client, pnet_version, host):
    assert client.get("/", HTTP_HOST=host).status_code == 400
    assert client.post("/pathways/pnet/", HTTP_HOST=host).status_code == 400
    assert not Walk.objects.exists()


def test_oversized_step_body_is_refused(client, first_walk):
    before = snapshot_of(first_walk)
    response = post_step(client, first_walk, {"suspected_syndrome": "none" + " " * 70_000})
    assert response.status_code in {400, 413}
    assert snapshot_of(first_walk) == before


def test_too_many_fields_are_refused(client, first_walk):
    before = snapshot_of(first_walk)
    body = "&".join(f"f{index}=1" for index in range(300)) + "&suspected_syndrome=none&revision=0"
    response = client.post(step_url(first_walk), body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert snapshot_of(first_walk) == before


def test_multipart_file_upload_to_a_step_changes_nothing(client, first_walk):
    from django.core.files.uploadedfile import SimpleUploadedFile

    before = snapshot_of(first_walk)
    upload = SimpleUploadedFile("x.html", b"<script>alert(1)</script>", content_type="text/html")
    response = client.post(step_url(first_walk), {"revision": 0, "suspected_syndrome": upload})
    assert response.status_code == 400
    assert snapshot_of(first_walk) == before


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_other_methods_on_a_step_are_refused(client, first_walk, method):
    assert getattr(client, method)(step_url(first_walk)).status_code == 405


# --- API ---------------------------------------------------------------------------------------

BAD_API_BODIES = {
    "NaN literal": b'{"tumor_size_cm": NaN}',
    "Infinity literal": b'{"ki67_percent": Infinity}',
    "minus Infinity literal": b'{"ki67_percent": -Infinity}',
    "overflowing exponent": b'{"ki67_percent": 1e400}',
    "negative overflowing exponent": b'{"ki67_percent": -1e400}',
    "number as a string": b'{"tumor_size_cm": "1.5"}',
    "comma decimal string": b'{"tumor_size_cm": "1,5"}',
    "boolean as a number": b'{"tumor_size_cm": true}',
    "number as a boolean": b'{"incidental": 1}',
    "string as a boolean": b'{"incidental": "true"}',
    "choice not offered": b'{"suspected_syndrome": "carcinoid"}',
    "choice with NUL": b'{"suspected_syndrome": "none\\u0000"}',
    "choice with zero-width space": b'{"suspected_syndrome": "none\\u200b"}',
    "choice as a list": b'{"suspected_syndrome": ["none"]}',
    "operator object": b'{"suspected_syndrome": {"$ne": null}}',
    "null value": b'{"suspected_syndrome": null}',
    "unknown key": b'{"patient_name": "Jane Doe"}',
    "repeated key": b'{"suspected_syndrome": "none", "suspected_syndrome": "insulinoma"}',
    "array body": b'["suspected_syndrome"]',
    "string body": b'"none"',
    "null body": b"null",
    "empty body": b"",
    "not UTF-8": b'{"suspected_syndrome": "\xff\xfe"}',
    "truncated JSON": b'{"suspected_syndrome": ',
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
    "integer too long to parse": b'{"ki67_percent": ' + b"1" * 5000 + b"}",
    "out of range": b'{"ki67_percent": 101}',
    "negative": b'{"tumor_size_cm": -0.5}',
    "oversized": b'{"suspected_syndrome": "' + b"x" * 70_000 + b'"}',
}


@pytest.mark.parametrize("name", sorted(BAD_API_BODIES))
def test_bad_api_case_is_a_400_with_errors_and_stores_nothing(client, pnet_version, name):
    response = client.post(API, data=BAD_API_BODIES[name], content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert set(body) == {"errors"} and body["errors"]
    assert all(isinstance(message, str) and message for message in body["errors"].values())
    assert not Walk.objects.exists()


def test_api_rejects_get(client, pnet_version):
    assert client.get(API).status_code == 405


def test_api_unknown_pathway_is_a_json_404(client, pnet_version):
    response = client.post("/api/pathways/nothing/evaluate", data=b"{}", content_type="application/json")
    assert response.status_code == 404
    assert "pathway" in response.json()["errors"]


def test_api_ignores_content_type_but_not_syntax(client, pnet_version):
    response = client.post(API, data=b'{"suspected_syndrome": "none"}', content_type="text/plain")
    assert response.status_code == 200
    assert response.json()["complete"] is False


def test_api_from_a_foreign_host_is_refused(client, pnet_version):
    response = client.post(API, data=b"{}", content_type="application/json", HTTP_HOST="evil.example")
    assert response.status_code == 400


# --- Admin -----------------------------------------------------------------------------------

PASSWORD = "a-long-admin-password-1"


@pytest.fixture
def admin_client(db) -> Client:
    user = get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "username",
    ["root\x00", "x" * 5000, "root' OR '1'='1", "<script>alert(1)</script>", "ro\u200bot"],
)
def test_admin_login_with_hostile_user_name_is_a_form_error(db, username):
    get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)
    client = Client()
    response = client.post("/admin/login/", {"username": username, "password": PASSWORD})
    assert response.status_code in {200, 429}
    assert "_auth_user_id" not in client.session
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_admin_post_without_csrf_token_changes_nothing(db, pnet_version):
    user = get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    pathway = pnet_version.pathway
    response = client.post(f"/admin/pathways/pathway/{pathway.pk}/change/", {"slug": "hijacked"})
    assert response.status_code == 403
    pathway.refresh_from_db()
    assert pathway.slug == "pnet"


def test_admin_delete_of_a_walks_version_is_refused(admin_client, pnet_version):
    walk_with(pnet_version, {})
    response = admin_client.post(f"/admin/pathways/pathwayversion/{pnet_version.pk}/delete/", {"post": "yes"})
    assert response.status_code in {200, 403}
    assert Walk.objects.filter(version=pnet_version).exists()


def test_admin_search_with_hostile_terms_is_safe(admin_client, pnet_version):
    for term in ["%", "_", "'", '"', "\\", "\x00", "<script>", "a" * 2000]:
        response = admin_client.get("/admin/pathways/variable/", {"q": term})
        assert response.status_code in {200, 400}
        assert "<script>" not in response.content.decode().split("</head>", 1)[1].replace(
            "&lt;script&gt;", ""
        )


def test_admin_changelist_with_tampered_filters_is_not_a_500(admin_client, pnet_version):
    for query in [{"o": "99"}, {"version__id__exact": "abc"}, {"p": "-1"}, {"nonfield": "1"}, {"o": "x"}]:
        response = admin_client.get("/admin/pathways/variable/", query)
        assert response.status_code in {200, 302, 400}, query


def test_api_case_is_echoed_without_markup(client, pnet_version):
    response = client.post(
        API, data=json.dumps({"<img src=x onerror=alert(1)>": 1}), content_type="application/json"
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
