"""Turn an engine evaluation into what the templates display. No routing happens here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from . import engine
from .models import Node, Recommendation

SECTION_LABELS = dict(Recommendation.Section.choices)
SECTION_ORDER = [value for value, _ in Recommendation.Section.choices]
STAGE_LABELS = dict(Node.Stage.choices)


@dataclass(frozen=True)
class TrailItem:
    key: str
    label: str
    value: str
    node: str
    url: str
    optional: bool


@dataclass(frozen=True)
class RecView:
    code: str
    section: str
    title: str
    text: str
    note: str
    citations: tuple[engine.Reference, ...]


@dataclass(frozen=True)
class TraceStep:
    node_title: str
    reasons: tuple[str, ...]
    target_title: str
    note: str


def step_url(slug: str, walk_id: Any, node_slug: str) -> str:
    return reverse("pathways:walk_step", kwargs={"slug": slug, "walk_id": walk_id, "node": node_slug})


def trail(
    snapshot: engine.Snapshot, result: engine.Evaluation, answers: dict[str, Any], slug: str, walk_id: Any
) -> list[TrailItem]:
    items = []
    for node_slug in result.path:
        node = snapshot.nodes[node_slug]
        for key in node.fields:
            if key not in answers:
                continue
            variable = snapshot.variables[key]
            items.append(
                TrailItem(
                    key=key,
                    label=variable.label,
                    value=variable.display(answers[key]),
                    node=node_slug,
                    url=step_url(slug, walk_id, node_slug),
                    optional=variable.optional,
                )
            )
    return items


def rec_views(snapshot: engine.Snapshot, recs: tuple[engine.Recommendation, ...]) -> list[RecView]:
    return [
        RecView(
            code=rec.code,
            section=rec.section,
            title=rec.title,
            text=rec.text,
            note=rec.note,
            citations=tuple(
                snapshot.references[label] for label in rec.citations if label in snapshot.references
            ),
        )
        for rec in recs
    ]


def grouped(recs: list[RecView], *, include_cautions: bool = True) -> list[tuple[str, list[RecView]]]:
    groups: dict[str, list[RecView]] = {}
    for rec in recs:
        if rec.section == "caution" and not include_cautions:
            continue
        groups.setdefault(rec.section, []).append(rec)
    return [
        (SECTION_LABELS.get(section, section), groups[section])
        for section in SECTION_ORDER
        if section in groups
    ]


def trace_steps(snapshot: engine.Snapshot, result: engine.Evaluation) -> list[TraceStep]:
    steps = []
    for decision in result.trace:
        reasons = tuple(
            f"{fired.condition.describe(snapshot.variables)} "
            f"(answer: {snapshot.variables[fired.condition.variable].display(fired.value)})"
            for fired in decision.fired
        )
        steps.append(
            TraceStep(
                node_title=snapshot.nodes[decision.node].title,
                reasons=reasons,
                target_title=snapshot.nodes[decision.edge.target].title,
                note=decision.edge.note,
            )
        )
    return steps


def stages(snapshot: engine.Snapshot, result: engine.Evaluation, showing: str | None) -> list[dict[str, Any]]:
    """Progress through the four stages: done, current, skipped or to come."""
    visited = [snapshot.nodes[slug].stage for slug in result.path]
    current_stage = snapshot.nodes[showing].stage if showing else "management"
    order = list(engine.STAGES)
    current_index = order.index(current_stage)
    items = []
    for index, stage in enumerate(order):
        if result.complete or index < current_index:
            state = "done" if stage in visited else "skipped"
        elif index == current_index:
            state = "current"
        else:
            state = "upcoming"
        items.append({"key": stage, "label": STAGE_LABELS[stage], "state": state})
    return items


def interpretation_notes(snapshot: engine.Snapshot, result: engine.Evaluation) -> list[str]:
    notes: list[str] = []
    for decision in result.trace:
        if decision.edge.note and decision.edge.note not in notes:
            notes.append(decision.edge.note)
    return notes
