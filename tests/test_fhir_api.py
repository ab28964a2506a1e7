"""FHIR over HTTP: a walk's QuestionnaireResponse, ``$apply``, and the export/import commands."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.requestgroup import RequestGroup

from pathways import selectors
from pathways.fhir import export
from pathways.fhir import response as qr
from pathways.models import PathwayVersion
from tests.walking import walk_with

pytestmark = pytest.mark.django_db
APPLY = "/api/pathways/pnet/$apply"
FHIR = "application/fhir+json"
EVALUATE = "/api/pathways/pnet/evaluate"

# Held-out cases, written from the contract rather than taken from the enumeration.
CASES = [
    {"suspected_syndrome": "none"},
    {
        "suspected_syndrome": "gastrinoma",
        "functional_status": "gastrinoma",
        "disease_extent": "localized",
        "tumor_size_cm": 0.6,
        "tumor_location": "duodenum",
    },
    {
        "suspected_syndrome": "none",
        "functional_status": "nonfunctioning",
        "disease_extent": "metastatic",
        "ki67_percent": 21,
        "differentiation": "well",
        "liver_metastases": "unresectable",
    },
    {
        "suspected_syndrome": "insulinoma",
        "functional_status": "insulinoma",
        "disease_extent": "metastatic",
        "ki67_percent": 8,
        "sstr_status": "negative",
        "liver_metastases": "resectable",
        "progressive": True,
        "tumor_location": "tail",
        "glucose_mg_dl": 41,
    },
    {
        "suspected_syndrome": "none",
        "functional_status": "nonfunctioning",
        "disease_extent": "localized",
        "tumor_size_cm": 1.7,
        "ki67_known": True,
        "ki67_percent": 35,
        "differentiation": "poor",
        "tumor_location": "head",
    },
]


def apply(client: Client, body: Any, raw: bool = False) -> Any:
    return client.post(APPLY, data=body if raw else json.dumps(body), content_type=FHIR)


def response_for(case: dict[str, Any]) -> dict[str, Any]:
    snapshot = selectors.snapshot_for(selectors.published_version("pnet"))
    return qr.questionnaire_response(snapshot, case, complete=True)


@pytest.mark.parametrize("case", CASES)
def test_apply_decides_as_the_evaluation_api(client: Client, pnet_version: Any, case: dict[str, Any]) -> None:
    response = apply(client, response_for(case))
    assert response.status_code == 200 and response["Content-Type"] == FHIR
    group = response.json()
    RequestGroup.model_validate(group)
    assert group["instantiatesCanonical"] == [f"{export.BASE}/PlanDefinition/pnet|{pnet_version.number}"]
    evaluated = client.post(EVALUATE, data=json.dumps(case), content_type="application/json").json()
    codes = [action["code"][0]["coding"][0]["code"] for action in group.get("action", ())]
    assert codes == evaluated["recommendations"] + evaluated["newer_guidance"]
    assert group["status"] == ("active" if evaluated["complete"] else "draft")


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (
            {
                "resourceType": "QuestionnaireResponse",
                "status": "completed",
                "item": [{"linkId": "tumour", "answer": [{"valueDecimal": 1}]}],
            },
            "tumour",
        ),
        (
            {
                "resourceType": "QuestionnaireResponse",
                "status": "completed",
                "item": [{"linkId": "incidental", "answer": [{"valueDecimal": 1}]}],
            },
            "incidental",
        ),
        (
            {
                "resourceType": "QuestionnaireResponse",
                "status": "completed",
                "item": [{"linkId": "tumor_size_cm", "answer": [{"valueDecimal": 300}]}],
            },
            "tumor_size_cm",
        ),
        ({"resourceType": "Patient"}, "resourceType"),
        ({"resourceType": "QuestionnaireResponse", "status": "finished"}, "status"),
        ([1, 2], "QuestionnaireResponse"),
    ],
)
def test_bad_body_answers_400_naming_the_item(
    client: Client, pnet_version: Any, body: Any, named: str
) -> None:
    response = apply(client, body)
    assert response.status_code == 400 and response["Content-Type"] == FHIR
    outcome = response.json()
    OperationOutcome.model_validate(outcome)
    assert any(named in issue["expression"][0] for issue in outcome["issue"]), outcome


@pytest.mark.parametrize("raw", ["{not json", "", '{"resourceType": NaN}', "x" * (70 * 1024), "[" * 5000])
def test_unreadable_body_answers_400_never_500(client: Client, pnet_version: Any, raw: str) -> None:
    response = apply(client, raw, raw=True)
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


def test_apply_needs_post_and_a_published_pathway(client: Client, pnet_version: Any) -> None:
    assert client.get(APPLY).status_code == 405
    assert client.post("/api/pathways/nope/$apply", data="{}", content_type=FHIR).status_code == 404


def test_apply_is_csrf_exempt(pnet_version: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    assert apply(client, response_for(CASES[0])).status_code == 200


def test_walk_answers_its_questionnaire_response(client: Client, pnet_version: Any) -> None:
    walk = walk_with(pnet_version, CASES[1])
    response = client.get(f"/pathways/pnet/walks/{walk.pk}/fhir")
    assert response.status_code == 200 and response["Content-Type"] == FHIR
    resource = response.json()
    QuestionnaireResponse.model_validate(resource)
    assert resource["questionnaire"] == f"{export.BASE}/Questionnaire/pnet|{pnet_version.number}"
    assert resource["status"] == "completed"
    values = {item["linkId"]: item["answer"][0] for item in resource["item"]}
    assert values["tumor_size_cm"] == {"valueDecimal": 0.6}
    assert values["disease_extent"]["valueCoding"]["code"] == "localized"


def test_unfinished_walk_is_in_progress(client: Client, pnet_version: Any) -> None:
    walk = walk_with(pnet_version, {"suspected_syndrome": "none"})
    resource = client.get(f"/pathways/pnet/walks/{walk.pk}/fhir").json()
    assert resource["status"] == "in-progress"


def test_unknown_walk_or_pathway_is_404(client: Client, pnet_version: Any) -> None:
    assert client.get(f"/pathways/pnet/walks/{uuid.uuid4()}/fhir").status_code == 404
    walk = walk_with(pnet_version, CASES[0])
    assert client.get(f"/pathways/other/walks/{walk.pk}/fhir").status_code == 404
    assert client.post(f"/pathways/pnet/walks/{walk.pk}/fhir").status_code == 405


def test_export_import_export_gives_the_same_resources(pnet_version: Any, tmp_path: Any) -> None:
    out = io.StringIO()
    call_command("export_pathway", "pnet", "--format", "fhir", stdout=out)
    first = json.loads(out.getvalue())
    path = tmp_path / "bundle.json"
    path.write_text(out.getvalue(), encoding="utf-8")
    number = io.StringIO()
    call_command("import_pathway", str(path), stdout=number)
    draft = PathwayVersion.objects.get(pathway__slug="pnet", number=int(number.getvalue()))
    assert draft.status == "draft"
    again = io.StringIO()
    call_command("export_pathway", "pnet", "--version", str(draft.number), "--format", "fhir", stdout=again)
    renumbered = again.getvalue().replace(f"|{draft.number}", f"|{pnet_version.number}")
    second = json.loads(renumbered)
    kinds = ("Questionnaire", "PlanDefinition", "CodeSystem")
    for kind in kinds:
        a, b = export.resources(first)[kind], export.resources(second)[kind]
        assert {**a, "id": "", "version": ""} == {**b, "id": "", "version": ""}
