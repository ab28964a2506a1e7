"""Version 2 of the PNET pathway document, checked over every class of case (no database)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from pathways import engine, validation
from pathways.document import snapshot_from_document
from tests import cases
from tests.invariants import violations

CONTENT = Path(__file__).resolve().parent.parent / "pathways" / "content"

# Every code of the contract: section 2, and the codes version 2 adds (section 6).
CONTRACT_CODES = {
    "general.multidisciplinary",
    "workup.cga_5hiaa",
    "workup.insulinoma_panel",
    "workup.gastrin",
    "workup.glucagon_panel",
    "workup.vip_panel",
    "imaging.ct_mri",
    "imaging.sstr_pet",
    "imaging.eus",
    "nf.observation",
    "nf.imaging_6_months",
    "nf.resection_consider_lnd",
    "nf.formal_resection_lnd",
    "caution.small_tumor_malignant_potential",
    "caution.lymph_node_sampling",
    "fx.resection_regardless_of_size",
    "fx.preop_symptom_control",
    "fx.insulinoma_glucose_control",
    "fx.gastrinoma_ppi",
    "fx.glucagonoma_glycemia",
    "fx.vipoma_electrolytes",
    "fx.ssa_symptom_control",
    "caution.ssa_insulinoma",
    "caution.ssa_insulinoma_sstr_negative",
    "surgery.duodenotomy_local_resection",
    "surgery.enucleation_periduodenal_nodes",
    "surgery.pancreatoduodenectomy",
    "surgery.distal_pancreatectomy",
    "surgery.location_appropriate",
    "special.splenectomy_vaccination",
    "adv.obtain_sstr_imaging",
    "adv.ssa",
    "adv.active_surveillance",
    "adv.everolimus_or_sunitinib",
    "adv.cytoreductive_surgery",
    "adv.liver_locoregional",
    "adv.chemotherapy_g3",
    "adv.targeted_therapy_wd_g3",
    "followup.post_treatment",
    # Version 2 (contract section 6).
    "caution.high_grade_localized",
    "followup.advanced_restaging",
}
ADVANCED = {"locally_advanced", "metastatic"}
BODY_TAIL = {"body", "tail"}
NEW_IN_V2 = {"nf_grade", "nf_ki67", "nf_differentiation", "met_location"}

Classes = list[tuple[dict[str, Any], engine.Evaluation]]


def load(name: str) -> dict[str, Any]:
    return json.loads((CONTENT / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def v2_document() -> dict[str, Any]:
    return load("pnet-v2.json")


@pytest.fixture(scope="module")
def v2(v2_document: dict[str, Any]) -> engine.Snapshot:
    return snapshot_from_document(v2_document)


@pytest.fixture(scope="module")
def v1() -> engine.Snapshot:
    return snapshot_from_document(load("pnet.json"))


@pytest.fixture(scope="module")
def v2_classes(v2: engine.Snapshot) -> Classes:
    return list(engine.enumerate_cases(v2))


@pytest.fixture(scope="module")
def v1_classes(v1: engine.Snapshot) -> Classes:
    return list(engine.enumerate_cases(v1))


def walk(snapshot: engine.Snapshot, case: dict[str, Any]) -> engine.Evaluation:
    answers, errors = engine.validate_case(snapshot, case)
    assert errors == {}
    return engine.evaluate(snapshot, answers)


def high_grade_localized(case: dict[str, Any], result: engine.Evaluation) -> bool:
    return (
        case.get("disease_extent") == "localized"
        and "ki67_percent" in result.asked
        and case["ki67_percent"] > 20
    )


# The document and its publish gate ------------------------------------------------------------


def test_version_2_passes_the_publish_gate_with_no_error(v2_document: dict[str, Any]) -> None:
    report = validation.check_document(v2_document)
    assert report.errors == []
    assert [(p.code, p.node) for p in report.warnings] == [
        ("uncited-resolution", "advanced_g12_surveillance")
    ]
    assert report.classes > 5000


def test_version_2_is_numbered_2_and_says_what_is_new(v2_document: dict[str, Any]) -> None:
    version = v2_document["version"]
    assert version["number"] == 2
    assert version["note"].startswith("What's new in version 2:")
    assert v2_document["pathway"]["slug"] == "pnet"


def test_the_gate_checks_the_new_safety_rules(v2_document: dict[str, Any]) -> None:
    names = {rule["name"] for rule in v2_document["safety_rules"]}
    assert {
        "localized-high-grade-never-observation",
        "cytoreductive-body-tail-vaccination",
        "body-tail-resection-vaccination",
    } <= names


def test_the_gate_rejects_observation_of_a_high_grade_tumour(v2_document: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(v2_document))
    for edge in broken["edges"]:
        if edge["source"] == "nf_differentiation" and edge["target"] == "nf_small_resection":
            edge["target"] = "observation"
    problems = validation.check_document(broken).errors
    assert any(
        p.code == "safety-rule" and "localized-high-grade-never-observation" in p.message for p in problems
    )


# Every class of case --------------------------------------------------------------------------


def test_every_class_of_case_ends_at_exactly_one_management_outcome(
    v2: engine.Snapshot, v2_classes: Classes
) -> None:
    assert len(v2_classes) > 5000
    for case, result in v2_classes:
        assert result.complete, case
        outcomes = [slug for slug in result.path if v2.nodes[slug].kind == engine.OUTCOME]
        assert outcomes == [result.outcome] == [result.path[-1]], case
        assert v2.nodes[result.outcome].stage == "management"


def test_every_class_keeps_the_contract_safety_invariants(v2: engine.Snapshot, v2_classes: Classes) -> None:
    for case, result in v2_classes:
        assert violations(v2, case, result) == [], case
        codes = set(result.codes)
        if case.get("functional_status") == "insulinoma":
            assert "caution.ssa_insulinoma" in codes
            if case.get("sstr_status") == "negative":
                assert not codes & {"adv.ssa", "fx.ssa_symptom_control"}, case
                assert "caution.ssa_insulinoma_sstr_negative" in codes, case
        if case["disease_extent"] in ADVANCED:
            assert "nf.observation" not in codes, case


def test_a_localized_tumour_with_ki67_over_20_is_never_observed_and_is_resected_by_size(
    v2_classes: Classes,
) -> None:
    seen = 0
    for case, result in v2_classes:
        if not high_grade_localized(case, result):
            continue
        seen += 1
        codes = set(result.codes)
        assert not codes & {"nf.observation", "nf.imaging_6_months"}, case
        assert "caution.high_grade_localized" in codes, case
        assert "differentiation" in result.asked, case
        if case["tumor_size_cm"] <= 2.0:
            assert "nf.resection_consider_lnd" in codes and "nf.formal_resection_lnd" not in codes, case
        else:
            assert "nf.formal_resection_lnd" in codes and "nf.resection_consider_lnd" not in codes, case
    assert seen > 50


def test_the_high_grade_caution_is_given_only_to_high_grade_localized_tumours(v2_classes: Classes) -> None:
    for case, result in v2_classes:
        given = "caution.high_grade_localized" in result.codes
        assert given is high_grade_localized(case, result), case


def test_ki67_known_is_asked_for_every_localized_nonfunctioning_tumour_and_only_there(
    v2_classes: Classes,
) -> None:
    for case, result in v2_classes:
        localized_nf = case["disease_extent"] == "localized" and case["functional_status"] == "nonfunctioning"
        assert ("ki67_known" in result.asked) is localized_nf, case
        if localized_nf:
            assert ("ki67_percent" in result.asked) is case["ki67_known"], case
            grade_3 = case["ki67_known"] and case["ki67_percent"] > 20
            assert ("differentiation" in result.asked) is grade_3, case


def test_cytoreductive_surgery_asks_the_location_and_a_body_or_tail_primary_gets_vaccination(
    v2_classes: Classes,
) -> None:
    seen = set()
    for case, result in v2_classes:
        codes = set(result.codes)
        if "adv.cytoreductive_surgery" not in codes:
            continue
        assert "tumor_location" in result.asked, case
        body_tail = case["tumor_location"] in BODY_TAIL
        assert ("special.splenectomy_vaccination" in codes) is body_tail, case
        seen.add(case["tumor_location"])
    assert seen == {"duodenum", "head", "body", "tail"}


def test_every_resection_of_a_body_or_tail_tumour_carries_vaccination(v2_classes: Classes) -> None:
    for case, result in v2_classes:
        if "tumor_location" in result.asked and case["tumor_location"] in BODY_TAIL:
            assert "special.splenectomy_vaccination" in result.codes, case
        if "special.splenectomy_vaccination" in result.codes:
            assert case["tumor_location"] in BODY_TAIL, case


def test_follow_up_after_resection_only_for_localized_walks_and_restaging_for_advanced_ones(
    v2: engine.Snapshot, v2_classes: Classes
) -> None:
    for case, result in v2_classes:
        codes = set(result.codes)
        post = "followup.post_treatment" in codes
        restaging = "followup.advanced_restaging" in codes
        if result.outcome == "observation":
            assert not post and not restaging, case
            assert "nf.imaging_6_months" in codes
        elif case["disease_extent"] == "localized":
            assert post and not restaging, case
            assert result.outcome.startswith("surgery_"), case
        else:
            assert restaging and not post, case
    assert "recurrence" not in v2.recommendations["followup.advanced_restaging"].text
    assert "late recurrence" in v2.recommendations["followup.post_treatment"].text


def test_every_code_of_the_contract_and_every_node_is_reachable(
    v2: engine.Snapshot, v2_classes: Classes
) -> None:
    reached_codes: set[str] = set()
    reached_nodes: set[str] = set()
    for _, result in v2_classes:
        reached_codes.update(result.codes)
        reached_nodes.update(result.path)
    assert set(v2.recommendations) == CONTRACT_CODES
    assert reached_codes == CONTRACT_CODES
    assert reached_nodes == set(v2.nodes)


# Version 1 for the same answers ---------------------------------------------------------------


def test_without_a_ki67_index_a_localized_nonfunctioning_tumour_routes_as_in_version_1(
    v1: engine.Snapshot, v2: engine.Snapshot, v2_classes: Classes
) -> None:
    compared = 0
    for case, result in v2_classes:
        if case.get("ki67_known") is not False:
            continue
        compared += 1
        before = engine.evaluate(v1, {k: v for k, v in case.items() if k != "ki67_known"})
        assert before.outcome == result.outcome, case
        assert sorted(before.codes) == sorted(result.codes), case
        assert list(before.path) == [slug for slug in result.path if slug != "nf_grade"], case
        assert set(result.asked) == {*before.asked, "ki67_known"}, case
    assert compared > 100


def test_every_version_1_walk_keeps_its_outcome_and_codes_apart_from_the_version_2_changes(
    v2: engine.Snapshot, v1_classes: Classes
) -> None:
    """Only 6.1 (a grade question), 6.2 (follow-up by extent) and 6.3 (location before
    cytoreductive surgery) change a version 1 walk; everything else stays as it was."""
    for case, before in v1_classes:
        answers = dict(case)
        added = set()
        if case["disease_extent"] == "localized" and case["functional_status"] == "nonfunctioning":
            answers["ki67_known"] = False
            added.add("ki67_known")
        if "adv.cytoreductive_surgery" in before.codes:
            answers["tumor_location"] = "head"
            added.add("tumor_location")
        after = engine.evaluate(v2, answers)
        assert after.outcome == before.outcome, case
        expected = set(before.codes)
        if case["disease_extent"] in ADVANCED:
            expected = expected - {"followup.post_treatment"} | {"followup.advanced_restaging"}
        assert set(after.codes) == expected, case
        assert set(after.asked) == set(before.asked) | added, case
        assert [slug for slug in after.path if slug not in NEW_IN_V2] == list(before.path), case


# Named cases of the new branches --------------------------------------------------------------


def test_incidental_0_9_cm_tumour_with_ki67_40_is_resected_not_observed(v2: engine.Snapshot) -> None:
    result = walk(v2, cases.NONFUNCTIONING_HIGH_GRADE_0_9CM)
    assert result.outcome == "surgery_body_tail"
    assert {
        "caution.high_grade_localized",
        "nf.resection_consider_lnd",
        "special.splenectomy_vaccination",
    } <= set(result.codes)
    assert "nf.observation" not in result.codes
    assert result.ignored == ("incidental",)


def test_incidental_0_9_cm_tumour_without_a_ki67_index_may_still_be_observed(v2: engine.Snapshot) -> None:
    case = {
        "suspected_syndrome": "none",
        "functional_status": "nonfunctioning",
        "disease_extent": "localized",
        "tumor_size_cm": 0.9,
        "incidental": True,
        "tumor_location": "body",
    }
    stopped = walk(v2, case)
    assert not stopped.complete and stopped.missing == ("ki67_known",)
    result = walk(v2, {**case, "ki67_known": False})
    assert result.outcome == "observation"
    assert {"nf.observation", "nf.imaging_6_months"} <= set(result.codes)


def test_ki67_of_exactly_20_percent_is_not_high_grade(v2: engine.Snapshot) -> None:
    result = walk(
        v2,
        {
            "suspected_syndrome": "none",
            "functional_status": "nonfunctioning",
            "disease_extent": "localized",
            "tumor_size_cm": 0.5,
            "ki67_known": True,
            "ki67_percent": 20,
            "incidental": True,
        },
    )
    assert result.outcome == "observation"
    assert "caution.high_grade_localized" not in result.codes


def test_metastatic_tumour_of_the_tail_with_resectable_liver_metastases_is_vaccinated(
    v2: engine.Snapshot,
) -> None:
    case = {
        "suspected_syndrome": "none",
        "functional_status": "nonfunctioning",
        "disease_extent": "metastatic",
        "ki67_percent": 5,
        "liver_metastases": "resectable",
        "sstr_status": "positive",
        "progressive": False,
    }
    stopped = walk(v2, case)
    assert stopped.missing == ("tumor_location",)
    result = walk(v2, {**case, "tumor_location": "tail"})
    assert {
        "adv.cytoreductive_surgery",
        "special.splenectomy_vaccination",
        "followup.advanced_restaging",
    } <= set(result.codes)
    assert "followup.post_treatment" not in result.codes


# Texts a clinician reads ----------------------------------------------------------------------


def test_surveillance_of_stable_sstr_negative_disease_is_shown_as_the_pathway_s_resolution(
    v2: engine.Snapshot,
) -> None:
    rec = v2.recommendations["adv.active_surveillance"]
    assert rec.citations == ()
    assert "resolution" in rec.note and "not a statement of the source" in rec.note
    assert "antitumour therapy" in rec.text
    assert "None of the source's therapies" not in rec.text


def test_sstr_imaging_request_reads_consistently_beside_symptom_control(
    v2: engine.Snapshot, v2_classes: Classes
) -> None:
    obtain = v2.recommendations["adv.obtain_sstr_imaging"].text
    assert "to control the tumour" in obtain
    assert "for symptom control" not in obtain
    both = [
        case
        for case, result in v2_classes
        if {"adv.obtain_sstr_imaging", "fx.ssa_symptom_control"} <= set(result.codes)
    ]
    assert both, "a functioning tumour with unknown SSTR status shows both"
    assert "hormone-related symptoms" in v2.recommendations["fx.ssa_symptom_control"].text


def test_the_small_tumour_caution_explains_itself_above_a_tumour_of_1_cm_or_less(
    v2: engine.Snapshot, v2_classes: Classes
) -> None:
    small = [
        case
        for case, result in v2_classes
        if "caution.small_tumor_malignant_potential" in result.codes and case["tumor_size_cm"] <= 1.0
    ]
    assert small
    assert "1 cm or less" in v2.recommendations["caution.small_tumor_malignant_potential"].text


def test_location_appropriate_resection_pairs_each_operation_with_its_location(v2: engine.Snapshot) -> None:
    rec = v2.recommendations["surgery.location_appropriate"]
    assert rec.citations == ("4",)
    head, _, body_tail = rec.text.partition(";")
    assert "head" in head and "pancreatoduodenectomy" in head and "distal" not in head
    assert (
        "tail" in body_tail
        and "distal pancreatectomy" in body_tail
        and "pancreatoduodenectomy" not in body_tail
    )


def test_rewritten_texts_read_clearly(v2_document: dict[str, Any], v2: engine.Snapshot) -> None:
    pathway = v2_document["pathway"]
    assert "Educational purpose only" in pathway["disclaimer"]
    assert "summarises one guideline summary" not in pathway["intended_use"]
    assert v2.recommendations["caution.lymph_node_sampling"].text.count("1.5 cm") == 1
    assert not v2.recommendations["caution.ssa_insulinoma_sstr_negative"].title.startswith("Never a")
    assert "neuroendocrine carcinoma (NEC)" in v2.nodes["advanced_g3_poor"].title
    shown = json.dumps(v2_document, ensure_ascii=False)
    assert "G3 carcinoma" not in shown


def test_every_recommendation_still_cites_a_listed_reference_or_says_why_not(v2: engine.Snapshot) -> None:
    for rec in v2.recommendations.values():
        assert all(label in v2.references for label in rec.citations), rec.code
        if not rec.citations:
            assert rec.code == "adv.active_surveillance"


# Newer guidance (contract 6.5): each note shown exactly when the contract's table says ----------


def _asked(case: dict[str, Any], result: engine.Evaluation, key: str) -> Any:
    return case.get(key) if key in result.asked else None


def contract_notes(case: dict[str, Any], result: engine.Evaluation) -> set[str]:
    """The contract's "shown when" column, written out independently of the document."""
    codes = set(result.codes)
    size = _asked(case, result, "tumor_size_cm")
    ki67 = _asked(case, result, "ki67_percent")
    localized_nf = (
        case.get("disease_extent") == "localized" and case.get("functional_status") == "nonfunctioning"
    )
    shown = {"newer.hereditary_screening"}
    if "nf.observation" in codes and _asked(case, result, "ki67_known") is False:
        shown.add("newer.grade_before_surveillance")
    if localized_nf and size is not None and 1.0 < size <= 2.0 and not high_grade_localized(case, result):
        shown.add("newer.surveillance_up_to_2cm")
    if codes & {"adv.ssa", "adv.targeted_therapy_wd_g3"}:
        shown.add("newer.prrt")
    if "adv.everolimus_or_sunitinib" in codes:
        shown |= {"newer.captem", "newer.cabozantinib"}
    if "adv.ssa" in codes and ki67 is not None and ki67 >= 10:
        shown.add("newer.ssa_ki67_below_10")
    if _asked(case, result, "differentiation") == "poor":
        shown.add("newer.nec_platinum_etoposide")
    if "special.splenectomy_vaccination" in codes:
        shown.add("newer.asplenia_vaccines")
    if "followup.post_treatment" in codes:
        shown.add("newer.followup_schedule")
    if "insulinoma" in (case.get("suspected_syndrome"), case.get("functional_status")):
        shown.add("newer.insulinoma_diagnosis")
    return shown


def test_every_newer_guidance_note_shows_exactly_when_the_contract_says(
    v2: engine.Snapshot, v2_classes: Classes
) -> None:
    seen: set[str] = set()
    for case, result in v2_classes:
        if not result.complete:
            continue
        shown = {note.code for note in engine.newer_guidance(v2, result, case)}
        assert shown == contract_notes(case, result), case
        seen |= shown
    assert seen == {note.code for note in v2.notes}
    assert len(seen) == 11


def test_newer_guidance_changes_no_routing_and_no_code(
    v2_document: dict[str, Any], v2_classes: Classes
) -> None:
    without = snapshot_from_document({**v2_document, "newer_guidance": []})
    for case, result in v2_classes:
        again = engine.evaluate(without, case)
        assert (again.codes, again.path, again.outcome) == (result.codes, result.path, result.outcome)


# Published by the data migrations --------------------------------------------------------------


@pytest.mark.django_db
def test_the_data_migration_publishes_version_2_and_retires_version_1(v2_document: dict[str, Any]) -> None:
    from django.apps import apps

    from pathways.content_io import content_hash, export_document, import_document, load_bundled
    from pathways.models import Pathway, PathwayVersion, Walk

    # From the state before it (the test database may have been flushed): version 1 published.
    Walk.objects.all().delete()
    PathwayVersion.objects.update(status="draft")
    Pathway.objects.all().delete()
    import_document(load_bundled("pnet"), status="published")
    publish_v2 = importlib.import_module("pathways.migrations.0008_publish_pnet_v2").publish_v2
    publish_v2(apps, None)
    publish_v2(apps, None)  # applied again (after being unapplied): nothing more

    versions = {v.number: v for v in PathwayVersion.objects.filter(pathway__slug="pnet")}
    assert {n: v.status for n, v in versions.items()} == {1: "retired", 2: "published"}
    exported = export_document(versions[2])
    assert {k: v for k, v in exported.items() if k != "version"} == {
        k: v for k, v in v2_document.items() if k != "version"
    }
    assert exported["version"]["note"] == v2_document["version"]["note"]
    for version in versions.values():
        assert content_hash(export_document(version)) == version.content_hash
