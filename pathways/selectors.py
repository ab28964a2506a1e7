"""Reads: published versions, walks, and the engine snapshot of a version (cached)."""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict
from typing import Any

from django.http import Http404

from . import engine
from .models import (
    Edge,
    EdgeCondition,
    GuidanceNote,
    GuidanceNoteCondition,
    Node,
    NodeField,
    PathwayVersion,
    Recommendation,
    RecommendationCondition,
    Reference,
    Variable,
    Walk,
)

_snapshots: dict[tuple[int, str], engine.Snapshot] = {}
_lock = threading.Lock()


def snapshot_for(version: PathwayVersion) -> engine.Snapshot:
    """The engine snapshot of ``version``, built once per version and content hash.

    Published and retired versions never change, so a step costs no pathway queries. A draft's
    hash is refreshed on every save by the authoring services, so its cache entry follows edits.
    """
    content: str | None = version.content_hash
    if version.status == PathwayVersion.Status.DRAFT:
        # The instance may predate an edit: a draft's current token is one small query away.
        content = PathwayVersion.objects.filter(pk=version.pk).values_list("content_hash", flat=True).first()
    key = (version.pk, content or "")
    snapshot = _snapshots.get(key)
    if snapshot is None:
        snapshot = engine.snapshot_from_document(engine_document(version), version_id=version.pk)
        with _lock:
            # An edited draft gets a new hash: forget its older snapshots so the cache stays small.
            for stale in [k for k in _snapshots if k[0] == version.pk]:
                del _snapshots[stale]
            _snapshots[key] = snapshot
    return snapshot


def engine_document(version: PathwayVersion) -> dict[str, Any]:
    """The part of ``version``'s document that the engine reads, from flat row queries.

    Same content and order as ``content_io.export_document`` (the format's reference; a test
    checks both give equal snapshots), but tuples instead of model instances and prefetch
    bookkeeping: on a pathway of thousands of nodes that is the difference between seconds and
    a fraction of one. Twelve queries whatever the size.
    """
    variables = list(
        Variable.objects.filter(version=version)
        .order_by("order", "pk")
        .values_list(
            "pk",
            "key",
            "label",
            "kind",
            "unit",
            "minimum",
            "minimum_inclusive",
            "maximum",
            "maximum_inclusive",
            "choices",
            "help_text",
            "optional",
        )
    )
    keys = {row[0]: row[1] for row in variables}
    nodes = list(
        Node.objects.filter(version=version)
        .order_by("order", "pk")
        .values_list("pk", "slug", "kind", "stage", "title", "body", "is_start")
    )
    slugs = {row[0]: row[1] for row in nodes}
    node_order = {row[0]: index for index, row in enumerate(nodes)}
    fields: defaultdict[int, list[str]] = defaultdict(list)
    for node_id, variable_id in (
        NodeField.objects.filter(node__version=version)
        .order_by("order", "pk")
        .values_list("node_id", "variable_id")
    ):
        fields[node_id].append(keys[variable_id])

    def conditions_by(rows: Any) -> defaultdict[int, list[dict[str, Any]]]:
        grouped: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
        for owner, variable_id, op, value in rows:
            grouped[owner].append({"variable": keys[variable_id], "op": op, "value": value})
        return grouped

    edge_conditions = conditions_by(
        EdgeCondition.objects.filter(edge__version=version)
        .order_by("pk")
        .values_list("edge_id", "variable_id", "op", "value")
    )
    edges = sorted(
        Edge.objects.filter(version=version).values_list("pk", "source_id", "target_id", "order", "note"),
        key=lambda row: (node_order[row[1]], row[3], row[0]),
    )
    references = list(
        Reference.objects.filter(version=version)
        .order_by("order", "pk")
        .values_list("pk", "label", "citation", "url", "note")
    )
    labels = {row[0]: row[1] for row in references}
    reference_order = {row[0]: index for index, row in enumerate(references)}
    recommendations = list(
        Recommendation.objects.filter(version=version)
        .order_by("order", "pk")
        .values_list("pk", "code", "section", "title", "text", "note")
    )
    rec_conditions = conditions_by(
        RecommendationCondition.objects.filter(recommendation__version=version)
        .order_by("pk")
        .values_list("recommendation_id", "variable_id", "op", "value")
    )
    placed: defaultdict[int, list[int]] = defaultdict(list)
    for rec_id, node_id in Recommendation.nodes.through.objects.filter(
        recommendation__version=version
    ).values_list("recommendation_id", "node_id"):
        placed[rec_id].append(node_id)
    cited: defaultdict[int, list[int]] = defaultdict(list)
    for rec_id, reference_id in Recommendation.citations.through.objects.filter(
        recommendation__version=version
    ).values_list("recommendation_id", "reference_id"):
        cited[rec_id].append(reference_id)

    notes = list(
        GuidanceNote.objects.filter(version=version)
        .order_by("order", "pk")
        .values_list("pk", "code", "text", "source", "source_url", "checked_on", "when_codes", "unless_codes")
    )
    note_conditions = conditions_by(
        GuidanceNoteCondition.objects.filter(note__version=version)
        .order_by("pk")
        .values_list("note_id", "variable_id", "op", "value")
    )

    def variable_doc(row: tuple[Any, ...]) -> dict[str, Any]:
        _, key, label, kind, unit, low, low_in, high, high_in, choices, help_text, optional = row
        return {
            "key": key,
            "label": label,
            "kind": kind,
            "unit": unit,
            "minimum": low,
            "minimum_inclusive": True if low is None else low_in,
            "maximum": high,
            "maximum_inclusive": True if high is None else high_in,
            "choices": choices or [],
            "help": help_text,
            "optional": optional,
        }

    return {
        "pathway": {"slug": version.pathway.slug, "title": version.title},
        "version": {"number": version.number},
        "variables": [variable_doc(row) for row in variables],
        "nodes": [
            {
                "slug": slug,
                "kind": kind,
                "stage": stage,
                "title": title,
                "body": body,
                "fields": fields[pk],
                "start": is_start,
            }
            for pk, slug, kind, stage, title, body, is_start in nodes
        ],
        "edges": [
            {
                "source": slugs[source],
                "target": slugs[target],
                "order": order,
                "conditions": edge_conditions[pk],
                "note": note,
            }
            for pk, source, target, order, note in edges
        ],
        "recommendations": [
            {
                "code": code,
                "section": section,
                "title": title,
                "text": text,
                "citations": [labels[r] for r in sorted(cited[pk], key=lambda r: reference_order[r])],
                "nodes": [slugs[n] for n in sorted(placed[pk], key=lambda n: node_order[n])],
                "conditions": rec_conditions[pk],
                "note": note,
            }
            for pk, code, section, title, text, note in recommendations
        ],
        "references": [
            {"label": label, "citation": citation, "url": url, "note": note}
            for _, label, citation, url, note in references
        ],
        "newer_guidance": [
            {
                "code": code,
                "text": text,
                "source": source,
                "source_url": source_url,
                "checked_on": checked_on.isoformat(),
                "when_codes": when_codes or [],
                "unless_codes": unless_codes or [],
                "conditions": note_conditions[pk],
            }
            for pk, code, text, source, source_url, checked_on, when_codes, unless_codes in notes
        ],
    }


def clear_snapshot_cache() -> None:
    with _lock:
        _snapshots.clear()


def published_pathways() -> list[PathwayVersion]:
    return list(
        PathwayVersion.objects.filter(status=PathwayVersion.Status.PUBLISHED)
        .select_related("pathway")
        .order_by("title", "pathway__slug")
    )


def published_version(slug: str) -> PathwayVersion:
    version = (
        PathwayVersion.objects.filter(pathway__slug=slug, status=PathwayVersion.Status.PUBLISHED)
        .select_related("pathway")
        .first()
    )
    if version is None:
        raise Http404("No published pathway with this name.")
    return version


def walk_for(walk_id: uuid.UUID | str, slug: str | None = None) -> Walk:
    try:
        walk = Walk.objects.select_related("version__pathway").get(pk=walk_id)
    except (Walk.DoesNotExist, ValueError):
        raise Http404("No such walk.") from None
    if slug is not None and walk.version.pathway.slug != slug:
        raise Http404("No such walk.")
    return walk
