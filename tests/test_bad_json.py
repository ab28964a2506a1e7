"""Valid-but-hostile JSON through every entry point: the API, the commands and the admin.

Each case asserts the safe behaviour: a clear error in the documented shape, nothing written,
never a 500 or a traceback.
"""

from __future__ import annotations

import copy
import io
import json
import sys
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from pathways import authoring, engine
from pathways.content_io import import_document
from pathways.document_checks import DocumentError
from pathways.models import Edge, PathwayTestCase, PathwayVersion, SafetyRule, Variable
from tests.conftest import logged_in
from tests.test_admin import change_url, form_data
from tests.test_admin_forms import as_post, parse_form

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
    return logged_in(
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
    if field == "case":
        # A test case's answers are typed question by question: the bad text goes into one of them.
        data = as_post(parse_form(admin.get(url).content.decode()).fields)
        name = "case-tumor_size_cm"
    else:
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
    data["must_exclude"] = ["nf.observation", "adv.ssa"]  # chosen from the version's codes
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


# --- import_pathway ---------------------------------------------------------------------------


def _set(document: dict, path: tuple, value: Any) -> None:
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value


# Each: where in the document, the bad value, the place the error must name.
BAD_DOCUMENT_VALUES = {
    "401-digit minimum": (("variables", 0, "minimum"), 10**400, "variables[0].minimum"),
    "401-digit edge order": (("edges", 0, "order"), 10**400, "edges[0].order"),
    "edge order beyond the column": (("edges", 0, "order"), 2**40, "edges[0].order"),
    "10,000-character label": (("variables", 0, "label"), "x" * 10_000, "variables[0].label"),
    "201-character node title": (("nodes", 0, "title"), "t" * 201, "nodes[0].title"),
    "number as a label": (("variables", 0, "label"), 12, "variables[0].label"),
    "text as a minimum": (("variables", 0, "minimum"), "0", "variables[0].minimum"),
    "NUL in a node body": (("nodes", 0, "body"), "a\x00b", "nodes[0].body"),
    "lone surrogate in a citation": (("references", 0, "citation"), "x\ud800", "references[0].citation"),
    "javascript: URL": (("references", 0, "url"), "javascript:alert(1)", "references[0].url"),
    "JavaScript: URL in capitals": (("references", 0, "url"), "JaVaScRiPt:alert(1)", "references[0].url"),
    "data: URL": (("references", 0, "url"), "data:text/html,<script>alert(1)</script>", "references[0].url"),
    "vbscript: URL": (("references", 0, "url"), "vbscript:msgbox(1)", "references[0].url"),
    "protocol-relative URL": (("references", 0, "url"), "//evil.example/x", "references[0].url"),
    "URL with a leading space": (("references", 0, "url"), " javascript:alert(1)", "references[0].url"),
    "relative URL": (("references", 0, "url"), "/local/path", "references[0].url"),
    "NaN condition value": (
        ("edges", 0, "conditions", 0, "value"),
        float("nan"),
        "edges[0].conditions[0].value",
    ),
    "lone surrogate key in a test case": (
        ("test_cases", 0, "case", "\udc00"),
        1,
        "test_cases[0].case.\\udc00",
    ),
}


def run_import(tmp_path, text: str) -> str:
    path = tmp_path / "document.json"
    path.write_bytes(text.encode("utf-8"))
    with pytest.raises(CommandError) as error:
        call_command("import_pathway", str(path), stdout=io.StringIO())
    message = str(error.value)
    message.encode("utf-8")  # printable as it is
    return message


def bundled_with_a_bad_value(pnet_document: dict, name: str) -> tuple[dict, str]:
    path, value, place = BAD_DOCUMENT_VALUES[name]
    document = copy.deepcopy(pnet_document)
    if path[0] == "edges":  # the first edge that has a condition
        path = ("edges", next(i for i, e in enumerate(document["edges"]) if e.get("conditions")), *path[2:])
        place = place.replace("edges[0]", f"edges[{path[1]}]")
    _set(document, path, value)
    return document, place


@pytest.mark.parametrize("name", sorted(BAD_DOCUMENT_VALUES))
def test_import_refuses_a_bad_value_naming_where_and_writes_nothing(
    pnet_version, pnet_document, tmp_path, name
):
    document, place = bundled_with_a_bad_value(pnet_document, name)
    versions = PathwayVersion.objects.count()
    message = run_import(tmp_path, json.dumps(document, ensure_ascii=True))
    if name == "NaN condition value":  # the file holds the NaN literal: not JSON at all
        assert "is not JSON: NaN is not a number" in message
    else:
        assert f"\n  {place}: " in message
    assert PathwayVersion.objects.count() == versions


@pytest.mark.parametrize("name", sorted(BAD_DOCUMENT_VALUES))
def test_import_document_itself_refuses_a_bad_value(pnet_version, pnet_document, name):
    document, place = bundled_with_a_bad_value(pnet_document, name)
    versions = PathwayVersion.objects.count()
    with pytest.raises(DocumentError) as error:
        import_document(document)
    assert any(problem.startswith(f"{place}: ") for problem in error.value.problems)
    assert PathwayVersion.objects.count() == versions


def test_import_reports_every_problem_at_once_one_per_line(pnet_version, pnet_document, tmp_path):
    document = copy.deepcopy(pnet_document)
    document["variables"][0]["label"] = "x" * 10_000
    document["variables"][1]["minimum"] = 10**400
    document["references"][0]["url"] = "javascript:alert(1)"
    lines = run_import(tmp_path, json.dumps(document)).splitlines()[1:]
    assert sorted(line.split(":")[0].strip() for line in lines) == [
        "references[0].url",
        "variables[0].label",
        "variables[1].minimum",
    ]


@pytest.mark.parametrize(
    "text",
    [
        '{"pathway": {"slug": "pnet"}, "variables": [{"minimum": NaN}]}',
        '{"pathway": {"slug": "pnet"}, "variables": [{"maximum": -Infinity}]}',
        '{"pathway": {"slug": "pnet"}, "n": ' + "1" * 5000 + "}",
        "[" * 100_000 + "]" * 100_000,
    ],
    ids=["NaN", "-Infinity", "5000 digits", "deep nesting"],
)
def test_import_refuses_json_python_would_accept_or_choke_on(pnet_version, tmp_path, text):
    versions = PathwayVersion.objects.count()
    assert "is not JSON" in run_import(tmp_path, text)
    assert PathwayVersion.objects.count() == versions


@pytest.mark.parametrize("url", ["", "https://www.example.org/guideline", "http://example.org/a?b=c#d"])
def test_import_keeps_web_reference_urls(pnet_version, pnet_document, url):
    document = copy.deepcopy(pnet_document)
    document["references"][0]["url"] = url
    version = import_document(document)
    assert version.references.order_by("order").first().url == url
