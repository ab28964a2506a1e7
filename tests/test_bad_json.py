"""Valid-but-hostile JSON through every entry point: the API, the commands and the admin.

Each case asserts the safe behaviour: a clear error in the documented shape, nothing written,
never a 500 or a traceback.
"""

from __future__ import annotations

import io
import json
import sys

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command

from pathways import authoring, engine
from pathways.models import Edge, PathwayTestCase, SafetyRule, Variable
from tests.test_admin import change_url, client_for, form_data

pytestmark = pytest.mark.django_db

API = "/api/pathways/pnet/evaluate"
HUGE = "1" + "0" * 400

# Raw JSON bodies that parse (or nearly) and must each give a 400 with errors under the given keys.
HOSTILE_CASES = {
    "400-digit Ki-67": (b'{"ki67_percent": ' + HUGE.encode() + b"}", {"ki67_percent"}),
    "negative 400-digit Ki-67": (b'{"ki67_percent": -' + HUGE.encode() + b"}", {"ki67_percent"}),
    "400-digit laboratory value": (b'{"glucose_mg_dl": ' + HUGE.encode() + b"}", {"glucose_mg_dl"}),
    "400-digit size": (b'{"tumor_size_cm": ' + HUGE.encode() + b"}", {"tumor_size_cm"}),
    "float overflowing to infinity": (b'{"ki67_percent": 1e400}', {"ki67_percent"}),
    "negative float overflowing": (b'{"glucose_mg_dl": -1e400}', {"glucose_mg_dl"}),
    "NaN literal": (b'{"ki67_percent": NaN}', {"case"}),
    "Infinity literal": (b'{"glucose_mg_dl": Infinity}', {"case"}),
    "-Infinity literal": (b'{"glucose_mg_dl": -Infinity}', {"case"}),
    "lone surrogate value": (b'{"suspected_syndrome": "\\ud800"}', {"suspected_syndrome"}),
    "lone low surrogate value": (b'{"suspected_syndrome": "none\\udfff"}', {"suspected_syndrome"}),
    "true as a number": (b'{"ki67_percent": true}', {"ki67_percent"}),
    "false as a laboratory value": (b'{"glucose_mg_dl": false}', {"glucose_mg_dl"}),
    "deeply nested value": (b'{"ki67_percent": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", {"case"}),
    "nested value within the parser's reach": (
        b'{"suspected_syndrome": ' + b"[" * 500 + b"]" * 500 + b"}",
        {"suspected_syndrome"},
    ),
    "object as a number": (b'{"ki67_percent": {"1": 2}}', {"ki67_percent"}),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_CASES))
def test_hostile_json_case_is_a_400_with_errors_by_key(client, pnet_version, name):
    raw, keys = HOSTILE_CASES[name]
    response = client.post(API, data=raw, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"errors"}
    assert set(body["errors"]) == keys
    assert all(isinstance(message, str) and message for message in body["errors"].values())


def test_lone_surrogate_key_is_reported_under_an_escaped_key(client, pnet_version):
    response = client.post(API, data=b'{"\\ud800": 1, "x\\udc00y": 2}', content_type="application/json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"\\ud800", "x\\udc00y"}
    assert response.content.decode("utf-8")  # strictly valid UTF-8 on the wire


def test_lone_surrogate_value_is_not_echoed_raw(client, pnet_version):
    response = client.post(API, data=b'{"suspected_syndrome": "\\ud800"}', content_type="application/json")
    message = response.json()["errors"]["suspected_syndrome"]
    assert "\\ud800" in message and "\ud800" not in message


def test_huge_integer_is_reported_as_out_of_range(client, pnet_version):
    response = client.post(
        API, data=b'{"ki67_percent": ' + HUGE.encode() + b"}", content_type="application/json"
    )
    assert response.json() == {"errors": {"ki67_percent": "Enter a number at least 0 and at most 100 %."}}


def test_largest_float_is_out_of_range_not_an_error(client, pnet_version):
    response = client.post(
        API, data=b'{"glucose_mg_dl": 1.7976931348623157e308}', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["errors"]["glucose_mg_dl"].startswith("Enter a number at least 0")


def test_engine_refuses_huge_and_non_finite_numbers_directly(snapshot):
    """Every entry point validates through the engine, not only JSON bodies."""
    ki67 = snapshot.variables["ki67_percent"]
    for value in (10**400, -(10**400), float("inf"), float("-inf"), float("nan"), True, False):
        assert ki67.check(value), value
    answers, errors = engine.validate_case(
        snapshot, {1: "x", ("a",): 2, "\ud800": 3, "ki67_percent": 10**400}
    )
    assert not answers
    assert set(errors) == {"1", "('a',)", "\\ud800", "ki67_percent"}
    json.dumps(errors, ensure_ascii=False).encode("utf-8")


def run_evaluate(raw: bytes, tmp_path) -> tuple[int, str, str]:
    path = tmp_path / "case.json"
    path.write_bytes(raw)
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("evaluate_pathway", "pnet", str(path), stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("name", sorted(HOSTILE_CASES))
def test_command_exits_2_with_the_errors_json_for_hostile_json(pnet_version, tmp_path, name):
    raw, keys = HOSTILE_CASES[name]
    code, out, err = run_evaluate(raw, tmp_path)
    assert code == 2
    assert set(json.loads(out)["errors"]) == keys
    assert "Traceback" not in err
    out.encode("utf-8")


def test_command_reports_a_lone_surrogate_key_on_a_strict_utf8_stdout(pnet_version, tmp_path):
    path = tmp_path / "case.json"
    path.write_bytes(b'{"\\ud800": "\\udfff"}')
    buffer = io.BytesIO()
    stdout = io.TextIOWrapper(buffer, encoding="utf-8", errors="strict")
    with pytest.raises(SystemExit) as exit_:
        call_command("evaluate_pathway", "pnet", str(path), stdout=stdout)
    stdout.flush()
    assert exit_.value.code == 2
    assert json.loads(buffer.getvalue().decode("utf-8")) == {
        "errors": {"\\ud800": "Unknown variable: this pathway has no such case variable."}
    }


def test_command_from_standard_input_refuses_nan(pnet_version, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'{"ki67_percent": NaN}')))
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("evaluate_pathway", "pnet", "-", stdout=out)
    assert exit_.value.code == 2 and set(json.loads(out.getvalue())["errors"]) == {"case"}


# --- API errors are JSON, whatever the URL or method -------------------------------------------


@pytest.mark.parametrize("method", ["get", "head", "put", "patch", "delete", "options"])
def test_api_wrong_method_is_a_json_405_with_allow(client, pnet_version, method):
    response = getattr(client, method)(API)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response["Content-Type"].startswith("application/json")
    if method != "head":
        assert set(response.json()["errors"]) == {"method"}


def test_api_wrong_method_on_an_unknown_pathway_is_still_json(client, pnet_version):
    response = client.get("/api/pathways/nothing/evaluate")
    assert response.status_code == 405 and response.json()["errors"]["method"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/",
        "/api/pathways/pnet/",
        "/api/pathways/pnet/evaluate/",
        "/api/nothing",
        "/api/pathways/<x>/evaluate",
    ],
)
def test_unknown_api_url_is_a_json_404(client, pnet_version, path):
    response = client.post(path, data=b"{}", content_type="application/json")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert set(response.json()["errors"]) == {"url"}
    assert client.get(path).json()["errors"]


def test_unknown_page_outside_the_api_stays_html(client, pnet_version):
    response = client.get("/nothing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_api_from_a_foreign_host_is_a_json_400(client, pnet_version):
    response = client.post(API, data=b"{}", content_type="application/json", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert set(response.json()["errors"]) == {"request"}


def test_api_server_error_is_json(rf):
    from pnetsite.errors import server_error

    response = server_error(rf.post(API))
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert set(json.loads(response.content)["errors"]) == {"service"}
    assert server_error(rf.get("/"))["Content-Type"].startswith("text/html")


# --- JSON fields in the admin ------------------------------------------------------------------

UNSTORABLE_JSON = {
    "NaN": "NaN",
    "Infinity in a list": '["a", Infinity]',
    "-Infinity in an object": '{"ki67_percent": -Infinity}',
    "NUL in a string": '["none\\u0000"]',
    "NUL in a key": '{"a\\u0000": 1}',
    "lone surrogate in a string": '["\\ud800"]',
    "lone surrogate in a key": '{"\\udfff": "none"}',
    "nested too deep to parse": "[" * 5000 + "]" * 5000,
    "nested deeper than any content needs": "[" * 40 + "]" * 40,
}


@pytest.fixture
def admin(db):
    return client_for(
        get_user_model().objects.create_superuser("root", "root@example.org", "a-long-password-1")
    )


@pytest.fixture
def draft(pnet_version):
    return authoring.new_draft(pnet_version)


def _draft_object(draft, model_name: str):
    if model_name == "variable":
        return Variable.objects.filter(version=draft, kind="choice").first()
    if model_name == "safetyrule":
        return SafetyRule.objects.filter(version=draft).first()
    if model_name == "pathwaytestcase":
        return PathwayTestCase.objects.filter(version=draft).first()
    return Edge.objects.filter(version=draft, conditions__isnull=False).first()


# (admin page, form field, how to read the stored value back)
JSON_FIELDS = [
    ("variable", "choices", lambda obj: obj.choices),
    ("safetyrule", "must_include", lambda obj: obj.must_include),
    ("safetyrule", "must_exclude", lambda obj: obj.must_exclude),
    ("pathwaytestcase", "case", lambda obj: obj.case),
    ("pathwaytestcase", "must_include", lambda obj: obj.must_include),
    ("pathwaytestcase", "must_exclude", lambda obj: obj.must_exclude),
    ("edge", "conditions-0-value", lambda obj: [c.value for c in obj.conditions.order_by("pk")]),
]


# Every bad value on one field, and the bad values PostgreSQL refuses most often on every field
# (admin pages are slow to render: the full cross product adds little).
ADMIN_CASES = [("pathwaytestcase", "case", bad) for bad in sorted(UNSTORABLE_JSON)] + [
    (model_name, field, bad)
    for model_name, field, _ in JSON_FIELDS
    for bad in ("NaN", "NUL in a string", "lone surrogate in a string")
    if (model_name, field) != ("pathwaytestcase", "case")
]


@pytest.mark.parametrize(
    ("model_name", "field", "bad"), ADMIN_CASES, ids=[f"{m}.{f}: {b}" for m, f, b in ADMIN_CASES]
)
def test_unstorable_json_in_an_admin_field_is_a_form_error(admin, draft, model_name, field, bad):
    stored = next(read for m, f, read in JSON_FIELDS if (m, f) == (model_name, field))
    obj = _draft_object(draft, model_name)
    before = stored(obj)
    url = change_url(obj)
    data = form_data(admin.get(url))
    name = next(key for key in data if key == field or key.endswith(f"-{field}"))
    data[name] = UNSTORABLE_JSON[bad]
    response = admin.post(url, data)
    assert response.status_code == 200, "the bad value was accepted"
    page = response.content.decode("utf-8")
    assert "errorlist" in page
    obj.refresh_from_db()
    assert stored(obj) == before


def test_good_json_in_an_admin_field_still_saves(admin, draft):
    test_case = PathwayTestCase.objects.filter(version=draft).first()
    url = change_url(test_case)
    data = form_data(admin.get(url))
    data["must_exclude"] = '["nf.observation", "adv.ssa"]'
    assert admin.post(url, data).status_code == 302
    test_case.refresh_from_db()
    assert test_case.must_exclude == ["nf.observation", "adv.ssa"]


def test_model_validation_refuses_unstorable_json(draft):
    test_case = PathwayTestCase.objects.filter(version=draft).first()
    for value in ({"ki67_percent": float("nan")}, {"x": "\x00"}, {"\ud800": 1}):
        test_case.case = value
        with pytest.raises(ValidationError) as error:
            test_case.full_clean()
        assert "case" in error.value.message_dict
