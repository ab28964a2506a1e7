"""What changed between two versions of a pathway, in clinical terms.

Pure Python on two pathway documents (the import/export format): no Django import. Conditions are
described the way the wizard shows them (“Ki-67 index > 20 %”), edges by the steps they join.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import engine
from .document import conditions, edge_keys
from .document import variables as variables_of

ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"


EQUAL = "equal"
DELETED = "delete"
INSERTED = "insert"
_TOKEN = re.compile(r"\s+|[^\s]+")
_CONTEXT = 8  # words kept either side of a change; longer unchanged runs are elided


@dataclass(frozen=True, slots=True)
class Change:
    kind: str
    area: str
    text: str
    node: str | None = None
    words: tuple[tuple[str, str], ...] = ()  # a text change word by word, see word_diff


def word_diff(before: str, after: str, *, context: int = _CONTEXT) -> tuple[tuple[str, str], ...]:
    """``before`` → ``after`` as (EQUAL | DELETED | INSERTED, text) runs, compared word by word.

    Whitespace is kept, so the runs joined read as the texts; an unchanged run of more than
    ``2 * context`` words keeps ``context`` words either side of the changes, with "…" between.
    """
    a, b = _TOKEN.findall(before or ""), _TOKEN.findall(after or "")
    runs: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            runs.append((EQUAL, _elide(a[i1:i2], context, first=i1 == 0, last=i2 == len(a))))
            continue
        if op in ("delete", "replace"):
            runs.append((DELETED, "".join(a[i1:i2])))
        if op in ("insert", "replace"):
            runs.append((INSERTED, "".join(b[j1:j2])))
    return tuple(run for run in runs if run[1])


def _elide(tokens: list[str], context: int, *, first: bool, last: bool) -> str:
    words = [index for index, token in enumerate(tokens) if not token.isspace()]
    keep_head = 0 if first else context
    keep_tail = 0 if last else context
    if len(words) <= keep_head + keep_tail + 1 or context <= 0:
        return "".join(tokens)
    head = "".join(tokens[: words[keep_head - 1] + 2]) if keep_head else ""
    tail = "".join(tokens[words[-keep_tail] - 1 :]) if keep_tail else ""
    return f"{head}…{tail}"


def _text_change(kind: str, area: str, text: str, node: str | None, before: Any, after: Any) -> Change:
    """A change of a text, with its words compared when both sides are texts."""
    texts = (before or "", after or "")
    words = word_diff(*texts) if all(isinstance(side, str) for side in texts) else ()
    return Change(kind, area, text, node, words)


def diff_documents(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Every difference from ``old`` to ``new``: variables, steps, edges, recommendations, references,
    safety rules and test cases."""
    variables = {**_variables(old), **_variables(new)}
    changes: list[Change] = []
    changes += _diff_pathway_text(old, new)
    changes += _diff_variables(old, new)
    changes += _diff_nodes(old, new)
    changes += _diff_edges(old, new, variables)
    changes += _diff_recommendations(old, new, variables)
    changes += _diff_keyed(old, new, "references", "label", "Reference", ("citation", "url", "note"))
    changes += _diff_rules(old, new, variables)
    changes += _diff_keyed(
        old,
        new,
        "test_cases",
        "name",
        "Test case",
        ("case", "must_include", "must_exclude", "expected_outcome"),
    )
    changes += _diff_keyed(
        old,
        new,
        "newer_guidance",
        "code",
        "Newer-guidance note",
        ("text", "source", "source_url", "checked_on", "when_codes", "unless_codes", "conditions"),
    )
    return changes


PATHWAY_TEXT = {
    "title": "title",
    "summary": "summary",
    "intended_use": "intended use",
    "disclaimer": "disclaimer",
    "source": "source",
}


def _diff_pathway_text(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """What the clinician reads about the pathway itself (its start page and report)."""
    a, b = old.get("pathway") or {}, new.get("pathway") or {}
    changes = []
    for key, label in PATHWAY_TEXT.items():
        before, after = a.get(key) or "", b.get(key) or ""
        if before == after:
            continue
        text = f"The pathway's {label} now reads “{after}” (was “{before}”)." if key == "title" else ""
        changes.append(
            _text_change(CHANGED, "pathway", text or f"The pathway's {label} changed.", None, before, after)
        )
    return changes


def _variables(document: Mapping[str, Any]) -> dict[str, engine.Variable]:
    return variables_of(document.get("variables"))


def describe_conditions(items: Any, variables: Mapping[str, engine.Variable]) -> str:
    """Conditions as the wizard shows them, joined by “and”; “always” when there are none."""
    return " and ".join(c.describe(variables) for c in conditions(items)) or "always"


def _by(items: Any, key: str) -> dict[Any, dict[str, Any]]:
    return {item[key]: item for item in items or ()}


def _diff_variables(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Questions as an editor knows them: by their label (the newer one where it changed)."""
    before, after = _by(old.get("variables"), "key"), _by(new.get("variables"), "key")

    def named(key: str) -> str:
        return f"“{(after.get(key) or before[key]).get('label', key)}”"

    changes = [
        Change(ADDED, "variable", f"New question {named(key)}.")
        for key in sorted(after.keys() - before.keys())
    ]
    changes += [
        Change(REMOVED, "variable", f"Question {named(key)} removed.")
        for key in sorted(before.keys() - after.keys())
    ]
    for key in sorted(before.keys() & after.keys()):
        a, b = before[key], after[key]
        name = named(key)
        if a.get("choices") != b.get("choices"):
            old_labels = {c[0]: c[1] for c in a.get("choices") or ()}
            new_labels = {c[0]: c[1] for c in b.get("choices") or ()}
            gained = [f"“{label}”" for value, label in new_labels.items() if value not in old_labels]
            lost = [f"“{label}”" for value, label in old_labels.items() if value not in new_labels]
            parts = ([f"new answer(s) {', '.join(gained)}"] if gained else []) + (
                [f"answer(s) {', '.join(lost)} removed"] if lost else []
            )
            changes.append(
                Change(CHANGED, "variable", f"{name}: {'; '.join(parts) or 'answer labels changed'}.")
            )
        bounds = ("minimum", "minimum_inclusive", "maximum", "maximum_inclusive")
        if any(a.get(f) != b.get(f) for f in bounds):
            changes.append(
                Change(CHANGED, "variable", f"{name}: accepted range is now {_range(b)} (was {_range(a)}).")
            )
        changes += _diff_other_units(name, a, b)
        if a.get("label") != b.get("label"):
            changes.append(Change(CHANGED, "variable", f"“{a.get('label')}” is now called {name}."))
        for field, words in (("unit", "unit"), ("optional", "optional"), ("kind", "kind of answer")):
            if a.get(field) != b.get(field):
                changes.append(
                    Change(CHANGED, "variable", f"{name}: {words} “{a.get(field)}” → “{b.get(field)}”.")
                )
    return changes


def _diff_other_units(key: str, a: Mapping[str, Any], b: Mapping[str, Any]) -> list[Change]:
    """The units a number may also be entered in: gained, dropped, or converted differently
    (``key`` names the question)."""
    before = {o["unit"]: o for o in a.get("other_units") or ()}
    after = {o["unit"]: o for o in b.get("other_units") or ()}
    unit = b.get("unit", "")

    def conversion(other: Mapping[str, Any]) -> str:
        return f"1 {other['unit']} = {engine.format_number(other['factor'])} {unit}"

    changes = [
        Change(CHANGED, "variable", f"{key}: may also be entered in {name} ({conversion(after[name])}).")
        for name in after
        if name not in before
    ]
    changes += [
        Change(CHANGED, "variable", f"{key}: no longer accepted in {name}.")
        for name in before
        if name not in after
    ]
    changes += [
        Change(CHANGED, "variable", f"{key}: now {conversion(after[name])} (was {conversion(before[name])}).")
        for name in after
        if name in before and after[name]["factor"] != before[name]["factor"]
    ]
    changes += [
        Change(CHANGED, "variable", f"{key}: the basis of the conversion from {name} changed.")
        for name in after
        if name in before
        and after[name]["factor"] == before[name]["factor"]
        and after[name].get("basis") != before[name].get("basis")
    ]
    return changes


def _range(item: Mapping[str, Any]) -> str:
    low = item.get("minimum")
    high = item.get("maximum")
    left = (
        "(-∞"
        if low is None
        else ("[" if item.get("minimum_inclusive", True) else "(") + engine.format_number(low)
    )
    right = (
        "∞)"
        if high is None
        else engine.format_number(high) + ("]" if item.get("maximum_inclusive", True) else ")")
    )
    return f"{left}, {right}"


def _step_names(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, str]:
    """Each step as an editor knows it: its title in quotes (the newer title where it changed)."""
    return {
        item["slug"]: f"“{item['title']}”"
        for document in (old, new)
        for item in document.get("nodes") or ()
        if isinstance(item, Mapping) and "slug" in item and "title" in item
    }


def _diff_nodes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    before, after = _by(old.get("nodes"), "slug"), _by(new.get("nodes"), "slug")
    step = _step_names(old, new)
    changes = [
        Change(ADDED, "step", f"New step “{after[slug]['title']}”.", slug)
        for slug in sorted(after.keys() - before.keys())
    ]
    changes += [
        Change(REMOVED, "step", f"Step {step[slug]} removed.")
        for slug in sorted(before.keys() - after.keys())
    ]
    for slug in sorted(before.keys() & after.keys()):
        a, b = before[slug], after[slug]
        if a.get("title") != b.get("title"):
            changes.append(Change(CHANGED, "step", f"Step “{a['title']}” now reads “{b['title']}”.", slug))
        if (a.get("fields") or []) != (b.get("fields") or []):
            changes.append(
                Change(
                    CHANGED,
                    "step",
                    f"Step {step[slug]} now asks {', '.join(b.get('fields') or []) or 'nothing'} "
                    f"(was {', '.join(a.get('fields') or []) or 'nothing'}).",
                    slug,
                )
            )
        if a.get("body") != b.get("body"):
            changes.append(
                _text_change(
                    CHANGED,
                    "step",
                    f"Step {step[slug]}: explanatory text changed.",
                    slug,
                    a.get("body"),
                    b.get("body"),
                )
            )
        for name in ("kind", "stage"):
            if a.get(name) != b.get(name):
                changes.append(
                    Change(CHANGED, "step", f"Step {step[slug]}: {name} {a.get(name)} → {b.get(name)}.", slug)
                )
        if bool(a.get("start")) != bool(b.get("start")):
            changes.append(
                Change(
                    CHANGED,
                    "step",
                    f"Step {step[slug]} {'is now' if b.get('start') else 'is no longer'} the start.",
                    slug,
                )
            )
    return changes


def _diff_edges(
    old: Mapping[str, Any], new: Mapping[str, Any], variables: Mapping[str, engine.Variable]
) -> list[Change]:
    before, after = edge_keys(old), edge_keys(new)
    step = _step_names(old, new)
    changes = []
    for key in sorted(after.keys() - before.keys()):
        changes.append(
            Change(
                ADDED,
                "rule",
                f"New rule {step[key[0]]} → {step[key[1]]} when "
                f"{describe_conditions(after[key].get('conditions'), variables)}.",
                key[0],
            )
        )
    for key in sorted(before.keys() - after.keys()):
        changes.append(Change(REMOVED, "rule", f"Rule {step[key[0]]} → {step[key[1]]} removed.", key[0]))
    for key in sorted(before.keys() & after.keys()):
        a, b = before[key], after[key]
        if _conditions_key(a) != _conditions_key(b):
            changes.append(
                Change(
                    CHANGED,
                    "rule",
                    f"Rule {step[key[0]]} → {step[key[1]]} now requires "
                    f"{describe_conditions(b.get('conditions'), variables)} "
                    f"(was {describe_conditions(a.get('conditions'), variables)}).",
                    key[0],
                )
            )
        if a.get("order") != b.get("order"):
            changes.append(
                Change(
                    CHANGED,
                    "rule",
                    f"Rule {step[key[0]]} → {step[key[1]]} is now tried #{b['order']} (was #{a['order']}).",
                    key[0],
                )
            )
        if a.get("note") != b.get("note"):
            changes.append(
                _text_change(
                    CHANGED,
                    "rule",
                    f"Rule {step[key[0]]} → {step[key[1]]}: note changed.",
                    key[0],
                    a.get("note"),
                    b.get("note"),
                )
            )
    return changes


def _conditions_key(item: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    return sorted(
        (c["variable"], c["op"], json.dumps(c["value"], sort_keys=True)) for c in item.get("conditions") or ()
    )


def _diff_recommendations(
    old: Mapping[str, Any], new: Mapping[str, Any], variables: Mapping[str, engine.Variable]
) -> list[Change]:
    before, after = _by(old.get("recommendations"), "code"), _by(new.get("recommendations"), "code")
    step = _step_names(old, new)
    changes = []
    for code in sorted(after.keys() - before.keys()):
        item = after[code]
        changes.append(
            Change(
                ADDED,
                "recommendation",
                f"New recommendation “{item['title']}” ({code}) at "
                f"{', '.join(step.get(n, n) for n in item.get('nodes') or []) or 'no step'}"
                f", given {describe_conditions(item.get('conditions'), variables)}.",
                (item.get("nodes") or [None])[0],
            )
        )
    for code in sorted(before.keys() - after.keys()):
        changes.append(
            Change(
                REMOVED,
                "recommendation",
                f"Recommendation “{before[code].get('title')}” ({code}) removed: no walk gets it now.",
            )
        )
    for code in sorted(before.keys() & after.keys()):
        a, b = before[code], after[code]
        where = (b.get("nodes") or [None])[0]
        name = f"“{b.get('title')}” ({code})"

        def at(item: Mapping[str, Any]) -> str:
            return ", ".join(step.get(n, n) for n in item.get("nodes") or []) or "no step"

        if a.get("text") != b.get("text"):
            changes.append(
                _text_change(
                    CHANGED,
                    "recommendation",
                    f"{name}: wording changed.",
                    where,
                    a.get("text"),
                    b.get("text"),
                )
            )
        if a.get("title") != b.get("title"):
            changes.append(
                _text_change(
                    CHANGED,
                    "recommendation",
                    f"{name}: title changed.",
                    where,
                    a.get("title"),
                    b.get("title"),
                )
            )
        if _conditions_key(a) != _conditions_key(b):
            changes.append(
                Change(
                    CHANGED,
                    "recommendation",
                    f"{name} is now given {describe_conditions(b.get('conditions'), variables)} "
                    f"(was {describe_conditions(a.get('conditions'), variables)}).",
                    where,
                )
            )
        if sorted(a.get("nodes") or []) != sorted(b.get("nodes") or []):
            changes.append(
                Change(
                    CHANGED,
                    "recommendation",
                    f"{name} is now given at {at(b)} (was {at(a)}).",
                    where,
                )
            )
        if sorted(a.get("citations") or []) != sorted(b.get("citations") or []):
            changes.append(
                Change(
                    CHANGED,
                    "recommendation",
                    f"{name} now cites [{', '.join(b.get('citations') or [])}] "
                    f"(was [{', '.join(a.get('citations') or [])}]).",
                    where,
                )
            )
        if a.get("section") != b.get("section"):
            changes.append(Change(CHANGED, "recommendation", f"{name}: section changed.", where))
        if a.get("note") != b.get("note"):
            changes.append(
                _text_change(
                    CHANGED, "recommendation", f"{name}: note changed.", where, a.get("note"), b.get("note")
                )
            )
    return changes


def _diff_rules(
    old: Mapping[str, Any], new: Mapping[str, Any], variables: Mapping[str, engine.Variable]
) -> list[Change]:
    before, after = _by(old.get("safety_rules"), "name"), _by(new.get("safety_rules"), "name")
    changes = []

    def text(item: Mapping[str, Any]) -> str:
        parts = [f"when {describe_conditions(item.get('conditions'), variables)}"]
        if item.get("must_include"):
            parts.append(f"must include {', '.join(item['must_include'])}")
        if item.get("must_exclude"):
            parts.append(f"must never include {', '.join(item['must_exclude'])}")
        return ", ".join(parts)

    for name in sorted(after.keys() - before.keys()):
        changes.append(Change(ADDED, "safety rule", f"New safety rule {name}: {text(after[name])}."))
    for name in sorted(before.keys() - after.keys()):
        changes.append(Change(REMOVED, "safety rule", f"Safety rule {name} removed ({text(before[name])})."))
    for name in sorted(before.keys() & after.keys()):
        if text(before[name]) != text(after[name]):
            changes.append(
                Change(
                    CHANGED,
                    "safety rule",
                    f"Safety rule {name} now: {text(after[name])} (was {text(before[name])}).",
                )
            )
    return changes


def _diff_keyed(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    key: str,
    name: str,
    label: str,
    fields: tuple[str, ...],
) -> list[Change]:
    before, after = _by(old.get(key), name), _by(new.get(key), name)
    changes = [
        Change(ADDED, label.lower(), f"New {label.lower()} {item}.")
        for item in sorted(after.keys() - before.keys())
    ]
    changes += [
        Change(REMOVED, label.lower(), f"{label} {item} removed.")
        for item in sorted(before.keys() - after.keys())
    ]
    for item in sorted(before.keys() & after.keys()):
        changed = [f for f in fields if before[item].get(f) != after[item].get(f)]
        if len(changed) == 1 and isinstance(after[item].get(changed[0]), str):
            a, b = before[item].get(changed[0]), after[item].get(changed[0])
            changes.append(
                _text_change(CHANGED, label.lower(), f"{label} {item}: {changed[0]} changed.", None, a, b)
            )
        elif changed:
            changes.append(Change(CHANGED, label.lower(), f"{label} {item}: {', '.join(changed)} changed."))
    return changes
