"""The pathway document (the import/export JSON format) and the engine objects read from it.

Pure Python: no Django import. Every reader of a document (the snapshot, the publish gate, the
clinical diff, the admin's condition texts) builds its conditions and variables here, so the
format is read one way; :func:`variable_item` writes a variable the one way the export does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date
from types import MappingProxyType
from typing import Any

from . import engine


def condition(item: Mapping[str, Any]) -> engine.Condition:
    """The engine condition of a document condition ``{"variable", "op", "value"}``."""
    op = item["op"]
    value = item["value"]
    return engine.Condition(item["variable"], op, tuple(value) if op in engine.SET_OPERATORS else value)


def conditions(items: Iterable[Mapping[str, Any]] | None) -> tuple[engine.Condition, ...]:
    return tuple(condition(item) for item in items or ())


def condition_error(item: Mapping[str, Any], variables: Mapping[str, Mapping[str, Any]]) -> str | None:
    """Why the document condition ``item`` cannot be evaluated against ``variables`` (document
    variables by key), or None."""
    key, op, value = item["variable"], item["op"], item["value"]
    variable = variables.get(key)
    if variable is None:
        return f"“{key}” is not a variable."
    if op not in engine.OPERATORS:
        return f"“{op}” is not an operator ({', '.join(engine.OPERATORS)})."
    kind = variable["kind"]
    values = value if op in engine.SET_OPERATORS else [value]
    if op in engine.SET_OPERATORS and (not isinstance(value, list) or not value):
        return f"{key} {op} needs a non-empty list of values."
    if op in engine.ORDER_OPERATORS and kind != engine.NUMBER:
        return f"{key} is not a number: it cannot be compared with {engine.OPERATORS[op]}."
    for one in values:
        if kind == engine.NUMBER and not is_number(one):
            return f"{key} is a number; {one!r} is not."
        if kind == engine.BOOLEAN and not isinstance(one, bool):
            return f"{key} is yes/no; {one!r} is not true or false."
        if kind == engine.CHOICE and one not in [c[0] for c in variable.get("choices", ())]:
            return f"{one!r} is not one of the choices of {key}."
    return None


def is_number(value: Any) -> bool:
    """A finite JSON number (a boolean is not one)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def variable(item: Mapping[str, Any]) -> engine.Variable:
    """The engine variable of a document variable (absent keys take the format's defaults)."""
    return engine.Variable(
        key=item["key"],
        label=item["label"],
        kind=item["kind"],
        unit=item.get("unit", ""),
        minimum=item.get("minimum"),
        maximum=item.get("maximum"),
        minimum_inclusive=item.get("minimum_inclusive", True),
        maximum_inclusive=item.get("maximum_inclusive", True),
        choices=tuple((c[0], c[1]) for c in item.get("choices", ())),
        help=item.get("help", ""),
        optional=item.get("optional", False),
        other_units=other_units(item.get("other_units")),
    )


def other_units(items: Iterable[Mapping[str, Any]] | None) -> tuple[engine.OtherUnit, ...]:
    """The engine's other units of a document variable's ``other_units`` list."""
    return tuple(
        engine.OtherUnit(unit=item["unit"], factor=item["factor"], basis=item.get("basis", ""))
        for item in items or ()
    )


def variables(items: Iterable[Mapping[str, Any]] | None) -> dict[str, engine.Variable]:
    """Engine variables by key."""
    return {item["key"]: variable(item) for item in items or ()}


def variable_item(
    *,
    key: str,
    label: str,
    kind: str,
    unit: str = "",
    minimum: float | None = None,
    minimum_inclusive: bool = True,
    maximum: float | None = None,
    maximum_inclusive: bool = True,
    choices: list[list[str]] | None = None,
    help: str = "",
    optional: bool = False,
    other_units: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A variable as the export writes it: unit, bounds and choices only where it has them."""
    item: dict[str, Any] = {"key": key, "label": label, "kind": kind}
    if unit:
        item["unit"] = unit
    if minimum is not None:
        item["minimum"] = minimum
        item["minimum_inclusive"] = minimum_inclusive
    if maximum is not None:
        item["maximum"] = maximum
        item["maximum_inclusive"] = maximum_inclusive
    if choices:
        item["choices"] = choices
    item["help"] = help
    item["optional"] = optional
    if other_units:
        item["other_units"] = [
            {"unit": other["unit"], "factor": other["factor"], "basis": other.get("basis", "")}
            for other in other_units
        ]
    return item


def snapshot_from_document(document: Mapping[str, Any], version_id: int | None = None) -> engine.Snapshot:
    """Build the engine snapshot of a pathway document."""
    references = {
        item["label"]: engine.Reference(
            label=item["label"],
            citation=item["citation"],
            url=item.get("url", ""),
            note=item.get("note", ""),
        )
        for item in document["references"]
    }
    recommendations = {
        item["code"]: engine.Recommendation(
            code=item["code"],
            section=item["section"],
            title=item["title"],
            text=item.get("text", ""),
            conditions=conditions(item.get("conditions")),
            citations=tuple(item.get("citations", ())),
            note=item.get("note", ""),
        )
        for item in document["recommendations"]
    }
    placed: dict[str, list[tuple[int, engine.Recommendation]]] = {}
    for order, item in enumerate(document["recommendations"]):
        for node_slug in item.get("nodes", ()):
            placed.setdefault(node_slug, []).append((order, recommendations[item["code"]]))
    edges: dict[str, list[engine.Edge]] = {}
    for item in document["edges"]:
        edges.setdefault(item["source"], []).append(
            engine.Edge(
                source=item["source"],
                target=item["target"],
                order=item["order"],
                conditions=conditions(item.get("conditions")),
                note=item.get("note", ""),
            )
        )
    nodes: dict[str, engine.Node] = {}
    start = ""
    for item in document["nodes"]:
        slug = item["slug"]
        if item.get("start"):
            start = slug
        nodes[slug] = engine.Node(
            slug=slug,
            kind=item["kind"],
            stage=item["stage"],
            title=item["title"],
            body=item.get("body", ""),
            fields=tuple(item.get("fields", ())),
            edges=tuple(sorted(edges.get(slug, ()), key=lambda e: e.order)),
            recommendations=tuple(rec for _, rec in sorted(placed.get(slug, ()), key=lambda p: p[0])),
        )
    if not start:
        raise engine.PathwayError("the pathway has no start node")
    notes = tuple(
        engine.Note(
            code=item["code"],
            text=item.get("text", ""),
            source=item.get("source", ""),
            checked_on=date.fromisoformat(item["checked_on"]) if item.get("checked_on") else None,
            source_url=item.get("source_url") or "",
            when_codes=tuple(item.get("when_codes") or ()),
            unless_codes=tuple(item.get("unless_codes") or ()),
            conditions=conditions(item.get("conditions")),
        )
        for item in document.get("newer_guidance") or ()
    )
    pathway = document["pathway"]
    version = document.get("version") or {}
    return engine.Snapshot(
        pathway=pathway["slug"],
        title=pathway.get("title", ""),
        version=version.get("number", 0),
        start=start,
        nodes=MappingProxyType(nodes),
        variables=MappingProxyType(variables(document["variables"])),
        references=MappingProxyType(references),
        recommendations=MappingProxyType(recommendations),
        version_id=version_id,
        notes=notes,
    )


def edge_keys(document: Mapping[str, Any]) -> dict[tuple[str, str, int], Mapping[str, Any]]:
    """Edges by (source, target, n-th such edge): an edge's identity across versions of a pathway."""
    found: dict[tuple[str, str, int], Mapping[str, Any]] = {}
    counts: dict[tuple[str, str], int] = {}
    for item in sorted(document.get("edges") or (), key=lambda e: (e["source"], e["order"])):
        pair = (item["source"], item["target"])
        counts[pair] = counts.get(pair, 0) + 1
        found[(*pair, counts[pair])] = item
    return found
