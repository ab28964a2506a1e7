"""Which parts of the flowchart one walk highlights: the walked path and what is still open."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import engine


@dataclass(frozen=True, slots=True)
class WalkState:
    on_path: frozenset[str]
    taken: frozenset[tuple[str, str]]
    possible: frozenset[str]
    possible_links: frozenset[tuple[str, str]]


def walk_state(
    snapshot: engine.Snapshot, evaluation: engine.Evaluation, answers: Mapping[str, Any] | None
) -> WalkState:
    routes = engine.open_routes(snapshot, evaluation, answers)
    return WalkState(
        on_path=frozenset(evaluation.path),
        taken=frozenset((d.node, d.edge.target) for d in evaluation.trace),
        possible=routes.nodes,
        possible_links=routes.links,
    )
