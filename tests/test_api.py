"""The evaluation interface: POST /api/pathways/<slug>/evaluate and `manage.py evaluate_pathway`."""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from pathways.models import Walk
from tests import cases

pytestmark = pytest.mark.django_db
URL = "/api/pathways/pnet/evaluate"
KEYS = {
    "pathway",
    "version",
    "complete",
    "outcome",
    "recommendations",
    "path",
    "missing",
    "ignored",
    "newer_guidance",
}


def post(client: Client, body: Any, raw: bool = False) -> Any:
    data = body if raw else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json")


def test_complete_case_answer_has_exactly_the_contract_keys(client: Client, pnet_version: Any) -> None:
    response = post(client, cases.NONFUNCTIONING_INCIDENTAL_0_9CM)
    body = response.json()
    assert response.status_code == 200
    assert set(body) == KEYS
    assert body["pathway"] == "pnet" and body["version"] == pnet_version.number
    assert body["complete"] is True and body["outcome"] == "observation"
    assert {"nf.observation", "nf.imaging_6_months"} <= set(body["recommendations"])
    assert "nf.resection_consider_lnd" not in body["recommendations"]
    assert body["path"][0] == "syndrome" and body["path"][-1] == "observation"
    assert body["missing"] == [] and body["ignored"] == ["tumor_location"]
    assert Walk.objects.count() == 0


def test_incomplete_case_names_what_the_next_step_asks(client: Client, pnet_version: Any) -> None:
    body = post(client, {"suspected_syndrome": "insulinoma"}).json()
    assert body["complete"] is False and body["outcome"] is None
    assert body["missing"] == ["functional_status"]
    assert "workup.insulinoma_panel" in body["recommendations"]


def test_empty_case_starts_at_the_first_question(client: Client, pnet_version: Any) -> None:
    body = post(client, {}).json()
    assert body["missing"] == ["suspected_syndrome"] and body["complete"] is False


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"tumour": 1}, "tumour"),
        ({"suspected_syndrome": "carcinoid"}, "suspected_syndrome"),
        ({"tumor_size_cm": "1.5"}, "tumor_size_cm"),
        ({"tumor_size_cm": 0}, "tumor_size_cm"),
        ({"tumor_size_cm": 31}, "tumor_size_cm"),
        ({"ki67_percent": -0.1}, "ki67_percent"),
        ({"incidental": "yes"}, "incidental"),
        ({"progressive": 0}, "progressive"),
        ({"tumor_size_cm": True}, "tumor_size_cm"),
        ({"gastrin_pg_ml": -5}, "gastrin_pg_ml"),
    ],
)
def test_bad_values_give_400_with_errors_by_key(
    client: Client, pnet_version: Any, body: dict, key: str
) -> None:
    response = post(client, body)
    assert response.status_code == 400
    assert response.json() == {"errors": {key: response.json()["errors"][key]}}
    assert response.json()["errors"][key]


@pytest.mark.parametrize(
    "raw",
    [
        "[1, 2]",
        '"text"',
        "null",
        "{not json",
        "",
        '{"tumor_size_cm": NaN}',
        '{"tumor_size_cm": Infinity}',
        '{"tumor_size_cm": 1e309}',
        b"\xff\xfe",
    ],
)
def test_bodies_that_are_not_a_json_object_report_under_case_or_the_key(
    client: Client, pnet_version: Any, raw: Any
) -> None:
    response = post(client, raw, raw=True)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) <= {"case", "tumor_size_cm"} and errors


def test_repeated_keys_are_refused(client: Client, pnet_version: Any) -> None:
    response = post(client, '{"suspected_syndrome": "none", "suspected_syndrome": "insulinoma"}', raw=True)
    assert response.status_code == 400
    assert "suspected_syndrome" in response.json()["errors"]


def test_oversized_body_is_refused(client: Client, pnet_version: Any) -> None:
    response = post(client, '{"suspected_syndrome": "none", "x": "' + "a" * 70_000 + '"}', raw=True)
    assert response.status_code == 400
    assert "case" in response.json()["errors"]


def test_api_needs_no_csrf_token(pnet_version: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(URL, data="{}", content_type="application/json")
    assert response.status_code == 200


def test_unknown_pathway_is_404_with_the_error_shape(client: Client, pnet_version: Any) -> None:
    response = client.post("/api/pathways/nope/evaluate", data="{}", content_type="application/json")
    assert response.status_code == 404
    assert "pathway" in response.json()["errors"]


def run_command(*args: str, stdin: str | None = None) -> tuple[int, dict]:
    out = io.StringIO()
    old_stdin = sys.stdin
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode()))
    try:
        call_command("evaluate_pathway", *args, stdout=out)
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code)
    finally:
        sys.stdin = old_stdin
    return code, json.loads(out.getvalue())


def test_command_evaluates_a_case_file(pnet_version: Any, tmp_path: Any, client: Client) -> None:
    case = cases.METASTATIC_WELL_DIFFERENTIATED_G3
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case))
    code, body = run_command("pnet", str(path))
    assert code == 0
    assert {"adv.chemotherapy_g3", "adv.targeted_therapy_wd_g3"} <= set(body["recommendations"])
    assert "adv.ssa" not in body["recommendations"]
    assert body == post(client, case).json()


def test_command_reads_standard_input(pnet_version: Any) -> None:
    code, body = run_command("pnet", "-", stdin='{"suspected_syndrome": "none"}')
    assert code == 0 and body["missing"] == ["functional_status"]


def test_command_bad_case_exits_2_with_errors(pnet_version: Any, tmp_path: Any) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"ki67_percent": 101}')
    assert run_command("pnet", str(path)) == (
        2,
        {"errors": {"ki67_percent": "Enter a number at least 0 and at most 100 %."}},
    )
    code, body = run_command("pnet", str(tmp_path / "missing.json"))
    assert code == 2 and "case" in body["errors"]
    code, body = run_command("nope", str(path))
    assert code == 2 and "pathway" in body["errors"]
