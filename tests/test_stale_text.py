"""Texts that still state a threshold the draft moved: the spellings found, and the texts listed."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pathways import stale_text


@pytest.mark.parametrize(
    "text",
    [
        "tumours of 2 cm",
        "tumours of 2.0 cm",
        "tumours of 2,0 cm",
        "tumours of 2cm",
        "tumours ≤ 2 cm",
        "tumours >2 cm",
        "tumours of 20 mm",
        "tumours of 20mm",
        "tumours of 2 centimetres",
        "tumours of 2 centimeters",
        "tumours of two centimetres",
        "small tumours (1-2 cm)",
        "small tumours (1–2 cm)",
        "tumours of 1 to 2 cm",
        "over 1.0 up to 2.0 cm",
        "tumours of 2&nbsp;cm",
        "tumours of 2\u00a0cm",
        "tumours of **2 cm**",
    ],
)
def test_old_threshold_is_found_in_every_common_spelling(text: str) -> None:
    assert stale_text.states(text, 2.0, "cm")


@pytest.mark.parametrize(
    "text",
    [
        "tumours of 12 cm",
        "tumours of 0.2 cm",
        "tumours of 2.5 cm",
        "tumours of 2 mm",
        "tumours of 200 mm",
        "2 weeks",
        "2 cmH2O",
        "tumour size in cm: 2",
        "",
    ],
)
def test_other_numbers_and_units_are_not_the_old_threshold(text: str) -> None:
    assert stale_text.states(text, 2.0, "cm") == []


def test_percent_and_other_units() -> None:
    assert stale_text.states("Ki-67 > 20 %", 20, "%") == ["20 %"]
    assert stale_text.states("Ki-67 above 20%", 20, "%") == ["20%"]
    assert stale_text.states("Ki-67 of 20 per cent", 20, "%") == ["20 per cent"]
    assert stale_text.states("Ki-67 of 3-20 %", 3, "%") == ["3-20 %"]
    assert stale_text.states("Ki-67 20", 20, "%") == []  # a number without its unit
    assert stale_text.states("glucose < 55 mg/dL", 55, "mg/dL") == ["55 mg/dL"]
    assert stale_text.states("55 mg/dLx", 55, "mg/dL") == []
    assert stale_text.states("2 cm", 2, "") == []  # a variable without a unit states nothing


def move_formal_resection(document: dict[str, Any], to: float = 2.5) -> dict[str, Any]:
    """Formal resection from > 2 cm to > ``to`` cm (the small-resection edges and the size rule's
    safety rules move with it)."""
    moved = copy.deepcopy(document)
    for item in [*moved["edges"], *moved["safety_rules"]]:
        for condition in item.get("conditions") or ():
            if condition["variable"] == "tumor_size_cm" and condition["value"] == 2.0:
                condition["value"] = to
    return moved


def states_2_cm(text: str) -> bool:
    return bool(stale_text.states(text, 2.0, "cm"))


def test_moving_formal_resection_lists_exactly_the_texts_that_state_2_cm(
    pnet_v2_document: dict[str, Any],
) -> None:
    draft = move_formal_resection(pnet_v2_document)
    found = stale_text.find(pnet_v2_document, draft)
    # Every text a clinician reads, looked at independently of the module's own walk over them.
    expected = set()
    for node in draft["nodes"]:
        for field, name in (("title", "title"), ("body", "text")):
            if states_2_cm(node.get(field) or ""):
                expected.add(("step", node["slug"], name))
    for rec in draft["recommendations"]:
        for field in ("title", "text", "note"):
            if states_2_cm(rec.get(field) or ""):
                expected.add(("recommendation", rec["code"], field))
    for note in draft["newer_guidance"]:
        if states_2_cm(note["text"]):
            expected.add(("newer-guidance note", note["code"], "text"))
    edge_notes = [e for e in draft["edges"] if states_2_cm(e.get("note") or "")]
    for variable in draft["variables"]:
        assert not states_2_cm(variable.get("help_text") or "") and not states_2_cm(variable["label"])
    listed = {(item.kind, item.name, item.field) for item in found if item.kind != "edge"}
    assert listed == expected
    assert len([item for item in found if item.kind == "edge"]) == len(edge_notes) == 4
    # As read in pnet-v2.json: the two resection steps' titles, the size edges' notes, one caution,
    # one newer-guidance note (safety-rule and test-case descriptions are not shown to clinicians).
    assert expected == {
        ("step", "nf_small_resection", "title"),
        ("step", "nf_large_resection", "title"),
        ("recommendation", "caution.small_tumor_malignant_potential", "text"),
        ("newer-guidance note", "newer.surveillance_up_to_2cm", "text"),
    }
    assert all(item.variable == "tumor_size_cm" and item.old == 2.0 for item in found)
    small = next(item for item in found if item.name == "caution.small_tumor_malignant_potential")
    assert small.stated == ("1-2 cm",)
    assert (
        "> 2 cm → > 2.5 cm (4 conditions)" in small.change
        and "≤ 2 cm → ≤ 2.5 cm (5 conditions)" in small.change
    )
    assert "still correct" in small.message()


def test_no_threshold_moved_lists_nothing(pnet_v2_document: dict[str, Any]) -> None:
    assert stale_text.find(pnet_v2_document, copy.deepcopy(pnet_v2_document)) == []


def test_a_fixed_text_is_no_longer_listed_and_an_edited_one_needs_a_new_confirmation(
    pnet_v2_document: dict[str, Any],
) -> None:
    draft = move_formal_resection(pnet_v2_document)
    before = {item.key: item for item in stale_text.find(pnet_v2_document, draft)}
    note = next(n for n in draft["newer_guidance"] if n["code"] == "newer.surveillance_up_to_2cm")
    note["text"] = note["text"].replace("2 cm", "2.5 cm")
    rec = next(r for r in draft["recommendations"] if r["code"] == "caution.small_tumor_malignant_potential")
    rec["text"] += " Reviewed."
    after = {item.key: item for item in stale_text.find(pnet_v2_document, draft)}
    assert not any(item.name == "newer.surveillance_up_to_2cm" for item in after.values())
    edited = next(key for key, item in after.items() if item.name == rec["code"])
    assert edited not in before  # the key names the text as it reads now
    confirmed = {key for key, item in before.items() if item.name == rec["code"]}
    assert edited in {item.key for item in stale_text.unconfirmed(list(after.values()), confirmed)}
    assert stale_text.unconfirmed(list(after.values()), after.keys()) == []


def test_a_threshold_moved_with_its_operator_is_a_change(pnet_v2_document: dict[str, Any]) -> None:
    draft = copy.deepcopy(pnet_v2_document)
    for edge in draft["edges"]:
        for condition in edge.get("conditions") or ():
            if condition["variable"] == "tumor_size_cm" and condition["value"] == 1.0:
                condition["op"] = {"le": "lt", "gt": "ge"}[condition["op"]]
                condition["value"] = 1.5
    changes = stale_text.threshold_changes(pnet_v2_document, draft)
    assert {(c.op, c.old, c.new_op, c.new) for c in changes} == {
        ("le", 1.0, "lt", 1.5),
        ("gt", 1.0, "ge", 1.5),
    }
    assert stale_text.find(pnet_v2_document, draft)  # "1 cm" is stated in the texts
