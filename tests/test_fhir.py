"""The FHIR export decides what the engine decides: every class of case, both ways."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.requestgroup import RequestGroup

from bench import generate
from pathways import engine
from pathways.document import snapshot_from_document
from pathways.fhir import apply, check, export
from pathways.fhir import expressions as fp
from pathways.fhir import response as qr

INCIDENTAL = {
    "suspected_syndrome": "none",
    "functional_status": "nonfunctioning",
    "disease_extent": "localized",
    "tumor_size_cm": 0.9,
    "incidental": True,
    "tumor_location": "body",
}


@pytest.fixture(scope="module")
def v1_bundle(pnet_document: dict[str, Any]) -> dict[str, Any]:
    return export.bundle(pnet_document)


@pytest.fixture(scope="module")
def v2_bundle(pnet_v2_document: dict[str, Any]) -> dict[str, Any]:
    return export.bundle(pnet_v2_document)


def test_bundle_is_a_valid_r4b_collection_of_the_four_kinds(v2_bundle: dict[str, Any]) -> None:
    parsed = Bundle.model_validate(v2_bundle)
    assert parsed.type == "collection"
    kinds = {entry.resource.get_resource_type() for entry in parsed.entry}
    assert kinds == {"Questionnaire", "PlanDefinition", "CodeSystem", "Library", "ActivityDefinition"}


def test_questionnaire_has_one_typed_item_per_variable(v2_bundle: dict[str, Any], v2_snapshot: Any) -> None:
    questionnaire = export.resources(v2_bundle)["Questionnaire"]
    assert questionnaire["url"] == "https://pnet-pathways.org/fhir/Questionnaire/pnet"
    assert questionnaire["version"] == "2"
    items = {item["linkId"]: item for item in questionnaire["item"]}
    assert list(items) == list(v2_snapshot.variables)
    assert items["disease_extent"]["type"] == "choice"
    assert [o["valueCoding"]["code"] for o in items["disease_extent"]["answerOption"]] == [
        "localized",
        "locally_advanced",
        "metastatic",
    ]
    assert items["incidental"]["type"] == "boolean"
    size = items["tumor_size_cm"]
    assert size["type"] == "decimal"
    extensions = {e["url"]: e for e in size["extension"]}
    assert extensions[export.MAX_VALUE]["valueDecimal"] == 30
    assert extensions[export.UNIT]["valueCoding"]["code"] == "cm"
    assert export.ENABLE_WHEN_EXPRESSION in extensions
    assert items["chromogranin_a_ng_ml"]["required"] is False
    assert "extension" not in items["suspected_syndrome"]  # always asked, first


def test_code_system_holds_every_recommendation_and_note_code(
    v2_bundle: dict[str, Any], v2_snapshot: Any
) -> None:
    codes = {c["code"] for c in export.resources(v2_bundle)["CodeSystem"]["concept"]}
    assert codes == set(v2_snapshot.recommendations) | {note.code for note in v2_snapshot.notes}
    assert "newer.prrt" in codes and "adv.ssa" in codes


def test_activity_definitions_carry_text_and_citations(v2_bundle: dict[str, Any], v2_snapshot: Any) -> None:
    found = export.by_url(v2_bundle)
    ssa = found[f"{export.definition_url(v2_snapshot, 'adv.ssa')}|2"]
    assert ssa["description"] == v2_snapshot.recommendations["adv.ssa"].text
    assert ssa["relatedArtifact"][0]["type"] == "citation"


def test_plan_definition_is_a_clinical_protocol_with_fhirpath_conditions(v2_bundle: dict[str, Any]) -> None:
    plan = export.resources(v2_bundle)["PlanDefinition"]
    assert plan["type"]["coding"][0]["code"] == "clinical-protocol"
    assert plan["url"] == "https://pnet-pathways.org/fhir/PlanDefinition/pnet" and plan["version"] == "2"
    first = plan["action"][0]["action"][0]["condition"][0]
    assert first["kind"] == "applicability" and first["expression"]["language"] == "text/fhirpath"


def test_every_emitted_resource_validates_with_the_r4b_models(
    v1_bundle: dict[str, Any], v2_bundle: dict[str, Any]
) -> None:
    for bundle in (v1_bundle, v2_bundle):
        export.validated(bundle)


def test_an_atom_on_an_unanswered_item_is_false_not_empty(snapshot: engine.Snapshot) -> None:
    import fhirpathpy

    condition = engine.Condition("tumor_size_cm", "ne", 2.0)
    expression = fp.negate(fp.condition(condition, snapshot.variables))
    empty = qr.questionnaire_response(snapshot, {}, complete=False)
    assert fhirpathpy.evaluate(empty, fp.condition(condition, snapshot.variables)) == [False]
    assert fhirpathpy.evaluate(empty, expression) == [True]
    assert fp.linkids(expression) == ("tumor_size_cm",)


def _equivalent(document: dict[str, Any]) -> tuple[int, int]:
    snapshot = snapshot_from_document(document)
    bundle = export.bundle(document)
    applier = check.Applier(snapshot, bundle)
    classes = 0
    for answers, result in check.case_classes(snapshot):
        classes += 1
        assert set(applier.selected(answers)) == check.expected_codes(snapshot, answers, result), answers
        assert set(applier.enabled(answers)) == set(result.asked), answers
    return classes, applier.evaluations


def test_version_1_export_decides_what_the_engine_decides(pnet_document: dict[str, Any]) -> None:
    classes, evaluations = _equivalent(pnet_document)
    assert classes > 4000
    assert evaluations < classes / 4  # each atom once per answer, each combination once per values


def test_version_2_export_decides_what_the_engine_decides(pnet_v2_document: dict[str, Any]) -> None:
    classes, evaluations = _equivalent(pnet_v2_document)
    assert classes > 11000  # cut also where the notes cut (Ki-67 10 %)
    assert evaluations < classes / 10


def test_version_3_export_decides_what_the_engine_decides() -> None:
    from tests.conftest import CONTENT_V3

    document = json.loads(CONTENT_V3.read_text(encoding="utf-8"))
    classes, _ = _equivalent(document)
    assert classes > 11000


def test_version_3_asks_each_laboratory_value_in_its_own_unit_only() -> None:
    # The other units are the wizard's reading of what is typed: a QuestionnaireResponse carries
    # the value in the unit the item asks, so the export is version 2's but for its version.
    from tests.conftest import CONTENT_V2, CONTENT_V3

    v2, v3 = (json.loads(path.read_text(encoding="utf-8")) for path in (CONTENT_V2, CONTENT_V3))
    items = {
        version: {
            item["linkId"]: item
            for item in export.resources(export.bundle(document))["Questionnaire"]["item"]
        }
        for version, document in ((2, v2), (3, v3))
    }
    assert items[3] == items[2]
    assert "mmol/L" not in json.dumps(items[3]["glucose_mg_dl"])


def test_generated_pathway_export_decides_what_the_engine_decides() -> None:
    # The size of the bench's gate test (tests/test_bench.py); see docs/fhir.md for why not 10,000.
    document = generate.generate(600, 12)
    classes, _ = _equivalent(document)
    assert len(document["nodes"]) == 600 and classes > 500


def test_the_check_sees_a_dropped_condition(pnet_document: dict[str, Any], v1_bundle: dict[str, Any]) -> None:
    broken = copy.deepcopy(v1_bundle)
    plan = export.resources(broken)["PlanDefinition"]
    routes = plan["action"][0]["action"]
    last = next(action for action in reversed(routes) if "condition" in action)
    del last["condition"]  # the last edge of the first step now always holds
    found = check.disagreements(snapshot_from_document(pnet_document), broken, limit=1)
    assert found and found[0].added and "PlanDefinition" in str(found[0])


def test_the_check_sees_an_item_enabled_too_often(
    pnet_document: dict[str, Any], v1_bundle: dict[str, Any]
) -> None:
    broken = copy.deepcopy(v1_bundle)
    for item in export.resources(broken)["Questionnaire"]["item"]:
        if item["linkId"] == "progressive":
            item["extension"] = [e for e in item["extension"] if e["url"] != export.ENABLE_WHEN_EXPRESSION]
    found = check.disagreements(snapshot_from_document(pnet_document), broken, limit=1)
    assert found and found[0].enabled_too == ("progressive",)


def _class_by_class(snapshot: engine.Snapshot, bundle: dict[str, Any]) -> list[check.Disagreement]:
    """What the check finds, worked out class by class as an integrator applies the export."""
    applier = check.Applier(snapshot, bundle)
    found = []
    for answers, result in check.case_classes(snapshot):
        selected, expected = set(applier.selected(answers)), check.expected_codes(snapshot, answers, result)
        enabled, asked = set(applier.enabled(answers)), set(result.asked)
        if selected != expected:
            found.append(
                check.Disagreement(
                    answers,
                    added=tuple(sorted(selected - expected)),
                    lacking=tuple(sorted(expected - selected)),
                )
            )
        elif enabled != asked:
            found.append(
                check.Disagreement(
                    answers,
                    enabled_too=tuple(sorted(enabled - asked)),
                    not_enabled=tuple(sorted(asked - enabled)),
                )
            )
    return found


def _break_route(bundle: dict[str, Any]) -> None:
    routes = export.resources(bundle)["PlanDefinition"]["action"][0]["action"]
    del next(action for action in reversed(routes) if "condition" in action)["condition"]


def _break_deep_action(bundle: dict[str, Any]) -> None:
    action = export.resources(bundle)["PlanDefinition"]["action"][0]
    while any("condition" in child for child in action.get("action", ())):
        action = [child for child in action["action"] if "condition" in child][-1]
    action["condition"][0]["expression"]["expression"] = (
        f"({action['condition'][0]['expression']['expression']}).not()"
    )


def _break_step_plan(bundle: dict[str, Any]) -> None:
    step = next(
        resource
        for url, resource in export.by_url(bundle).items()
        if resource["resourceType"] == "PlanDefinition" and ".step." in url
    )
    step["action"][0]["condition"] = [
        {"kind": "applicability", "expression": {"language": export.FHIRPATH, "expression": "false"}}
    ]


def _break_enabling(bundle: dict[str, Any]) -> None:
    for item in export.resources(bundle)["Questionnaire"]["item"]:
        if item["linkId"] in ("progressive", "tumor_size_cm"):
            for extension in item["extension"]:
                if extension["url"] == export.ENABLE_WHEN_EXPRESSION:
                    extension["valueExpression"]["expression"] = (
                        "item.where(linkId='incidental').answer.exists()"
                    )


@pytest.mark.parametrize("breaking", [_break_route, _break_deep_action, _break_step_plan, _break_enabling])
def test_the_check_finds_every_class_a_broken_export_decides_otherwise(
    pnet_document: dict[str, Any], v1_bundle: dict[str, Any], breaking: Any
) -> None:
    """The check works set at a time; it finds the very classes, in order, that applying the
    export class by class finds."""
    snapshot = snapshot_from_document(pnet_document)
    broken = copy.deepcopy(v1_bundle)
    breaking(broken)
    expected = _class_by_class(snapshot, broken)
    assert expected  # the export is broken
    assert check.disagreements(snapshot, broken, limit=len(expected) + 1) == expected
    assert check.disagreements(snapshot, broken, limit=3) == expected[:3]


def test_full_responses_select_as_their_projections(
    v2_snapshot: engine.Snapshot, v2_bundle: dict[str, Any]
) -> None:
    """Each expression, evaluated whole by fhirpathpy on a case's full QuestionnaireResponse, has the
    value the check gives it from its atoms and the answers it reads."""
    import fhirpathpy

    applier = check.Applier(v2_snapshot, v2_bundle)
    expressions = list(applier._expressions)
    assert len(expressions) > 50
    for number, (answers, _) in enumerate(check.case_classes(v2_snapshot)):
        if number % 4000:
            continue
        resource = qr.questionnaire_response(v2_snapshot, answers, complete=True)
        for expression in expressions:
            assert (fhirpathpy.evaluate(resource, expression) == [True]) == applier.holds(expression, answers)


def test_response_round_trips_typed_answers(v2_snapshot: engine.Snapshot) -> None:
    resource = qr.questionnaire_response(v2_snapshot, {**INCIDENTAL, "ki67_known": False}, complete=True)
    QuestionnaireResponse.model_validate(resource)
    assert resource["questionnaire"] == "https://pnet-pathways.org/fhir/Questionnaire/pnet|2"
    answers, errors = qr.answers_from_response(v2_snapshot, resource)
    assert not errors and answers == {**INCIDENTAL, "ki67_known": False}


@pytest.mark.parametrize(
    ("item", "where"),
    [
        ({"linkId": "tumour_size", "answer": [{"valueDecimal": 1}]}, "tumour_size"),
        ({"linkId": "tumor_size_cm", "answer": [{"valueBoolean": True}]}, "tumor_size_cm"),
        ({"linkId": "tumor_size_cm", "answer": [{"valueDecimal": 31}]}, "tumor_size_cm"),
        ({"linkId": "disease_extent", "answer": [{"valueCoding": {"code": "everywhere"}}]}, "disease_extent"),
        ({"linkId": "incidental", "answer": []}, "incidental"),
    ],
)
def test_bad_items_are_named(v2_snapshot: engine.Snapshot, item: dict[str, Any], where: str) -> None:
    resource = {"resourceType": "QuestionnaireResponse", "status": "completed", "item": [item]}
    answers, errors = qr.answers_from_response(v2_snapshot, resource)
    assert answers is None and any(where in key for key in errors), errors


def test_request_group_is_valid_and_holds_the_engine_codes(v2_snapshot: engine.Snapshot) -> None:
    case = {**INCIDENTAL, "ki67_known": False}
    group = apply.request_group(v2_snapshot, case)
    RequestGroup.model_validate(group)
    result = engine.evaluate(v2_snapshot, case)
    codes = [a["code"][0]["coding"][0]["code"] for a in group["action"]]
    assert codes == [*result.codes, *(n.code for n in engine.newer_guidance(v2_snapshot, result, case))]
    assert "nf.observation" in codes and "newer.grade_before_surveillance" in codes
    assert group["instantiatesCanonical"] == ["https://pnet-pathways.org/fhir/PlanDefinition/pnet|2"]


def test_bundle_gives_back_its_document(pnet_v2_document: dict[str, Any], v2_bundle: dict[str, Any]) -> None:
    document = export.document_from_bundle(v2_bundle)
    assert export.bundle(document) == v2_bundle


def test_a_bundle_whose_plan_differs_from_its_library_is_refused(v1_bundle: dict[str, Any]) -> None:
    broken = copy.deepcopy(v1_bundle)
    export.resources(broken)["PlanDefinition"]["action"] = []
    with pytest.raises(ValueError, match="PlanDefinition"):
        export.document_from_bundle(broken)


def test_an_expression_is_split_into_atoms_only_when_it_combines_them() -> None:
    atom = "item.where(linkId='a').answer.where((valueCoding.code = 'x' or valueCoding.code = 'y')).exists()"
    other = "item.where(linkId='b').answer.exists()"
    formula, atoms = check.split_atoms(f"iif({atom}, ({other}).not(), {atom} and false)") or ("", ())
    assert formula == "iif(%a0, (%a1).not(), %a0 and false)" and atoms == (atom, other)
    for whole in (
        f"{atom} and %a0",  # an environment variable of its own
        f"item.where(linkId='a').answer.count() > 1 and {other}",  # an item read otherwise
        f"iif({other}, true, item.where(linkId='c').exists())",
    ):
        assert check.split_atoms(whole) is None


@pytest.mark.parametrize("version", [2, 3])
def test_the_expected_codes_set_at_a_time_are_each_classs(version: int) -> None:
    """What the engine gives each class (recommendations and newer-guidance notes), worked out
    set at a time, is what ``expected_codes`` gives class by class; also for walks left
    incomplete and for notes made to depend on given and withheld codes."""
    import dataclasses

    from pathways.case_index import CaseIndex, numbers
    from tests.conftest import CONTENT_V2, CONTENT_V3

    path = CONTENT_V2 if version == 2 else CONTENT_V3
    snapshot = snapshot_from_document(json.loads(path.read_text(encoding="utf-8")))
    assert snapshot.notes
    note = snapshot.notes[0]
    shown = [
        set(result.codes)
        for answers, result in check.case_classes(snapshot)
        if note in engine.newer_guidance(snapshot, result, answers)
    ]
    # Codes given on some of the walks the note shows on, not all of them.
    some = sorted(set.union(*shown) - set.intersection(*shown))
    variants = [
        snapshot,
        dataclasses.replace(
            snapshot,
            notes=(
                *snapshot.notes,
                dataclasses.replace(note, code="x.when", when_codes=tuple(some[:2]), unless_codes=()),
                dataclasses.replace(note, code="x.unless", when_codes=(), unless_codes=tuple(some[2:4])),
            ),
        ),
    ]
    for variant in variants:
        classes = check.case_classes(variant)
        partial = [
            (answers, engine.evaluate(variant, dict(list(answers.items())[:2])))
            for answers, _ in classes[:50]
        ]
        # Complete walks that also carry an answer they never asked, one a note's condition reads.
        key = note.conditions[0].variable
        values = {answers[key] for answers, _ in classes if key in answers}
        unasked = [
            ({**answers, key: value}, result)
            for answers, result in classes[::40]
            if key not in result.asked
            for value in values
        ]
        assert unasked
        index = CaseIndex([*classes, *partial, *unasked])
        expected = check.expected_classes(variant, index)
        by_class: dict[str, set[int]] = {}
        for number, (answers, result) in enumerate(index.classes):
            for code in check.expected_codes(variant, answers, result):
                by_class.setdefault(code, set()).add(number)
        assert {code: set(numbers(found)) for code, found in expected.items() if found} == by_class
    assert {"x.when", "x.unless"} <= set(by_class)
