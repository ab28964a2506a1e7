"""The publish gate, rule by rule: each check has a small document that breaks it."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from pathways import validation
from pathways.document import snapshot_from_document
from tests.conftest import CONTENT_V3


def condition(variable: str, op: str, value: Any) -> dict[str, Any]:
    return {"variable": variable, "op": op, "value": value}


def edge(source: str, target: str, order: int, *conditions: dict[str, Any]) -> dict[str, Any]:
    return {"source": source, "target": target, "order": order, "conditions": list(conditions), "note": ""}


def small_document() -> dict[str, Any]:
    """Grade (choice), size (0 < x <= 10) and a yes/no, routing to three outcomes; valid."""
    return {
        "format": "pnet-pathways/1",
        "pathway": {"slug": "tiny", "title": "Tiny"},
        "version": {"number": 1, "status": "draft", "note": ""},
        "variables": [
            {
                "key": "grade",
                "label": "Grade",
                "kind": "choice",
                "choices": [["low", "Low"], ["high", "High"]],
            },
            {
                "key": "size",
                "label": "Size",
                "kind": "number",
                "unit": "cm",
                "minimum": 0,
                "minimum_inclusive": False,
                "maximum": 10,
                "maximum_inclusive": True,
            },
            {"key": "spread", "label": "Spread", "kind": "boolean"},
            {
                "key": "marker",
                "label": "Marker",
                "kind": "number",
                "minimum": 0,
                "maximum": 5,
                "optional": True,
            },
        ],
        "nodes": [
            {
                "slug": "start",
                "kind": "question",
                "stage": "workup",
                "title": "Grade?",
                "fields": ["grade"],
                "start": True,
            },
            {
                "slug": "measure",
                "kind": "question",
                "stage": "imaging",
                "title": "Size?",
                "fields": ["size", "marker"],
            },
            {
                "slug": "spread_q",
                "kind": "question",
                "stage": "imaging",
                "title": "Spread?",
                "fields": ["spread", "size"],
            },
            {"slug": "watch", "kind": "outcome", "stage": "management", "title": "Watch"},
            {"slug": "operate", "kind": "outcome", "stage": "management", "title": "Operate"},
            {"slug": "treat", "kind": "outcome", "stage": "management", "title": "Treat"},
        ],
        "edges": [
            edge("start", "measure", 1, condition("grade", "eq", "low")),
            edge("start", "spread_q", 2, condition("grade", "eq", "high")),
            edge("measure", "watch", 1, condition("size", "le", 2)),
            edge("measure", "operate", 2, condition("size", "gt", 2)),
            edge("spread_q", "treat", 1, condition("spread", "eq", True)),
            edge("spread_q", "operate", 2, condition("spread", "eq", False)),
        ],
        "recommendations": [
            {
                "code": "all.review",
                "section": "general",
                "title": "Review",
                "text": "",
                "citations": ["1"],
                "nodes": ["start"],
                "conditions": [],
                "note": "",
            },
            {
                "code": "watch.imaging",
                "section": "surveillance",
                "title": "Imaging",
                "text": "",
                "citations": ["1"],
                "nodes": ["watch"],
                "conditions": [],
                "note": "",
            },
            {
                "code": "operate.surgery",
                "section": "surgery",
                "title": "Surgery",
                "text": "",
                "citations": ["1"],
                "nodes": ["operate"],
                "conditions": [],
                "note": "",
            },
            {
                "code": "operate.nodes",
                "section": "surgery",
                "title": "Nodes",
                "text": "",
                "citations": ["1"],
                "nodes": ["operate"],
                "conditions": [condition("size", "gt", 5)],
                "note": "",
            },
            {
                "code": "treat.drug",
                "section": "systemic",
                "title": "Drug",
                "text": "",
                "citations": ["1"],
                "nodes": ["treat"],
                "conditions": [],
                "note": "",
            },
        ],
        "references": [{"label": "1", "citation": "A source.", "url": "https://example.org/1", "note": ""}],
        "safety_rules": [
            {
                "name": "high-never-watched",
                "description": "",
                "conditions": [condition("grade", "eq", "high")],
                "must_include": [],
                "must_exclude": ["watch.imaging"],
            },
            {
                "name": "big-gets-nodes",
                "description": "",
                "conditions": [condition("spread", "eq", False), condition("size", "ge", 7)],
                "must_include": ["operate.nodes"],
                "must_exclude": [],
            },
        ],
        "test_cases": [
            {
                "name": "small-low",
                "description": "",
                "case": {"grade": "low", "size": 2},
                "must_include": ["watch.imaging"],
                "must_exclude": ["operate.surgery"],
                "expected_outcome": "watch",
            },
        ],
    }


def problems(document: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return [(p.severity, p.code, p.node) for p in validation.validate_document(document)]


def codes(document: dict[str, Any]) -> set[str]:
    return {p.code for p in validation.validate_document(document) if p.severity == validation.ERROR}


def find_edge(document: dict[str, Any], source: str, order: int) -> dict[str, Any]:
    return next(e for e in document["edges"] if e["source"] == source and e["order"] == order)


def test_small_document_is_valid() -> None:
    assert problems(small_document()) == []


def test_pnet_validates_clean_and_enumerates_every_class(pnet_document: dict[str, Any]) -> None:
    report = validation.check_document(pnet_document)
    assert report.problems == []
    assert report.classes > 1000
    assert len(pnet_document["safety_rules"]) >= 5
    outcomes = {n["slug"] for n in pnet_document["nodes"] if n["kind"] == "outcome"}
    assert {t["expected_outcome"] for t in pnet_document["test_cases"]} == outcomes


@pytest.mark.parametrize("collecting", [True, False])
def test_the_gate_pauses_the_cycle_collector_and_leaves_it_as_it_found_it(
    monkeypatch: pytest.MonkeyPatch, collecting: bool
) -> None:
    import gc

    seen = []
    enumerate_cases = validation.engine.enumerate_cases

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return enumerate_cases(*args, **kwargs)

    monkeypatch.setattr(validation.engine, "enumerate_cases", watched)
    was = gc.isenabled()
    (gc.enable if collecting else gc.disable)()
    try:
        assert validation.check_document(small_document()).ok
        assert seen == [False]
        assert gc.isenabled() is collecting
    finally:
        (gc.enable if was else gc.disable)()


def test_what_the_gate_makes_is_freed_without_the_cycle_collector(pnet_document: dict[str, Any]) -> None:
    """The gate's classes, index and applier are freed by reference counting when it returns: no
    reference cycle (a closure calling itself, say) keeps them for the collector to find."""
    import gc

    from pathways import engine
    from pathways.case_index import CaseIndex
    from pathways.fhir.check import Applier

    validation.check_document(pnet_document)  # fhirpathpy's parse, its own cycles, done once
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        assert validation.check_document(pnet_document).ok
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        left = {type(thing).__name__ for thing in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        (gc.enable if was else gc.disable)()
    kept = {cls.__name__ for cls in (engine.Evaluation, engine.Snapshot, CaseIndex, Applier)} & left
    assert not kept


def test_missing_start_node_is_an_error() -> None:
    document = small_document()
    del document["nodes"][0]["start"]
    assert "no-start" in codes(document)


def test_unreachable_node_is_an_error() -> None:
    document = small_document()
    document["nodes"].append({"slug": "orphan", "kind": "outcome", "stage": "management", "title": "Orphan"})
    assert ("error", "unreachable", "orphan") in problems(document)


def test_dead_end_is_an_error() -> None:
    document = small_document()
    document["edges"] = [e for e in document["edges"] if e["source"] != "spread_q"]
    document["nodes"] = [n for n in document["nodes"] if n["slug"] != "treat"]
    document["recommendations"] = [r for r in document["recommendations"] if r["code"] != "treat.drug"]
    assert ("error", "dead-end", "spread_q") in problems(document)


def test_cycle_is_an_error() -> None:
    document = small_document()
    find_edge(document, "spread_q", 2)["target"] = "start"
    found = [p for p in validation.validate_document(document) if p.code == "cycle"]
    assert found and "start → spread_q → start" in found[0].message


def test_gap_at_a_closed_boundary_is_found_by_analysis() -> None:
    document = small_document()
    find_edge(document, "measure", 1)["conditions"][0]["op"] = "lt"  # size < 2 and size > 2: 2 falls through
    found = [p for p in validation.validate_document(document) if p.code == "gap"]
    assert [p.node for p in found] == ["measure"]
    assert "size = 2" in found[0].message


def test_gap_in_a_choice_set_is_found() -> None:
    document = small_document()
    document["variables"][0]["choices"].append(["medium", "Medium"])
    found = [p for p in validation.validate_document(document) if p.code == "gap"]
    assert found and 'grade = "medium"' in found[0].message


def test_gap_at_the_domain_end_is_reported_as_an_interval() -> None:
    document = small_document()
    find_edge(document, "measure", 2)["conditions"].append(condition("size", "lt", 8))
    found = [p for p in validation.validate_document(document) if p.code == "gap"]
    assert len(found) == 1 and "size in [8, 10]" in found[0].message


def test_overlap_is_an_error_even_though_the_engine_would_pick_the_first_edge() -> None:
    document = small_document()
    find_edge(document, "measure", 2)["conditions"][0]["op"] = "ge"
    found = [p for p in validation.validate_document(document) if p.code == "overlap"]
    assert found and "size = 2" in found[0].message and "#1 → watch, #2 → operate" in found[0].message


def test_overlap_over_the_product_of_two_variables() -> None:
    document = small_document()
    document["edges"][4]["conditions"] = [condition("spread", "eq", True)]
    document["edges"][5]["conditions"] = [condition("size", "gt", 3)]
    found = {p.code: p.message for p in validation.validate_document(document)}
    assert "spread = true and size in (3, 10]" in found["overlap"]
    assert "spread = false and size in (0, 3]" in found["gap"]


def test_unconditional_edge_beside_another_overlaps() -> None:
    document = small_document()
    find_edge(document, "spread_q", 1)["conditions"] = []
    assert "overlap" in codes(document)


def test_condition_on_a_variable_not_asked_on_every_path_is_an_error() -> None:
    document = small_document()
    # spread is asked only on the high-grade branch; test it on the low-grade branch.
    find_edge(document, "measure", 1)["conditions"].append(condition("spread", "eq", False))
    find_edge(document, "measure", 2)["conditions"] = [condition("size", "gt", 2)]
    document["edges"].append(
        edge("measure", "treat", 3, condition("size", "le", 2), condition("spread", "eq", True))
    )
    assert ("error", "not-asked", "measure") in problems(document)


def test_recommendation_condition_on_a_variable_not_asked_before_is_an_error() -> None:
    document = small_document()
    document["recommendations"][0]["conditions"] = [condition("spread", "eq", True)]
    assert ("error", "not-asked", "start") in problems(document)


def test_routing_on_an_optional_variable_is_an_error() -> None:
    document = small_document()
    find_edge(document, "measure", 1)["conditions"].append(condition("marker", "le", 5))
    assert "routes-on-optional" in codes(document)


def test_duplicate_recommendation_code_is_an_error() -> None:
    document = small_document()
    document["recommendations"].append(copy.deepcopy(document["recommendations"][0]))
    assert "duplicate" in codes(document)


def test_recommendation_without_citation_is_an_error() -> None:
    document = small_document()
    document["recommendations"][1]["citations"] = []
    assert ("error", "no-citation", "watch") in problems(document)


def test_uncited_recommendation_whose_note_gives_the_pathway_s_resolution_is_only_a_warning() -> None:
    document = small_document()
    document["recommendations"][1]["citations"] = []
    document["recommendations"][1]["note"] = "This pathway's resolution: the source is silent here."
    found = problems(document)
    assert ("warning", "uncited-resolution", "watch") in found
    assert not [p for p in found if p[0] == "error"]


def test_recommendation_without_code_is_malformed() -> None:
    document = small_document()
    document["recommendations"][1]["code"] = ""
    assert "malformed" in codes(document)


def test_citation_url_must_be_https() -> None:
    document = small_document()
    document["references"][0]["url"] = "http://example.org/1"
    assert "insecure-url" in codes(document)


def test_condition_value_outside_the_domain_is_an_error() -> None:
    document = small_document()
    find_edge(document, "start", 1)["conditions"][0]["value"] = "lowish"
    assert "bad-condition" in codes(document)


def test_broken_safety_rule_is_reported_with_an_example_case() -> None:
    document = small_document()
    # Give the nodes recommendation only above 8: sizes in [7, 8] break "big-gets-nodes".
    document["recommendations"][3]["conditions"] = [condition("size", "gt", 8)]
    found = [p for p in validation.validate_document(document) if p.code == "safety-rule"]
    assert len(found) == 1
    assert "big-gets-nodes" in found[0].message and "lacks operate.nodes" in found[0].message
    example = json.loads(found[0].message.split("e.g. ")[1].split(" (outcome")[0])
    assert 7 <= example["size"] <= 8


def test_safety_rule_thresholds_split_the_classes() -> None:
    """The rule cuts at 7, where no edge or recommendation does: the class (5, 10] is split."""
    document = small_document()
    snapshot = snapshot_from_document(document)
    rules = validation.safety_rules_from_document(document)
    plain = {json.dumps(case, sort_keys=True) for case, _ in validation.case_classes(snapshot)}
    split = {json.dumps(case, sort_keys=True) for case, _ in validation.case_classes(snapshot, rules)}
    assert len(split) > len(plain)
    assert any(json.loads(case).get("size") == 7 for case in split)


def test_safety_rule_must_exclude() -> None:
    document = small_document()
    find_edge(document, "spread_q", 1)["target"] = "watch"
    document["nodes"] = [n for n in document["nodes"] if n["slug"] != "treat"]
    document["recommendations"] = [r for r in document["recommendations"] if r["code"] != "treat.drug"]
    found = [p for p in validation.validate_document(document) if p.code == "safety-rule"]
    assert found and "high-never-watched" in found[0].message and "gets watch.imaging" in found[0].message


def broken_class_by_class(
    classes: validation.Classes, rules: list[validation.SafetyRule]
) -> list[validation.Problem]:
    """The safety-rule check as its definition reads: every rule tested on every class in turn."""
    broken: dict[str, list[tuple[dict[str, Any], Any, list[str]]]] = {}
    for answers, result in classes:
        given = set(result.codes)
        for rule in rules:
            if rule.applies(answers):
                faults = [f"lacks {code}" for code in rule.must_include if code not in given]
                faults += [f"gets {code}" for code in rule.must_exclude if code in given]
                if faults:
                    broken.setdefault(rule.name, []).append((answers, result, faults))
    report = validation.Report()
    for rule in rules:
        if rule.name in broken:
            answers, result, faults = broken[rule.name][0]
            report.add(
                validation.ERROR,
                "safety-rule",
                f"Safety rule {rule.name} is broken by {len(broken[rule.name])} class(es) of cases, e.g. "
                f"{json.dumps(answers, ensure_ascii=False, sort_keys=True)} (outcome {result.outcome}) "
                f"{', '.join(faults)}.",
                result.outcome,
            )
    return report.problems


def test_safety_rules_broken_on_pnet_are_reported_as_checking_each_class_in_turn_reports_them() -> None:
    document = json.loads(CONTENT_V3.read_text(encoding="utf-8"))
    snapshot = snapshot_from_document(document)
    rules = validation.safety_rules_from_document(document)
    classes = validation.case_classes(snapshot, rules)
    codes = sorted(snapshot.recommendations)
    # Every rule made to fail somewhere: each must include one more code and exclude another; two
    # rules share a name (reported together).
    changed = [
        validation.SafetyRule(
            rules[0].name if number == 3 else rule.name,
            rule.conditions,
            (*rule.must_include, codes[number % len(codes)]),
            (*rule.must_exclude, codes[(7 * number + 3) % len(codes)]),
        )
        for number, rule in enumerate(rules)
    ]
    for checked in (rules, changed):
        report = validation.Report()
        validation._check_safety_rules(classes, checked, report)
        assert report.problems == broken_class_by_class(classes, checked)
    assert len(report.problems) > len(rules) // 2
    assert sum(f"rule {rules[0].name} is" in p.message for p in report.problems) == 2


def test_failing_test_case_is_an_error() -> None:
    document = small_document()
    document["test_cases"][0]["expected_outcome"] = "operate"
    found = [p for p in validation.validate_document(document) if p.code == "test-case"]
    assert found and "ends at watch, not operate" in found[0].message


def test_incomplete_or_invalid_test_case_is_an_error() -> None:
    document = small_document()
    document["test_cases"].append({"name": "partial", "case": {"grade": "low"}})
    document["test_cases"].append({"name": "bad", "case": {"grade": "low", "size": 11}})
    messages = [p.message for p in validation.validate_document(document) if p.code == "test-case"]
    assert any("partial stops at measure, missing size" in m for m in messages)
    assert any("bad is not a valid case" in m for m in messages)


def test_rules_naming_unknown_codes_are_errors() -> None:
    document = small_document()
    document["safety_rules"][0]["must_exclude"] = ["no.such_code"]
    assert "unknown-code" in codes(document)


def test_safety_rules_are_not_claimed_checked_while_the_graph_is_broken() -> None:
    document = small_document()
    find_edge(document, "measure", 1)["conditions"][0]["op"] = "lt"
    assert "safety-rules-not-checked" in codes(document)


@pytest.mark.parametrize(
    "document",
    [[], {"pathway": {"slug": "x"}}, {**small_document(), "nodes": "start"}],
)
def test_malformed_documents_are_refused_with_reasons(document: Any) -> None:
    assert validation.document_errors(document)


def test_validator_imports_no_django() -> None:
    import ast
    from pathlib import Path

    source = Path(validation.__file__).read_text(encoding="utf-8")
    imported = {
        alias.name if isinstance(node, ast.Import) else node.module or ""
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert not any(name.startswith("django") for name in imported)


def test_outcome_outside_the_management_stage_is_a_warning() -> None:
    document = small_document()
    document["nodes"][3]["stage"] = "imaging"
    assert problems(document) == [("warning", "outcome-not-management", "watch")]


# Text: invisible, control and look-alike characters, and lengths ---------------------------------

HIDDEN_CHARACTERS = {
    "right-to-left override": "\u202e",
    "left-to-right embedding": "\u202a",
    "pop directional formatting": "\u202c",
    "left-to-right isolate": "\u2066",
    "pop directional isolate": "\u2069",
    "zero-width space": "\u200b",
    "zero-width non-joiner": "\u200c",
    "zero-width joiner": "\u200d",
    "word joiner": "\u2060",
    "byte order mark": "\ufeff",
    "bell": "\x07",
    "escape": "\x1b",
    "delete": "\x7f",
    "C1 control": "\x85",
}


@pytest.mark.parametrize("name", sorted(HIDDEN_CHARACTERS))
def test_hidden_character_in_a_label_is_refused_naming_the_field_and_the_item(name: str) -> None:
    document = small_document()
    document["variables"][1]["label"] = f"Size{HIDDEN_CHARACTERS[name]} < 2"
    refused = [p for p in validation.validate_document(document) if p.code == "unsafe-text"]
    assert [p.severity for p in refused] == ["error"]
    assert "The variable size: the label contains" in refused[0].message
    assert f"U+{ord(HIDDEN_CHARACTERS[name]):04X}" in refused[0].message


@pytest.mark.parametrize(
    ("plant", "where"),
    [
        (lambda d: d["nodes"][0].update(title="Grade\u202e?"), "The node start: the title"),
        (lambda d: d["nodes"][0].update(body="Read \u200bthis"), "The node start: the body"),
        (lambda d: d["variables"][1].update(unit="c\u200dm"), "The variable size: the unit"),
        (lambda d: d["variables"][1].update(help="mm\x00"), "The variable size: the help"),
        (lambda d: d["recommendations"][0].update(title="Watch\u2066"), "the title"),
        (lambda d: d["recommendations"][0].update(note="\ufeffnote"), "the note"),
        (lambda d: d["references"][0].update(citation="Ref\u202b"), "The reference 1: the citation"),
        (lambda d: d["pathway"].update(disclaimer="\u202eFor"), "The pathway: the disclaimer"),
        (lambda d: d["version"].update(note="v2\u2067"), "This version: the change note"),
        (
            lambda d: d["variables"][0].update(choices=[["low", "Lo\u202ew"], ["high", "High"]]),
            "The variable grade: the label of the choice “low”",
        ),
    ],
)
def test_hidden_character_in_any_content_field_is_refused(plant: Any, where: str) -> None:
    document = small_document()
    plant(document)
    refused = [p.message for p in validation.validate_document(document) if p.code == "unsafe-text"]
    assert len(refused) == 1 and where in refused[0], refused


def test_line_breaks_and_tabs_are_allowed_in_long_text_but_not_in_labels() -> None:
    document = small_document()
    document["nodes"][0]["body"] = "First line\n\n\tSecond line\r\n"
    assert "unsafe-text" not in codes(document)
    document["variables"][0]["label"] = "Grade\nof tumour"
    assert "unsafe-text" in codes(document)


@pytest.mark.parametrize(
    ("field", "limit"),
    [("label", validation.LABEL_LIMIT), ("help", validation.HELP_LIMIT)],
)
def test_overlong_variable_text_is_refused(field: str, limit: int) -> None:
    document = small_document()
    document["variables"][0][field] = "x" * limit
    assert "text-too-long" not in codes(document)
    document["variables"][0][field] = "x" * (limit + 1)
    messages = [p.message for p in validation.validate_document(document) if p.code == "text-too-long"]
    assert messages == [
        f"The variable grade: the {field} is {limit + 1:,} characters long; at most {limit:,} are allowed."
    ]


def test_ten_thousand_character_label_and_overlong_text_are_refused() -> None:
    document = small_document()
    document["nodes"][0]["title"] = "G" * 10_000
    document["recommendations"][0]["text"] = "t" * (validation.TEXT_LIMIT + 1)
    refused = [
        (p.message.split(":")[0], p.node)
        for p in validation.validate_document(document)
        if p.code == "text-too-long"
    ]
    assert ("The node start", "start") in refused
    assert len(refused) == 2


@pytest.mark.parametrize("value", ["Nоne", "None", "no ne", "nöne", "no-ne", "", "ｎｏｎｅ"])
def test_choice_value_must_be_plain_lowercase_ascii(value: str) -> None:
    document = small_document()
    document["variables"][0]["choices"].append([value, "Other"])
    messages = [p.message for p in validation.validate_document(document) if p.code == "bad-choice-value"]
    assert len(messages) == 1 and "The variable grade" in messages[0]


@pytest.mark.parametrize(
    ("first", "second"),
    [("none", "n0ne"), ("low", "l0w"), ("high", "hlgh"), ("not_done", "notdone"), ("worn", "wom")],
)
def test_look_alike_choice_values_are_refused(first: str, second: str) -> None:
    document = small_document()
    choices = document["variables"][0]["choices"]
    choices += [[value, value.title()] for value in (first, second) if value not in {c[0] for c in choices}]
    messages = [p.message for p in validation.validate_document(document) if p.code == "confusable-choices"]
    assert messages == [
        f"The variable grade: the choice values “{first}” and “{second}” look alike; "
        "make them clearly different."
    ]


def test_pnet_content_passes_the_text_checks(pnet_document: dict[str, Any]) -> None:
    report = validation.Report()
    validation._check_text(pnet_document, report)
    assert report.problems == []


# The FHIR export decides what the engine decides -------------------------------------------------


def _export_with(monkeypatch: pytest.MonkeyPatch, change: Any) -> None:
    """Make the gate's FHIR export pass through ``change`` (an exporter with a fault)."""
    from pathways.fhir import export

    exported = export.bundle

    def faulty(document: Any) -> dict[str, Any]:
        bundle = exported(document)
        change(export.resources(bundle), bundle)
        return bundle

    monkeypatch.setattr(export, "bundle", faulty)


def test_a_fhir_export_giving_a_recommendation_too_often_is_refused_in_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pathways.fhir import export

    def drop_the_nodes_condition(found: dict[str, Any], bundle: dict[str, Any]) -> None:
        step = export.by_url(bundle)["https://pnet-pathways.org/fhir/PlanDefinition/tiny.step.operate|1"]
        for action in step["action"]:
            action.pop("condition", None)

    _export_with(monkeypatch, drop_the_nodes_condition)
    found = [p for p in validation.validate_document(small_document()) if p.code == "fhir-disagrees"]
    assert len(found) == 1 and found[0].severity == validation.ERROR and found[0].node == "operate"
    message = found[0].message
    assert "gives the recommendation “Nodes”, which the pathway does not" in message
    assert "Grade: Low; Size: 5 cm" in message or "Grade: Low; Size: 3.5 cm" in message
    assert "operate.nodes" not in message and "{" not in message


def test_a_fhir_questionnaire_asking_a_question_too_often_is_refused_in_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    def always_ask_spread(found: dict[str, Any], bundle: dict[str, Any]) -> None:
        for item in found["Questionnaire"]["item"]:
            if item["linkId"] == "spread":
                item.pop("extension")

    _export_with(monkeypatch, always_ask_spread)
    found = [p for p in validation.validate_document(small_document()) if p.code == "fhir-disagrees"]
    assert len(found) == 1
    assert "asks “Spread”, which the pathway does not ask" in found[0].message


def test_an_export_that_cannot_be_made_refuses_the_version(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(found: dict[str, Any], bundle: dict[str, Any]) -> None:
        raise KeyError("variable")

    _export_with(monkeypatch, broken)
    assert "fhir-export-failed" in codes(small_document())


def test_the_classes_are_cut_where_a_newer_guidance_note_cuts() -> None:
    document = small_document()
    document["newer_guidance"] = [
        {
            "code": "newer.big",
            "text": "Newer guidance for tumours of 4 cm or more.",
            "source": "A source",
            "checked_on": "2026-01-01",
            "when_codes": ["operate.surgery"],
            "conditions": [condition("size", "ge", 4)],
        }
    ]
    snapshot = snapshot_from_document(document)
    rules = validation.safety_rules_from_document(document)
    sizes = {answers.get("size") for answers, _ in validation.case_classes(snapshot, rules)}
    assert (
        4.0 in sizes
        and any(2 < size < 4 for size in sizes if size)
        and any(4 < size < 5 for size in sizes if size)
    )
    assert problems(document) == []  # the export shows the note exactly where the engine does
