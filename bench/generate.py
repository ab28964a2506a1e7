"""Generate large pathway documents (the import/export format) for the scaling benchmarks.

Pure Python, deterministic. The graph is layered: a start question, ``depth - 2`` layers of
questions and a last layer of outcomes. Every question node of a layer asks that layer's variable,
and its edges cover every answer, so every walk from the start reaches an outcome in exactly
``depth`` nodes and every node is reachable.
"""

from __future__ import annotations

from typing import Any

CHOICES = ("a", "b", "c", "d")
THRESHOLD = 50
FORMAT = "pnet-pathways/1"


def layer_sizes(nodes: int, depth: int) -> list[int]:
    """One start node, then the remaining nodes spread as evenly as possible over ``depth - 1`` layers."""
    if depth < 2 or nodes < depth:
        raise ValueError("need at least two layers and one node per layer")
    rest = nodes - 1
    width, extra = divmod(rest, depth - 1)
    # Wider layers last: each node has at most four edges, so a layer can feed at most 4x its width.
    return [1] + [width + (1 if index >= depth - 1 - extra else 0) for index in range(depth - 1)]


def _kind_of_layer(layer: int) -> str:
    """Mix the variable kinds: mostly choices, every third layer a number, every fifth a boolean."""
    if layer % 5 == 4:
        return "boolean"
    if layer % 3 == 2:
        return "number"
    return "choice"


def _slug(layer: int, index: int) -> str:
    return f"n{layer:02d}_{index:04d}"


def _answers_for(kind: str) -> list[tuple[list[dict[str, Any]], Any]]:
    """The edge conditions of a question of this kind, each with a value that takes it."""
    if kind == "choice":
        return [([{"op": "eq", "value": value}], value) for value in CHOICES[:3]] + [
            ([{"op": "in", "value": list(CHOICES[3:])}], CHOICES[3])
        ]
    if kind == "number":
        return [
            ([{"op": "lt", "value": THRESHOLD}], THRESHOLD - 10),
            ([{"op": "ge", "value": THRESHOLD}], THRESHOLD),
        ]
    return [([{"op": "eq", "value": True}], True), ([{"op": "eq", "value": False}], False)]


def generate(nodes: int = 10_000, depth: int = 40, slug: str = "generated") -> dict[str, Any]:
    """A pathway document of exactly ``nodes`` nodes whose every walk is ``depth`` nodes long."""
    sizes = layer_sizes(nodes, depth)
    references = [{"label": "G", "citation": "Generated pathway for benchmarks.", "url": "", "note": ""}]
    variables: list[dict[str, Any]] = []
    node_docs: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    recommendations: list[dict[str, Any]] = []
    stages = ("workup", "imaging", "pathology", "management")
    last = depth - 1
    for layer, width in enumerate(sizes):
        stage = stages[min(layer * len(stages) // depth, len(stages) - 1)]
        if layer < last:
            key = f"q{layer:02d}"
            kind = _kind_of_layer(layer)
            variable: dict[str, Any] = {"key": key, "label": f"Question {layer}", "kind": kind}
            if kind == "choice":
                variable["choices"] = [[value, f"Option {value.upper()}"] for value in CHOICES]
            elif kind == "number":
                variable.update(unit="mm", minimum=0, minimum_inclusive=True, maximum=1000)
                variable["maximum_inclusive"] = True
            variable.update(help="", optional=False)
            variables.append(variable)
            branches = _answers_for(kind)
            next_width = sizes[layer + 1]
        for index in range(width):
            slug_here = _slug(layer, index)
            node: dict[str, Any] = {
                "slug": slug_here,
                "kind": "question" if layer < last else "outcome",
                "stage": stage,
                "title": f"Step {layer}.{index}",
                "body": "",
                "fields": [key] if layer < last else [],
            }
            if layer == 0:
                node["start"] = True
            node_docs.append(node)
            if layer < last:
                for order, (conditions, _) in enumerate(branches, start=1):
                    target = (index * len(branches) + order - 1) % next_width
                    edges.append(
                        {
                            "source": slug_here,
                            "target": _slug(layer + 1, target),
                            "order": order,
                            "conditions": [{"variable": key, **c} for c in conditions],
                            "note": "",
                        }
                    )
        # One recommendation per layer, shown on every node of the layer when its condition holds,
        # and one per outcome, so the result is never empty.
        placed = [_slug(layer, index) for index in range(width)]
        if layer < last:
            recommendations.append(
                {
                    "code": f"layer.{layer:02d}",
                    "section": "general",
                    "title": f"Layer {layer}",
                    "text": f"Advice for layer {layer}.",
                    "citations": ["G"],
                    "nodes": placed,
                    "conditions": [] if layer == 0 else [_condition_for(layer - 1)],
                    "note": "",
                }
            )
        else:
            recommendations.extend(
                {
                    "code": f"outcome.{index:04d}",
                    "section": "management",
                    "title": f"Outcome {index}",
                    "text": f"Management for outcome {index}.",
                    "citations": ["G"],
                    "nodes": [slug_here],
                    "conditions": [],
                    "note": "",
                }
                for index, slug_here in enumerate(placed)
            )
    return {
        "format": FORMAT,
        "pathway": {
            "slug": slug,
            "title": f"Generated pathway ({nodes} nodes, depth {depth})",
            "summary": "",
            "intended_use": "",
            "disclaimer": "",
            "source": "",
        },
        "version": {"number": 1, "status": "draft", "note": "Generated for benchmarks."},
        "variables": variables,
        "nodes": node_docs,
        "edges": edges,
        "recommendations": recommendations,
        "references": references,
        "safety_rules": [],
        "test_cases": [],
    }


def _condition_for(layer: int) -> dict[str, Any]:
    conditions, _ = _answers_for(_kind_of_layer(layer))[0]
    return {"variable": f"q{layer:02d}", **conditions[0]}


def complete_case(document: dict[str, Any], seed: int = 0) -> dict[str, Any]:
    """Answers for every variable, varying the branch taken per layer, so a walk reaches an outcome."""
    case: dict[str, Any] = {}
    for layer, variable in enumerate(document["variables"]):
        branches = _answers_for(variable["kind"])
        _, value = branches[(layer + seed) % len(branches)]
        case[variable["key"]] = value
    return case
