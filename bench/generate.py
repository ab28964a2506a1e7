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


EARLY_KINDS = ("choice", "choice", "choice", "choice", "boolean")
SPARSE_EVERY = 10
SPARSE_KINDS = ("number", "boolean", "boolean")
BRANCHES = {"choice": 4, "number": 2, "boolean": 2, "info": 1}


def layer_kinds(depth: int) -> list[str]:
    """What each layer holds: early questions fan out, later ones are sparse, the rest information.

    Every walk asks the same few questions, so the classes of complete walk (what the publish gate
    enumerates) stay in the thousands however many nodes the graph has.
    """
    kinds = []
    for layer in range(depth - 1):
        if layer < len(EARLY_KINDS):
            kinds.append(EARLY_KINDS[layer])
        elif layer % SPARSE_EVERY == SPARSE_EVERY // 2 - 1:
            kinds.append(SPARSE_KINDS[(layer // SPARSE_EVERY) % len(SPARSE_KINDS)])
        else:
            kinds.append("info")
    return [*kinds, "outcome"]


def layer_sizes(nodes: int, depth: int) -> list[int]:
    """Widths summing to ``nodes``, each at most what the layer before can reach."""
    kinds = layer_kinds(depth)

    def widths(cap_width: int) -> list[int]:
        sizes = [1]
        for layer in range(1, depth):
            sizes.append(max(1, min(cap_width, sizes[-1] * BRANCHES[kinds[layer - 1]])))
        return sizes

    low, high = 1, nodes
    while low < high:  # the smallest cap whose widths reach ``nodes``
        middle = (low + high) // 2
        if sum(widths(middle)) >= nodes:
            high = middle
        else:
            low = middle + 1
    sizes = widths(low)
    if sum(sizes) < nodes:
        raise ValueError(f"{depth} layers cannot hold {nodes} nodes")
    excess = sum(sizes) - nodes
    for layer in range(depth - 1, 0, -1):  # trim the capped layers by one, last first
        if excess and sizes[layer] == low and low > 1:
            sizes[layer] -= 1
            excess -= 1
    return sizes


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
    if kind == "boolean":
        return [([{"op": "eq", "value": True}], True), ([{"op": "eq", "value": False}], False)]
    return [([], None)]


def generate(nodes: int = 10_000, depth: int = 40, slug: str = "generated") -> dict[str, Any]:
    """A pathway document of exactly ``nodes`` nodes whose every walk is ``depth`` nodes long."""
    sizes = layer_sizes(nodes, depth)
    kinds = layer_kinds(depth)
    references = [{"label": "G", "citation": "Generated pathway for benchmarks.", "url": "", "note": ""}]
    variables: list[dict[str, Any]] = []
    node_docs: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    recommendations: list[dict[str, Any]] = []
    stages = ("workup", "imaging", "pathology", "management")
    asked: str | None = None  # the latest variable every walk has answered before this layer
    for layer, width in enumerate(sizes):
        kind = kinds[layer]
        stage = stages[min(layer * len(stages) // depth, len(stages) - 1)]
        key = f"q{layer:02d}"
        if kind in BRANCHES and kind != "info":
            variable: dict[str, Any] = {"key": key, "label": f"Question {layer}", "kind": kind}
            if kind == "choice":
                variable["choices"] = [[value, f"Option {value.upper()}"] for value in CHOICES]
            elif kind == "number":
                variable.update(unit="mm", minimum=0, minimum_inclusive=True)
                variable.update(maximum=1000, maximum_inclusive=True)
            variable.update(help="", optional=False)
            variables.append(variable)
        branches = _answers_for(kind)
        placed = [_slug(layer, index) for index in range(width)]
        for index, slug_here in enumerate(placed):
            node: dict[str, Any] = {
                "slug": slug_here,
                "kind": "outcome" if kind == "outcome" else "info" if kind == "info" else "question",
                "stage": stage,
                "title": f"Step {layer}.{index}",
                "body": "",
                "fields": [key] if kind not in ("info", "outcome") else [],
            }
            if layer == 0:
                node["start"] = True
            node_docs.append(node)
            if kind == "outcome":
                continue
            next_width = sizes[layer + 1]
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
        # One recommendation per layer, on every node of the layer, conditional on an earlier
        # answer; and one per outcome, so no result is empty.
        if kind != "outcome":
            recommendations.append(
                {
                    "code": f"layer.{layer:02d}",
                    "section": "general",
                    "title": f"Layer {layer}",
                    "text": f"Advice for layer {layer}.",
                    "citations": ["G"],
                    "nodes": placed,
                    "conditions": [] if asked is None else [_condition_for(asked, kinds)],
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
        if kind not in ("info", "outcome"):
            asked = key
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


def _slug(layer: int, index: int) -> str:
    return f"n{layer:02d}_{index:04d}"


def _condition_for(key: str, kinds: list[str]) -> dict[str, Any]:
    conditions, _ = _answers_for(kinds[int(key[1:])])[0]
    return {"variable": key, **conditions[0]}


def complete_case(document: dict[str, Any], seed: int = 0) -> dict[str, Any]:
    """Answers for every variable, varying the branch taken per layer, so a walk reaches an outcome."""
    case: dict[str, Any] = {}
    for layer, variable in enumerate(document["variables"]):
        branches = _answers_for(variable["kind"])
        _, value = branches[(layer + seed) % len(branches)]
        case[variable["key"]] = value
    return case
