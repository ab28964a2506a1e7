"""The engine on the PNET pathway, without a database."""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from bench import generate
from pathways import engine
from pathways.document import snapshot_from_document
from tests import cases
from tests.conftest import CONTENT
from tests.invariants import violations

NF_LOCAL = {**cases.NONFUNCTIONING, "disease_extent": "localized"}
NF_MET = {**cases.NONFUNCTIONING, "disease_extent": "metastatic"}


def run(snapshot: engine.Snapshot, **case: Any) -> engine.Evaluation:
    answers, errors = engine.validate_case(snapshot, case)
    assert errors == {}
    return engine.evaluate(snapshot, answers)


def codes(snapshot: engine.Snapshot, **case: Any) -> set[str]:
    result = run(snapshot, **case)
    assert result.complete, result.missing
    return set(result.codes)


@pytest.mark.parametrize("module", ["engine.py", "document.py", "graph.py"])
def test_pure_core_module_imports_nothing_from_django(module: str) -> None:
    source = (Path(engine.__file__).parent / module).read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    assert imported and not any(name.split(".")[0] == "django" for name in imported)


def test_only_the_engine_decides_routes_outside_the_content_checks() -> None:
    """Views, presentation and the flowchart ask the engine; they never test a condition themselves."""
    package = Path(engine.__file__).parent
    testing = {"holds", "matches", "applies"}
    offenders = []
    for path in sorted(package.rglob("*.py")):
        # The gate analyses the conditions (its index of the classes tests the safety rules'); the
        # FHIR proof evaluates the export's own FHIRPath expressions (its ``holds``) to show they
        # decide as the engine does.
        if (
            path.name in {"engine.py", "validation.py", "case_index.py"}
            or path.relative_to(package).as_posix() == "fhir/check.py"
        ):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in testing
            ):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


# --- The contract's examples -------------------------------------------------------------


def test_contract_example_incidental_small_body_tumour_is_observed(snapshot: engine.Snapshot) -> None:
    result = run(snapshot, **cases.version_1(cases.NONFUNCTIONING_INCIDENTAL_0_9CM))
    assert result.complete
    assert {"nf.observation", "nf.imaging_6_months"} <= set(result.codes)
    assert "nf.resection_consider_lnd" not in result.codes
    assert result.ignored == ("tumor_location",)


def test_contract_example_duodenal_gastrinoma(snapshot: engine.Snapshot) -> None:
    got = codes(snapshot, **cases.GASTRINOMA_DUODENUM_0_6CM)
    assert {
        "fx.resection_regardless_of_size",
        "fx.gastrinoma_ppi",
        "surgery.duodenotomy_local_resection",
    } <= got


def test_contract_example_metastatic_well_differentiated_g3(snapshot: engine.Snapshot) -> None:
    result = run(snapshot, **cases.METASTATIC_WELL_DIFFERENTIATED_G3)
    assert result.complete
    assert {"adv.chemotherapy_g3", "adv.targeted_therapy_wd_g3"} <= set(result.codes)
    assert "adv.ssa" not in result.codes
    assert result.ignored == ("liver_metastases",)


# --- Size bands (contract boundaries) ------------------------------------------------------


@pytest.mark.parametrize("size", [0.9, 1.0])
def test_observation_offered_for_incidental_tumour_up_to_1_cm(snapshot: engine.Snapshot, size: float) -> None:
    result = run(snapshot, **NF_LOCAL, tumor_size_cm=size, incidental=True)
    assert result.outcome == "observation"
    assert "followup.post_treatment" not in result.codes


def test_tumour_of_1_cm_not_found_incidentally_follows_the_1_to_2_cm_rule(snapshot: engine.Snapshot) -> None:
    got = codes(snapshot, **NF_LOCAL, tumor_size_cm=1.0, incidental=False, tumor_location="head")
    assert "nf.observation" not in got
    assert {"nf.resection_consider_lnd", "caution.small_tumor_malignant_potential"} <= got
    assert "caution.lymph_node_sampling" not in got


@pytest.mark.parametrize(
    ("size", "expected", "absent"),
    [
        (1.1, {"nf.resection_consider_lnd", "caution.small_tumor_malignant_potential"}, {"nf.observation"}),
        (1.5, {"nf.resection_consider_lnd"}, {"caution.lymph_node_sampling"}),
        (1.6, {"nf.resection_consider_lnd", "caution.lymph_node_sampling"}, set()),
        (
            2.0,
            {"nf.resection_consider_lnd", "caution.small_tumor_malignant_potential"},
            {"nf.formal_resection_lnd"},
        ),
        (
            2.1,
            {"nf.formal_resection_lnd", "caution.lymph_node_sampling"},
            {"nf.resection_consider_lnd", "caution.small_tumor_malignant_potential"},
        ),
    ],
)
def test_size_band_boundaries(snapshot: engine.Snapshot, size: float, expected: set, absent: set) -> None:
    got = codes(snapshot, **NF_LOCAL, tumor_size_cm=size, tumor_location="head")
    assert expected <= got
    assert not (absent & got)
    assert "incidental" not in run(snapshot, **NF_LOCAL, tumor_size_cm=size).asked


@pytest.mark.parametrize(("size", "caution"), [(1.5, False), (1.6, True), (0.4, False), (25, True)])
def test_lymph_node_caution_for_resected_functioning_tumours_over_1_5_cm(
    snapshot: engine.Snapshot, size: float, caution: bool
) -> None:
    got = codes(
        snapshot,
        suspected_syndrome="insulinoma",
        functional_status="insulinoma",
        sstr_status="positive",
        disease_extent="localized",
        tumor_size_cm=size,
        tumor_location="head",
    )
    assert ("caution.lymph_node_sampling" in got) is caution
    assert "fx.resection_regardless_of_size" in got


# --- Grade (contract boundaries) --------------------------------------------------------------


@pytest.mark.parametrize(("ki67", "g3"), [(0, False), (3, False), (20, False), (20.1, True), (100, True)])
def test_ki67_boundary_between_g1_g2_and_g3(snapshot: engine.Snapshot, ki67: float, g3: bool) -> None:
    result = run(snapshot, **NF_MET, ki67_percent=ki67)
    next_question = result.missing
    assert next_question == (("differentiation",) if g3 else ("liver_metastases",))


def test_g3_poorly_differentiated_gets_chemotherapy_only(snapshot: engine.Snapshot) -> None:
    got = codes(snapshot, **NF_MET, ki67_percent=55, differentiation="poor")
    assert "adv.chemotherapy_g3" in got
    assert "adv.targeted_therapy_wd_g3" not in got
    assert "followup.post_treatment" in got


# --- Workup and imaging ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("syndrome", "panel"),
    [
        ("insulinoma", "workup.insulinoma_panel"),
        ("gastrinoma", "workup.gastrin"),
        ("glucagonoma", "workup.glucagon_panel"),
        ("vipoma", "workup.vip_panel"),
        ("none", None),
        ("other", None),
    ],
)
def test_workup_orders_the_panel_of_the_suspected_syndrome(
    snapshot: engine.Snapshot, syndrome: str, panel: str | None
) -> None:
    result = run(snapshot, suspected_syndrome=syndrome)
    panels = {code for code in result.codes if code.startswith("workup.") and code != "workup.cga_5hiaa"}
    assert "workup.cga_5hiaa" in result.codes
    assert panels == ({panel} if panel else set())
    assert result.missing == ("functional_status",)


def test_first_step_asks_the_suspected_syndrome(snapshot: engine.Snapshot) -> None:
    result = engine.evaluate(snapshot, {})
    assert not result.complete
    assert result.outcome is None
    assert result.missing == ("suspected_syndrome",)
    assert {"general.multidisciplinary", "workup.cga_5hiaa"} <= set(result.codes)


def test_imaging_recommended_after_the_biochemical_result(snapshot: engine.Snapshot) -> None:
    result = run(snapshot, suspected_syndrome="none", functional_status="nonfunctioning")
    assert {"imaging.ct_mri", "imaging.sstr_pet", "imaging.eus"} <= set(result.codes)
    assert result.missing == ("disease_extent",)


# --- Functioning tumours ---------------------------------------------------------------------------

SYNDROME_CONTROL = {
    "insulinoma": "fx.insulinoma_glucose_control",
    "gastrinoma": "fx.gastrinoma_ppi",
    "glucagonoma": "fx.glucagonoma_glycemia",
    "vipoma": "fx.vipoma_electrolytes",
    "other_functional": None,
}


@pytest.mark.parametrize("status", list(SYNDROME_CONTROL))
def test_localized_functioning_tumour_preoperative_control(snapshot: engine.Snapshot, status: str) -> None:
    case: dict[str, Any] = {
        "suspected_syndrome": "other",
        "functional_status": status,
        "disease_extent": "localized",
        "tumor_size_cm": 0.8,
        "tumor_location": "tail",
    }
    if status == "insulinoma":
        case["sstr_status"] = "positive"
    if status == "gastrinoma":
        case["tumor_location"] = "tail"
    got = codes(snapshot, **case)
    assert {"fx.resection_regardless_of_size", "fx.preop_symptom_control"} <= got
    specific = {code for code in SYNDROME_CONTROL.values() if code}
    expected = SYNDROME_CONTROL[status]
    assert got & specific == ({expected} if expected else set())
    assert ("fx.ssa_symptom_control" in got) is (status != "insulinoma")
    assert ("caution.ssa_insulinoma" in got) is (status == "insulinoma")
    assert "special.splenectomy_vaccination" in got


def test_insulinoma_with_negative_sstr_imaging_is_warned_and_gets_no_analogue(
    snapshot: engine.Snapshot,
) -> None:
    got = codes(snapshot, **cases.INSULINOMA_METASTATIC_SSTR_NEGATIVE)
    assert {"caution.ssa_insulinoma", "caution.ssa_insulinoma_sstr_negative"} <= got
    assert not (got & {"adv.ssa", "fx.ssa_symptom_control"})


def test_sstr_status_of_an_insulinoma_is_asked_once(snapshot: engine.Snapshot) -> None:
    result = run(
        snapshot,
        suspected_syndrome="insulinoma",
        functional_status="insulinoma",
        sstr_status="positive",
        disease_extent="locally_advanced",
        ki67_percent=5,
    )
    assert result.missing == ("progressive",)
    assert "adv.ssa" in result.codes


@pytest.mark.parametrize("extent", ["metastatic", "locally_advanced"])
def test_advanced_functioning_tumour_keeps_symptom_control(snapshot: engine.Snapshot, extent: str) -> None:
    case = {
        "suspected_syndrome": "vipoma",
        "functional_status": "vipoma",
        "disease_extent": extent,
        "ki67_percent": 30,
        "differentiation": "well",
    }
    got = codes(snapshot, **case)
    assert {"fx.vipoma_electrolytes", "fx.ssa_symptom_control", "adv.chemotherapy_g3"} <= got
    assert not (got & {"fx.resection_regardless_of_size", "fx.preop_symptom_control"})


# --- Surgical approach by location ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "head_type", "surgery", "spleen"),
    [
        ("duodenum", None, "surgery.duodenotomy_local_resection", False),
        ("head", "exophytic", "surgery.enucleation_periduodenal_nodes", False),
        ("head", "deep", "surgery.pancreatoduodenectomy", False),
        ("body", None, "surgery.distal_pancreatectomy", True),
        ("tail", None, "surgery.distal_pancreatectomy", True),
    ],
)
def test_gastrinoma_surgery_by_location(
    snapshot: engine.Snapshot, location: str, head_type: str | None, surgery: str, spleen: bool
) -> None:
    case: dict[str, Any] = {
        "suspected_syndrome": "gastrinoma",
        "functional_status": "gastrinoma",
        "disease_extent": "localized",
        "tumor_size_cm": 1.2,
        "tumor_location": location,
    }
    if head_type:
        case["gastrinoma_head_type"] = head_type
    got = codes(snapshot, **case)
    surgeries = {code for code in got if code.startswith("surgery.")}
    assert surgeries == {surgery}
    assert ("special.splenectomy_vaccination" in got) is spleen


def test_head_type_is_asked_only_for_head_gastrinomas(snapshot: engine.Snapshot) -> None:
    result = run(
        snapshot,
        suspected_syndrome="gastrinoma",
        functional_status="gastrinoma",
        disease_extent="localized",
        tumor_size_cm=1.2,
        tumor_location="head",
    )
    assert result.missing == ("gastrinoma_head_type",)


@pytest.mark.parametrize(
    ("location", "spleen"), [("duodenum", False), ("head", False), ("body", True), ("tail", True)]
)
def test_other_tumours_get_location_appropriate_resection(
    snapshot: engine.Snapshot, location: str, spleen: bool
) -> None:
    got = codes(snapshot, **NF_LOCAL, tumor_size_cm=3, tumor_location=location)
    assert {code for code in got if code.startswith("surgery.")} == {"surgery.location_appropriate"}
    assert ("special.splenectomy_vaccination" in got) is spleen
    assert "followup.post_treatment" in got


# --- Advanced G1-G2 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sstr", "progressive", "liver", "expected", "absent"),
    [
        ("positive", False, "none", {"adv.ssa"}, {"adv.everolimus_or_sunitinib", "adv.active_surveillance"}),
        ("not_done", False, "none", {"adv.obtain_sstr_imaging"}, {"adv.ssa", "adv.active_surveillance"}),
        ("negative", False, "none", {"adv.active_surveillance"}, {"adv.ssa", "adv.everolimus_or_sunitinib"}),
        ("negative", True, "none", {"adv.everolimus_or_sunitinib"}, {"adv.active_surveillance"}),
        (
            "negative",
            False,
            "resectable",
            {"adv.cytoreductive_surgery", "adv.liver_locoregional"},
            {"adv.active_surveillance"},
        ),
        (
            "positive",
            True,
            "unresectable",
            {"adv.ssa", "adv.everolimus_or_sunitinib", "adv.liver_locoregional"},
            {"adv.cytoreductive_surgery"},
        ),
    ],
)
def test_metastatic_g1_g2_management(
    snapshot: engine.Snapshot, sstr: str, progressive: bool, liver: str, expected: set, absent: set
) -> None:
    got = codes(
        snapshot, **NF_MET, ki67_percent=10, liver_metastases=liver, sstr_status=sstr, progressive=progressive
    )
    assert expected <= got
    assert not (absent & got)
    assert "followup.post_treatment" in got
    assert "nf.observation" not in got


def test_locally_advanced_g1_g2_stable_sstr_negative_gets_surveillance(snapshot: engine.Snapshot) -> None:
    result = run(
        snapshot,
        suspected_syndrome="none",
        functional_status="nonfunctioning",
        disease_extent="locally_advanced",
        ki67_percent=20,
        sstr_status="negative",
        progressive=False,
    )
    assert result.outcome == "advanced_g12_surveillance"
    assert "adv.active_surveillance" in result.codes
    assert "liver_metastases" not in result.asked


# --- Walk mechanics -----------------------------------------------------------------------------------------


def test_incomplete_case_names_the_next_variable(snapshot: engine.Snapshot) -> None:
    result = run(snapshot, **NF_LOCAL)
    assert not result.complete
    assert result.outcome is None
    assert result.current == "size"
    assert result.missing == ("tumor_size_cm",)


def test_optional_laboratory_values_are_recorded_not_ignored(snapshot: engine.Snapshot) -> None:
    result = run(snapshot, suspected_syndrome="none", gastrin_pg_ml=120.5, chromogranin_a_ng_ml=80)
    assert result.ignored == ()


def test_unasked_variables_are_ignored(snapshot: engine.Snapshot) -> None:
    result = run(
        snapshot, **NF_MET, ki67_percent=50, differentiation="poor", tumor_size_cm=3, incidental=True
    )
    assert set(result.ignored) == {"tumor_size_cm", "incidental"}


def test_why_trace_records_the_condition_and_value_that_fired(snapshot: engine.Snapshot) -> None:
    result = run(snapshot, **NF_LOCAL, tumor_size_cm=1.6, tumor_location="tail")
    size_decision = next(d for d in result.trace if d.node == "size")
    fired = {(f.condition.variable, f.condition.op, f.value) for f in size_decision.fired}
    assert ("tumor_size_cm", "gt", 1.6) in fired
    assert size_decision.edge.target == "nf_small_resection"
    assert "1-2 cm" in size_decision.edge.note or "1.0 cm" in size_decision.edge.note


def test_a_recommendation_is_explained_only_by_the_decisions_before_the_step_that_gave_it(
    snapshot: engine.Snapshot,
) -> None:
    result = run(snapshot, **NF_LOCAL, tumor_size_cm=1.75, tumor_location="duodenum")
    why = result.why["caution.lymph_node_sampling"]
    assert why.node == "location"
    # The location decision is taken at the step that gave the caution, so it is not part of why.
    assert [d.node for d in why.decisions] == [
        "syndrome",
        "biochem_general",
        "imaging",
        "extent",
        "size",
        "nf_small_resection",
    ]
    assert [(f.condition.variable, f.condition.op, f.value) for f in why.fired] == [
        ("tumor_size_cm", "gt", 1.75)
    ]
    assert result.why["general.multidisciplinary"].decisions == ()
    assert [d.node for d in result.why["imaging.ct_mri"].decisions] == ["syndrome", "biochem_general"]


def test_only_questions_on_the_current_path_are_askable(snapshot: engine.Snapshot) -> None:
    result = run(snapshot, **NF_LOCAL, tumor_size_cm=1.75)
    assert result.current == "location"
    assert engine.askable(snapshot, result, "syndrome")
    assert engine.askable(snapshot, result, "location")
    assert not engine.askable(snapshot, result, "imaging"), "an information step asks nothing"
    assert not engine.askable(snapshot, result, "ki67"), "a question off the path"
    assert not engine.askable(snapshot, result, "")


def test_open_routes_keep_the_edge_taken_and_rule_out_branches_the_answers_exclude(
    snapshot: engine.Snapshot,
) -> None:
    answers = {**NF_LOCAL, "tumor_size_cm": 1.75}
    result = engine.evaluate(snapshot, answers)
    routes = engine.open_routes(snapshot, result, answers)
    assert set(result.path) <= routes.nodes
    assert {(d.node, d.edge.target) for d in result.trace} <= routes.links
    taken_at_syndrome = next(d.edge.target for d in result.trace if d.node == "syndrome")
    assert {target for source, target in routes.links if source == "syndrome"} == {taken_at_syndrome}
    assert "ki67" not in routes.nodes and "observation" not in routes.nodes
    assert {"surgery_head", "surgery_body_tail"} <= routes.nodes, "the location is not answered yet"


def test_changing_an_earlier_answer_drops_answers_off_the_new_path(snapshot: engine.Snapshot) -> None:
    answers = {**NF_LOCAL, "tumor_size_cm": 2.5, "tumor_location": "head", "chromogranin_a_ng_ml": 50}
    answers["disease_extent"] = "metastatic"
    kept, result = engine.prune(snapshot, answers)
    assert "tumor_size_cm" not in kept
    assert "tumor_location" not in kept
    assert kept["chromogranin_a_ng_ml"] == 50
    assert result.missing == ("ki67_percent",)


def test_cycle_in_content_is_reported(snapshot: engine.Snapshot) -> None:
    node = snapshot.nodes["location"]
    looping = engine.Node(
        slug=node.slug,
        kind=engine.INFO,
        stage=node.stage,
        title=node.title,
        edges=(engine.Edge("location", "nf_large_resection", 1),),
    )
    broken = engine.Snapshot(
        pathway="x",
        version=1,
        start="nf_large_resection",
        nodes={**snapshot.nodes, "location": looping},
        variables=snapshot.variables,
        references=snapshot.references,
        recommendations=snapshot.recommendations,
    )
    with pytest.raises(engine.PathwayError):
        engine.evaluate(broken, {})


# --- Validation of typed cases and of form text ---------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "key"),
    [
        ({"tumour_size": 1}, "tumour_size"),
        ({"suspected_syndrome": "carcinoid"}, "suspected_syndrome"),
        ({"suspected_syndrome": 3}, "suspected_syndrome"),
        ({"tumor_size_cm": 0}, "tumor_size_cm"),
        ({"tumor_size_cm": 30.01}, "tumor_size_cm"),
        ({"tumor_size_cm": -1}, "tumor_size_cm"),
        ({"tumor_size_cm": float("nan")}, "tumor_size_cm"),
        ({"tumor_size_cm": float("inf")}, "tumor_size_cm"),
        ({"tumor_size_cm": "1.5"}, "tumor_size_cm"),
        ({"tumor_size_cm": True}, "tumor_size_cm"),
        ({"ki67_percent": 100.5}, "ki67_percent"),
        ({"incidental": "true"}, "incidental"),
        ({"incidental": 1}, "incidental"),
        ({"progressive": None}, "progressive"),
    ],
)
def test_invalid_case_values_are_reported_by_key(snapshot: engine.Snapshot, case: dict, key: str) -> None:
    _answers, errors = engine.validate_case(snapshot, case)
    assert list(errors) == [key]
    assert errors[key]


@pytest.mark.parametrize(("value", "ok"), [(30, True), (0.01, True), (0, False), (30.000001, False)])
def test_size_bounds_are_open_at_zero_and_closed_at_30(
    snapshot: engine.Snapshot, value: float, ok: bool
) -> None:
    _, errors = engine.validate_case(snapshot, {"tumor_size_cm": value})
    assert (errors == {}) is ok


@pytest.mark.parametrize(
    "text",
    [
        "1e3",
        "1E0",
        "NaN",
        "inf",
        "-inf",
        "١٫٥",
        "١",
        "1,5,0",
        "1.5,0",
        "0x10",
        "1_0",
        "",
        " ",
        "1.2.3",
        "+1",
        "½",
    ],
)
def test_form_text_that_is_not_a_plain_decimal_is_refused(snapshot: engine.Snapshot, text: str) -> None:
    _value, message = snapshot.variables["tumor_size_cm"].parse_text(text)
    assert message


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.5", 1.5),
        (" 2 ", 2),
        ("0.9", 0.9),
        ("30", 30),
        (".5", 0.5),
        # A decimal comma is a decimal point (Chromium's number field dropped it: 15 cm).
        ("1,5", 1.5),
        ("0,9", 0.9),
        (",5", 0.5),
        ("12,25", 12.25),
        # The asked unit typed after the number is read as that unit.
        ("1.5 cm", 1.5),
        ("1,5cm", 1.5),
        ("2 CM", 2),
        ("1.5\u00a0cm", 1.5),
    ],
)
def test_plain_decimals_are_parsed(snapshot: engine.Snapshot, text: str, value: float) -> None:
    parsed, message = snapshot.variables["tumor_size_cm"].parse_text(text)
    assert message is None
    assert parsed == value


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("15 mm", "Enter the value in cm: 15 mm is 1.5 cm."),
        ("15mm", "Enter the value in cm: 15 mm is 1.5 cm."),
        ("8,5 mm", "Enter the value in cm: 8,5 mm is 0.85 cm."),
        ("1.5 in", "Enter the value in cm (“in” is not that unit)."),
        ("1,500", "“1,500” could mean 1.500 or 1500: type it with a decimal point, e.g. 1.500."),
        ("abc", "Enter a plain number with digits and an optional decimal point, e.g. 1.5."),
    ],
)
def test_a_number_that_could_be_misread_is_refused_with_what_to_type(
    snapshot: engine.Snapshot, text: str, says: str
) -> None:
    parsed, message = snapshot.variables["tumor_size_cm"].parse_text(text)
    assert (parsed, message) == (None, says)


def test_a_unit_is_compared_without_case_spaces_or_the_micro_sign(snapshot: engine.Snapshot) -> None:
    insulin = snapshot.variables["insulin_uu_ml"]
    assert insulin.parse_text("12 µU/mL") == (12, None)
    assert insulin.parse_text("12 uU / ml") == (12, None)
    assert insulin.parse_text("12 mU/L")[1] == "Enter the value in µU/mL (“mU/L” is not that unit)."
    assert snapshot.variables["ki67_percent"].parse_text("3,5 %") == (3.5, None)


# --- The whole input space --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def all_classes(snapshot: engine.Snapshot) -> list[tuple[dict, engine.Evaluation]]:
    return list(engine.enumerate_cases(snapshot))


@pytest.fixture(scope="module", params=["pnet.json", "pnet-v2.json"], ids=["version-1", "version-2"])
def version_classes(request: pytest.FixtureRequest) -> tuple[engine.Snapshot, list]:
    """Each published or retired version of PNET, with every class of case it tells apart."""
    document = json.loads((CONTENT.parent / request.param).read_text(encoding="utf-8"))
    snapshot = snapshot_from_document(document)
    return snapshot, list(engine.enumerate_cases(snapshot))


def test_every_class_of_case_reaches_exactly_one_outcome_and_keeps_the_invariants(
    version_classes: tuple[engine.Snapshot, list],
) -> None:
    snapshot, all_classes = version_classes
    assert len(all_classes) > 1000
    for case, result in all_classes:
        assert result.complete
        assert violations(snapshot, case, result) == [], case


def test_every_recommendation_outcome_and_node_is_reachable(
    version_classes: tuple[engine.Snapshot, list],
) -> None:
    snapshot, all_classes = version_classes
    reached_codes = set()
    reached_nodes = set()
    for _, result in all_classes:
        reached_codes.update(result.codes)
        reached_nodes.update(result.path)
    assert reached_codes == set(snapshot.recommendations)
    assert reached_nodes == set(snapshot.nodes)


def test_every_recommendation_is_explained_by_exactly_the_decisions_before_the_step_that_gave_it(
    version_classes: tuple[engine.Snapshot, list],
) -> None:
    snapshot, all_classes = version_classes
    checked = 0
    for case, result in all_classes:
        assert set(result.why) == set(result.codes), case
        for rec in result.recommendations:
            # The first step on the path that places the recommendation gives it.
            given_at = next(
                index
                for index, slug in enumerate(result.path)
                if rec.code in {placed.code for placed in snapshot.nodes[slug].recommendations}
            )
            before = set(result.path[:given_at])
            expected = tuple(decision for decision in result.trace if decision.node in before)
            why = result.why[rec.code]
            assert why.node == result.path[given_at], (case, rec.code)
            assert why.decisions == expected, (case, rec.code)
            assert [(f.condition, f.value) for f in why.fired] == [
                (condition, case[condition.variable]) for condition in rec.conditions
            ], (case, rec.code)
            checked += 1
    assert checked > 50_000


def test_every_recommendation_cites_a_listed_reference(snapshot: engine.Snapshot) -> None:
    for rec in snapshot.recommendations.values():
        assert rec.citations, rec.code
        assert all(label in snapshot.references for label in rec.citations), rec.code


def test_follow_up_is_given_to_every_complete_walk_except_observation(all_classes: list) -> None:
    for _, result in all_classes:
        assert ("followup.post_treatment" in result.codes) is (result.outcome != "observation")
        assert {
            "general.multidisciplinary",
            "workup.cga_5hiaa",
            "imaging.ct_mri",
            "imaging.sstr_pet",
            "imaging.eus",
        } <= set(result.codes)


# --- The named cases of tests/cases.py ------------------------------------------------------


@pytest.mark.parametrize("name", list(cases.EXPECTED))
def test_each_named_case_gets_the_codes_its_comment_names(v2_snapshot: engine.Snapshot, name: str) -> None:
    case, included, excluded = cases.EXPECTED[name]
    got = codes(v2_snapshot, **case)
    assert included <= got
    assert not got & excluded


# --- Enumeration resumes walks: the same classes as walking each from the start --------------------


def walked_from_the_start(
    snapshot: engine.Snapshot, extra: tuple[engine.Condition, ...] = ()
) -> list[tuple[dict[str, Any], engine.Evaluation]]:
    """Every class of complete walk as the enumeration defines it, each partial case evaluated anew."""
    found = engine.thresholds(snapshot, extra)
    classes = []
    stack: list[dict[str, Any]] = [{}]
    while stack:
        answers = stack.pop()
        result = engine.evaluate(snapshot, answers)
        if result.complete:
            classes.append((answers, result))
            continue
        key = result.missing[0]
        for value in reversed(engine.representatives(snapshot.variables[key], found.get(key, []))):
            stack.append({**answers, key: value})
    return classes


def exactly(result: engine.Evaluation) -> tuple[Any, ...]:
    """Everything an evaluation holds, in order (mappings compare regardless of order)."""
    return (result, list(result.given.items()), list(result.answers.items()), result.why)


def assert_same_classes(snapshot: engine.Snapshot, extra: tuple[engine.Condition, ...] = ()) -> None:
    enumerated = list(engine.enumerate_cases(snapshot, extra))
    expected = walked_from_the_start(snapshot, extra)
    assert len(enumerated) == len(expected)
    for (answers, result), (expected_answers, expected_result) in zip(enumerated, expected, strict=True):
        assert list(answers.items()) == list(expected_answers.items())
        assert exactly(result) == exactly(expected_result)


@pytest.mark.parametrize("content", ["pnet.json", "pnet-v2.json", "pnet-v3.json"])
def test_enumeration_yields_every_pnet_class_as_evaluated_from_the_start(content: str) -> None:
    document = json.loads((CONTENT.parent / content).read_text(encoding="utf-8"))
    snapshot = snapshot_from_document(document)
    extra = tuple(
        engine.Condition(c["variable"], c["op"], c["value"])
        for rule in document.get("safety_rules") or ()
        for c in rule.get("conditions") or ()
    )
    assert_same_classes(snapshot, extra)


def looking_ahead() -> engine.Snapshot:
    """Steps that read answers asked only later, so a walk cannot resume where it stopped.

    The start gives a recommendation on the size, which the second step asks; that step asks two
    variables at once and gives, in this order, a recommendation on the second and one on nothing;
    its edge to the end tests the size too.
    """
    document = {
        "format": "pnet-pathways/1",
        "pathway": {"slug": "ahead", "title": "Ahead"},
        "variables": [
            {"key": "kind", "label": "Kind", "kind": "choice", "choices": [["a", "A"], ["b", "B"]]},
            {"key": "size", "label": "Size", "kind": "number", "minimum": 0, "maximum": 10},
            {"key": "spread", "label": "Spread", "kind": "boolean"},
        ],
        "nodes": [
            {"slug": "start", "kind": "question", "stage": "workup", "title": "Kind?", "fields": ["kind"]},
            {
                "slug": "both",
                "kind": "question",
                "stage": "imaging",
                "title": "Size and spread?",
                "fields": ["size", "spread"],
            },
            {"slug": "small", "kind": "outcome", "stage": "management", "title": "Small"},
            {"slug": "large", "kind": "outcome", "stage": "management", "title": "Large"},
        ],
        "edges": [
            {"source": "start", "target": "both", "order": 1, "conditions": []},
            {
                "source": "both",
                "target": "small",
                "order": 1,
                "conditions": [{"variable": "size", "op": "le", "value": 2}],
            },
            {"source": "both", "target": "large", "order": 2, "conditions": []},
        ],
        "recommendations": [
            {
                "code": "early.size",
                "section": "workup",
                "title": "Early",
                "nodes": ["start"],
                "conditions": [{"variable": "size", "op": "gt", "value": 5}],
            },
            {
                "code": "both.spread",
                "section": "imaging",
                "title": "Spread",
                "nodes": ["both"],
                "conditions": [{"variable": "spread", "op": "eq", "value": True}],
            },
            {"code": "both.always", "section": "imaging", "title": "Always", "nodes": ["both"]},
        ],
        "references": [],
    }
    document["nodes"][0]["start"] = True
    return snapshot_from_document(document)


def test_enumeration_walks_again_from_the_start_when_an_earlier_step_reads_the_new_answer() -> None:
    snapshot = looking_ahead()
    assert_same_classes(snapshot)
    # The start's recommendation on the size, asked later, is given where the size is over 5.
    given = {
        answers["size"]: "early.size" in result.codes for answers, result in engine.enumerate_cases(snapshot)
    }
    assert given[7.5] and not given[2.0]
    # The step's recommendations keep their order whatever was answered first.
    spread = next(r for a, r in engine.enumerate_cases(snapshot) if a["spread"] is True)
    assert spread.codes.index("both.spread") < spread.codes.index("both.always")


def test_enumeration_of_a_generated_pathway_matches_walking_each_class_from_the_start() -> None:
    assert_same_classes(snapshot_from_document(generate.generate(300, 12)))


def test_a_recalled_evaluation_is_the_evaluation_of_the_same_answers(v3_snapshot: engine.Snapshot) -> None:
    """Over every class of walk and every state it passes through: what ``recall`` gives is what
    ``evaluate`` gives, the first time and when remembered."""
    snapshot = dataclasses.replace(v3_snapshot)  # a snapshot of its own: nothing remembered yet
    states = 0
    for answers, complete in engine.enumerate_cases(snapshot):
        keys = list(complete.asked)
        for count in range(len(keys) + 1):
            prefix = {key: answers[key] for key in keys[:count] if key in answers}
            first = engine.recall(snapshot, prefix)
            assert first == engine.evaluate(snapshot, prefix)
            again = engine.recall(snapshot, dict(prefix))
            assert again == first
            states += 1
    assert states > 4572
    assert len(snapshot._recalled) == engine.RECALLED


def test_recall_tells_answers_apart_by_type_and_order(snapshot: engine.Snapshot) -> None:
    snapshot = dataclasses.replace(snapshot)
    as_number = engine.recall(snapshot, {"tumor_size_cm": 1, "unknown_key": 1})
    as_bool = engine.recall(snapshot, {"tumor_size_cm": 1, "unknown_key": True})
    assert as_bool is not as_number and as_bool.answers["unknown_key"] is True
    reordered = engine.recall(snapshot, {"unknown_key": 1, "tumor_size_cm": 1})
    assert reordered == engine.evaluate(snapshot, {"unknown_key": 1, "tumor_size_cm": 1})
    given = {"suspected_syndrome": "none"}
    recalled = engine.recall(snapshot, given)
    given["suspected_syndrome"] = "insulinoma"  # the caller's dict changes: the evaluation does not
    assert recalled.answers["suspected_syndrome"] == "none"
    assert engine.recall(snapshot, given) == engine.evaluate(snapshot, given)
