"""Texts that still state a threshold the draft's logic no longer uses.

Pure Python on two pathway documents (the import/export format): no Django import. When a draft
moves a numeric condition's threshold (formal resection from > 2 cm to > 2.5 cm), every text a
clinician reads that states the old number with the variable's unit, in any common spelling
("2 cm", "2.0 cm", "2cm", "≤ 2 cm", "1-2 cm", "20 mm", "two centimetres"), is listed. Each needs a
person to confirm it is still correct, or to fix it, before the draft is published.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from . import engine
from .document import edge_keys

CODE = "stale-threshold-text"

# Units a number may be written in, as (pattern, factor to the base unit). A variable whose unit is
# not listed here is matched on its own unit only.
_LENGTH = {
    "cm": 1.0,
    "mm": 0.1,
}
_UNIT_WORDS = {
    "cm": r"cm|centimet(?:re|er)s?",
    "mm": r"mm|millimet(?:re|er)s?",
    "%": r"%|per\s*cent|percent",
}
_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twenty": 20,
}
_NUMBER = r"(?<![\w.,])(?:\d+(?:[.,]\d+)?|" + "|".join(_NUMBER_WORDS) + r")"
# Numbers joined into a range or list share the unit written after the last: "1-2 cm", "1 to 2 cm",
# "1.0 up to 2.0 cm", "1 or 2 cm".
_JOIN = r"\s*(?:-|–|—|to|up\s+to|and|or)\s*"
_SPACE = re.compile(r"&nbsp;|&#160;|&#xa0;", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ThresholdChange:
    """A numeric condition of ``where`` whose threshold moved from ``old`` to ``new``."""

    variable: str
    op: str
    old: float
    new: float
    new_op: str
    where: str

    def describe(self, unit: str) -> str:
        suffix = f" {unit}" if unit else ""
        old = f"{engine.OPERATORS.get(self.op, self.op)} {engine.format_number(self.old)}{suffix}"
        new = f"{engine.OPERATORS.get(self.new_op, self.new_op)} {engine.format_number(self.new)}{suffix}"
        return f"{old} → {new}"


@dataclass(frozen=True, slots=True)
class StaleText:
    """A text of the draft that still states an old threshold."""

    kind: str  # "recommendation", "step", "edge", "variable", "newer-guidance note", "pathway"
    name: str  # the recommendation code, step slug, edge "a → b", variable key, ...
    field: str
    text: str
    variable: str
    old: float
    stated: tuple[str, ...]  # the spellings found, e.g. ("2 cm", "1-2 cm")
    change: str  # the threshold change, described
    node: str | None = None
    title: str = ""  # what an editor calls it: a recommendation's or step's title, a question's label

    @property
    def key(self) -> str:
        """Names this text as it reads now: a fix (any edit of the text) needs a new confirmation."""
        digest = hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]
        return (
            f"{self.kind}:{self.name}:{self.field}:{self.variable}:{engine.format_number(self.old)}:{digest}"
        )

    @property
    def where(self) -> str:
        """The text as an editor finds it, e.g. "The recommendation “Surgical resection” (text)"."""
        kind = {"edge": "rule", "variable": "question"}.get(self.kind, self.kind)
        if self.kind == "pathway":
            return f"The pathway's {self.field.replace('_', ' ')}"
        return f"The {kind} {self.title or self.name} ({self.field})"

    def message(self) -> str:
        return (
            f"{self.where} states {', '.join(f'“{s}”' for s in self.stated)}, "
            f"but the threshold changed: {self.change}. Confirm the text is still correct, or fix it."
        )


# Spellings -------------------------------------------------------------------------------------------


def _to_number(text: str) -> float:
    word = _NUMBER_WORDS.get(text.lower())
    if word is not None:
        return float(word)
    return float(text.replace(",", "."))


def _unit_pattern(unit: str) -> tuple[str, dict[str, float]] | None:
    """A pattern of the spellings of ``unit`` and its relatives, and each relative's factor."""
    if not unit.strip():
        return None
    if unit in _LENGTH:
        factors = {name: factor / _LENGTH[unit] for name, factor in _LENGTH.items()}
        alternatives = "|".join(f"(?P<{name}>{_UNIT_WORDS[name]})" for name in _LENGTH)
        return alternatives, factors
    own = _UNIT_WORDS.get(unit, re.escape(unit.strip()))
    return f"(?P<own>{own})", {"own": 1.0}


def stated_amounts(text: str, unit: str) -> list[tuple[float, str]]:
    """Every amount ``text`` states in ``unit`` (or a relative of it, converted): (value, spelling)."""
    found = _unit_pattern(unit)
    if found is None:
        return []
    units, factors = found
    pattern = re.compile(
        rf"(?P<numbers>{_NUMBER}(?:{_JOIN}{_NUMBER})*)\s*(?:{units})(?![^\W\d_])", re.IGNORECASE
    )
    amounts = []
    for match in pattern.finditer(_SPACE.sub(" ", text)):
        factor = next(factors[name] for name, value in match.groupdict().items() if name in factors and value)
        for number in re.finditer(_NUMBER, match.group("numbers"), re.IGNORECASE):
            amounts.append((_to_number(number.group(0)) * factor, match.group(0)))
    return amounts


def states(text: str, value: float, unit: str) -> list[str]:
    """The spellings in ``text`` of ``value`` in ``unit`` (e.g. "2 cm", "20 mm", "1-2 cm")."""
    spelled = []
    for amount, spelling in stated_amounts(text, unit):
        if math.isclose(amount, value, rel_tol=1e-9, abs_tol=1e-9) and spelling not in spelled:
            spelled.append(spelling)
    return spelled


# Threshold changes --------------------------------------------------------------------------------


def _conditioned(document: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Everything of ``document`` that carries conditions, by a name stable across versions."""
    items: dict[str, Mapping[str, Any]] = {
        f"edge {source} → {target}" + (f" #{n}" if n > 1 else ""): edge
        for (source, target, n), edge in edge_keys(document).items()
    }
    for group, key, label in (
        ("recommendations", "code", "recommendation"),
        ("newer_guidance", "code", "newer-guidance note"),
        ("safety_rules", "name", "safety rule"),
    ):
        for item in document.get(group) or ():
            items[f"{label} {item[key]}"] = item
    return items


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def threshold_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[ThresholdChange]:
    """Each numeric threshold a condition of ``old`` used that the same condition of ``new`` moved."""
    before, after = _conditioned(old), _conditioned(new)
    changes = []
    for name in sorted(before.keys() & after.keys()):
        thresholds: dict[str, tuple[dict[float, str], dict[float, str]]] = {}
        for side, item in ((0, before[name]), (1, after[name])):
            for condition in item.get("conditions") or ():
                if _numeric(condition.get("value")):
                    values = thresholds.setdefault(condition["variable"], ({}, {}))[side]
                    values.setdefault(float(condition["value"]), condition["op"])
        for variable, (was, now) in sorted(thresholds.items()):
            gone = sorted(was.keys() - now.keys())
            came = sorted(now.keys() - was.keys())
            for index, value in enumerate(gone):
                if came:
                    moved_to = came[min(index, len(came) - 1)]
                    changes.append(
                        ThresholdChange(variable, was[value], value, moved_to, now[moved_to], name)
                    )
    return changes


# Texts ------------------------------------------------------------------------------------------


def _texts(document: Mapping[str, Any]) -> Iterator[tuple[str, str, str, str, str, str | None]]:
    """Every text a clinician reads: (kind, name, title, field, text, step)."""
    pathway = document.get("pathway") or {}
    for field in ("title", "summary", "intended_use", "disclaimer"):
        yield "pathway", "", "", field, pathway.get(field) or "", None
    titles = {item["slug"]: item.get("title") or item["slug"] for item in document.get("nodes") or ()}
    for item in document.get("variables") or ():
        label = f"“{item.get('label') or item['key']}”"
        yield "variable", item["key"], label, "label", item.get("label") or "", None
        yield "variable", item["key"], label, "help text", item.get("help_text") or "", None
        for _value, choice in item.get("choices") or ():
            yield "variable", item["key"], label, f"answer “{choice}”", choice or "", None
    for item in document.get("nodes") or ():
        title = f"“{titles[item['slug']]}”"
        yield "step", item["slug"], title, "title", item.get("title") or "", item["slug"]
        yield "step", item["slug"], title, "text", item.get("body") or "", item["slug"]
    for (source, target, n), item in edge_keys(document).items():
        name = f"{source} → {target}" + (f" #{n}" if n > 1 else "")
        title = f"from “{titles.get(source, source)}” to “{titles.get(target, target)}”"
        yield "edge", name, title + (f" (#{n})" if n > 1 else ""), "note", item.get("note") or "", source
    for item in document.get("recommendations") or ():
        step = (item.get("nodes") or [None])[0]
        title = f"“{item.get('title') or item['code']}”"
        for field in ("title", "text", "note"):
            yield "recommendation", item["code"], title, field, item.get(field) or "", step
    for item in document.get("newer_guidance") or ():
        opening = " ".join((item.get("text") or item["code"]).split()[:6])
        yield "newer-guidance note", item["code"], f"“{opening}…”", "text", item.get("text") or "", None


def find(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[StaleText]:
    """The texts of ``new`` that still state a threshold ``new`` moved away from ``old``'s."""
    changes = threshold_changes(old, new)
    if not changes:
        return []
    units = {item["key"]: item.get("unit") or "" for item in new.get("variables") or ()}
    labels = {item["key"]: item.get("label") or item["key"] for item in new.get("variables") or ()}
    by_old: dict[tuple[str, float], list[ThresholdChange]] = {}
    for change in changes:
        by_old.setdefault((change.variable, change.old), []).append(change)
    found = []
    for kind, name, title, field, text, node in _texts(new):
        if not text:
            continue
        for (variable, value), moved in sorted(by_old.items()):
            unit = units.get(variable, "")
            stated = states(text, value, unit)
            if stated:
                found.append(
                    StaleText(
                        kind=kind,
                        name=name,
                        field=field,
                        text=text,
                        variable=variable,
                        old=value,
                        stated=tuple(stated),
                        change=_describe(moved, labels.get(variable, variable), unit),
                        node=node,
                        title=title,
                    )
                )
    return found


def _describe(moved: list[ThresholdChange], label: str, unit: str) -> str:
    """ "Tumour size > 2 cm → > 2.5 cm (4 conditions)", one clause per distinct move."""
    counts: dict[str, int] = {}
    for change in moved:
        move = change.describe(unit)
        counts[move] = counts.get(move, 0) + 1
    return "; ".join(
        f"{label} {move} ({count} condition{'s' if count > 1 else ''})"
        for move, count in sorted(counts.items())
    )


def unconfirmed(stale: list[StaleText], confirmed: Any) -> list[StaleText]:
    """The stale texts not confirmed as they read now (``confirmed``: keys, or a mapping by key)."""
    keys = set(confirmed or ())
    return [item for item in stale if item.key not in keys]
