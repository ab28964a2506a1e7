"""Pathway documents (the JSON import/export format) to and from database rows.

The data migrations do not use this module: each carries its own frozen copy of its document and
loader.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, TypeVar

from django.db import models, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from .document_checks import check_document
from .immutability import draft_batch
from .models import (
    Edge,
    EdgeCondition,
    GuidanceNote,
    GuidanceNoteCondition,
    Node,
    NodeField,
    Pathway,
    PathwayTestCase,
    PathwayVersion,
    Recommendation,
    RecommendationCondition,
    Reference,
    SafetyRule,
    SafetyRuleCondition,
    Variable,
)

FORMAT = "pnet-pathways/1"
CONTENT_DIR = Path(__file__).resolve().parent / "content"
# The "pathway" block's text: what the clinician reads about the pathway, held by each version.
PATHWAY_TEXT = ("title", "summary", "intended_use", "disclaimer", "source")


def load_bundled(slug: str) -> dict[str, Any]:
    with (CONTENT_DIR / f"{slug}.json").open(encoding="utf-8") as handle:
        return json.load(handle)


def content_hash(document: dict[str, Any]) -> str:
    """Hash the clinical content: everything but the version's number, status and note."""
    body = {key: value for key, value in document.items() if key != "version"}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@transaction.atomic
def import_document(
    document: dict[str, Any],
    *,
    status: str | None = None,
    based_on: PathwayVersion | None = None,
) -> PathwayVersion:
    """Create a new version of the document's pathway from ``document`` and return it.

    The version is filled as a draft; ``status="published"`` (bundled content, tests) then
    publishes it without the publish gate, retiring the previous one. The rows go in with one
    insert per table (and one for their history), so a whole version costs a few dozen queries.
    """
    check_document(document)  # before anything is written: raises DocumentError
    info = document["pathway"]
    text = {key: info.get(key, "") for key in PATHWAY_TEXT}
    # An existing pathway keeps its row as it is: the new text goes into the new version only.
    pathway, _ = Pathway.objects.get_or_create(slug=info["slug"])
    meta = document.get("version") or {}
    status = status or "draft"
    last = PathwayVersion.objects.filter(pathway=pathway).order_by("-number").first()
    version = PathwayVersion.objects.create(
        pathway=pathway,
        number=(last.number + 1) if last else 1,
        status="draft",
        note=meta.get("note", ""),
        based_on=based_on,
        **text,
    )
    with draft_batch(version.pk):
        _fill(document, version)
    version.content_hash = content_hash(export_document(version))
    PathwayVersion.objects.filter(pk=version.pk).update(content_hash=version.content_hash)
    if status in ("published", "retired"):
        if status == "published":
            PathwayVersion.objects.filter(pathway=pathway, status="published").update(status="retired")
        version.status = status
        version.published_at = timezone.now()
        PathwayVersion.objects.filter(pk=version.pk).update(status=status, published_at=version.published_at)
    return version


M = TypeVar("M", bound=models.Model)


def _insert(model: type[M], rows: list[M]) -> list[M]:
    """Insert new content rows in one query, with their first revision and history, as save() would."""
    for row in rows:
        row.revision = 1  # type: ignore[attr-defined]
    if hasattr(model, "history"):
        return bulk_create_with_history(rows, model)  # type: ignore[no-any-return]
    return model.objects.bulk_create(rows)  # type: ignore[attr-defined]


def _conditions(
    model: type[M], parent: str, pairs: list[tuple[Any, Any]], variables: dict[str, Variable]
) -> None:
    """The conditions of every (row, document item) pair, in one insert."""
    _insert(
        model,
        [
            model(**{parent: row}, variable=variables[c["variable"]], op=c["op"], value=c["value"])
            for row, item in pairs
            for c in item.get("conditions") or ()
        ],
    )


def _fill(document: dict[str, Any], version: PathwayVersion) -> None:
    variables = {
        row.key: row
        for row in _insert(
            Variable,
            [
                Variable(
                    version=version,
                    key=item["key"],
                    label=item["label"],
                    kind=item["kind"],
                    unit=item.get("unit", ""),
                    minimum=item.get("minimum"),
                    minimum_inclusive=item.get("minimum_inclusive", True),
                    maximum=item.get("maximum"),
                    maximum_inclusive=item.get("maximum_inclusive", True),
                    choices=item.get("choices", []),
                    help_text=item.get("help", ""),
                    optional=item.get("optional", False),
                    order=order,
                )
                for order, item in enumerate(document["variables"])
            ],
        )
    }
    nodes = {
        row.slug: row
        for row in _insert(
            Node,
            [
                Node(
                    version=version,
                    slug=item["slug"],
                    kind=item["kind"],
                    stage=item["stage"],
                    title=item["title"],
                    body=item.get("body", ""),
                    is_start=bool(item.get("start")),
                    order=order,
                )
                for order, item in enumerate(document["nodes"])
            ],
        )
    }
    _insert(
        NodeField,
        [
            NodeField(node=nodes[item["slug"]], variable=variables[key], order=index)
            for item in document["nodes"]
            for index, key in enumerate(item.get("fields", ()))
        ],
    )
    edges = _insert(
        Edge,
        [
            Edge(
                version=version,
                source=nodes[item["source"]],
                target=nodes[item["target"]],
                order=item["order"],
                note=item.get("note", ""),
            )
            for item in document["edges"]
        ],
    )
    _conditions(EdgeCondition, "edge", list(zip(edges, document["edges"], strict=True)), variables)
    references = {
        row.label: row
        for row in _insert(
            Reference,
            [
                Reference(
                    version=version,
                    label=item["label"],
                    citation=item["citation"],
                    url=item.get("url", ""),
                    note=item.get("note", ""),
                    order=order,
                )
                for order, item in enumerate(document["references"])
            ],
        )
    }
    recommendations = _insert(
        Recommendation,
        [
            Recommendation(
                version=version,
                code=item["code"],
                section=item["section"],
                title=item["title"],
                text=item.get("text", ""),
                note=item.get("note", ""),
                order=order,
            )
            for order, item in enumerate(document["recommendations"])
        ],
    )
    pairs = list(zip(recommendations, document["recommendations"], strict=True))
    # Through rows directly: one insert each, no per-link signals on a version being built.
    Recommendation.nodes.through.objects.bulk_create(
        Recommendation.nodes.through(recommendation_id=rec.pk, node_id=nodes[slug].pk)
        for rec, item in pairs
        for slug in item.get("nodes", ())
    )
    Recommendation.citations.through.objects.bulk_create(
        Recommendation.citations.through(recommendation_id=rec.pk, reference_id=references[label].pk)
        for rec, item in pairs
        for label in item.get("citations", ())
    )
    _conditions(RecommendationCondition, "recommendation", pairs, variables)
    _import_checks(document, version, variables)
    _import_notes(document, version, variables)


def _import_checks(document: dict[str, Any], version: PathwayVersion, variables: dict[str, Variable]) -> None:
    """Create the version's safety rules and test cases."""
    items = list(document.get("safety_rules") or ())
    rules = _insert(
        SafetyRule,
        [
            SafetyRule(
                version=version,
                name=item["name"],
                description=item.get("description", ""),
                must_include=list(item.get("must_include", ())),
                must_exclude=list(item.get("must_exclude", ())),
                order=order,
            )
            for order, item in enumerate(items)
        ],
    )
    _conditions(SafetyRuleCondition, "rule", list(zip(rules, items, strict=True)), variables)
    _insert(
        PathwayTestCase,
        [
            PathwayTestCase(
                version=version,
                name=item["name"],
                description=item.get("description", ""),
                case=dict(item.get("case") or {}),
                must_include=list(item.get("must_include", ())),
                must_exclude=list(item.get("must_exclude", ())),
                expected_outcome=item.get("expected_outcome") or "",
                order=order,
            )
            for order, item in enumerate(document.get("test_cases") or ())
        ],
    )


def _import_notes(document: dict[str, Any], version: PathwayVersion, variables: dict[str, Variable]) -> None:
    """Create the version's newer-guidance notes."""
    items = list(document.get("newer_guidance") or ())
    notes = _insert(
        GuidanceNote,
        [
            GuidanceNote(
                version=version,
                code=item["code"],
                text=item["text"],
                source=item["source"],
                source_url=item.get("source_url") or "",
                checked_on=item["checked_on"],
                when_codes=list(item.get("when_codes") or ()),
                unless_codes=list(item.get("unless_codes") or ()),
                order=order,
            )
            for order, item in enumerate(items)
        ],
    )
    _conditions(GuidanceNoteCondition, "note", list(zip(notes, items, strict=True)), variables)


def export_document(version: PathwayVersion) -> dict[str, Any]:
    """The whole content of ``version`` as one JSON-ready document (a fixed number of queries)."""
    pathway = version.pathway
    variables = list(version.variables.order_by("order", "pk"))
    nodes = list(
        Node.objects.filter(version=version).prefetch_related("node_fields__variable").order_by("order", "pk")
    )
    edges = list(
        Edge.objects.filter(version=version)
        .select_related("source", "target")
        .prefetch_related("conditions__variable")
        .order_by("source__order", "source__pk", "order")
    )
    references = list(version.references.order_by("order", "pk"))
    recommendations = list(
        Recommendation.objects.filter(version=version)
        .prefetch_related("nodes", "citations", "conditions__variable")
        .order_by("order", "pk")
    )

    def conditions(rows: Any) -> list[dict[str, Any]]:
        return [
            {"variable": c.variable.key, "op": c.op, "value": c.value}
            for c in sorted(rows, key=lambda c: c.pk)
        ]

    def variable_doc(v: Any) -> dict[str, Any]:
        item: dict[str, Any] = {"key": v.key, "label": v.label, "kind": v.kind}
        if v.unit:
            item["unit"] = v.unit
        if v.minimum is not None:
            item["minimum"] = v.minimum
            item["minimum_inclusive"] = v.minimum_inclusive
        if v.maximum is not None:
            item["maximum"] = v.maximum
            item["maximum_inclusive"] = v.maximum_inclusive
        if v.choices:
            item["choices"] = v.choices
        item["help"] = v.help_text
        item["optional"] = v.optional
        return item

    def node_doc(n: Any) -> dict[str, Any]:
        item = {
            "slug": n.slug,
            "kind": n.kind,
            "stage": n.stage,
            "title": n.title,
            "body": n.body,
            "fields": [f.variable.key for f in sorted(n.node_fields.all(), key=lambda f: (f.order, f.pk))],
        }
        if n.is_start:
            item["start"] = True
        return item

    node_order = {n.pk: index for index, n in enumerate(nodes)}
    return {
        "format": FORMAT,
        "pathway": {"slug": pathway.slug, **{key: getattr(version, key) for key in PATHWAY_TEXT}},
        "version": {"number": version.number, "status": version.status, "note": version.note},
        "variables": [variable_doc(v) for v in variables],
        "nodes": [node_doc(n) for n in nodes],
        "edges": [
            {
                "source": e.source.slug,
                "target": e.target.slug,
                "order": e.order,
                "conditions": conditions(e.conditions.all()),
                "note": e.note,
            }
            for e in sorted(edges, key=lambda e: (node_order[e.source_id], e.order))
        ],
        "recommendations": [
            {
                "code": r.code,
                "section": r.section,
                "title": r.title,
                "text": r.text,
                "citations": [
                    ref.label for ref in sorted(r.citations.all(), key=lambda ref: (ref.order, ref.pk))
                ],
                "nodes": [n.slug for n in sorted(r.nodes.all(), key=lambda n: node_order[n.pk])],
                "conditions": conditions(r.conditions.all()),
                "note": r.note,
            }
            for r in recommendations
        ],
        "references": [
            {"label": ref.label, "citation": ref.citation, "url": ref.url, "note": ref.note}
            for ref in references
        ],
        **_export_checks(version, conditions),
        **_export_notes(version, conditions),
    }


def _export_checks(version: PathwayVersion, conditions: Any) -> dict[str, list[dict[str, Any]]]:
    rules = []
    for rule in (
        SafetyRule.objects.filter(version=version)
        .prefetch_related("conditions__variable")
        .order_by("order", "pk")
    ):
        rules.append(
            {
                "name": rule.name,
                "description": rule.description,
                "conditions": conditions(rule.conditions.all()),
                "must_include": list(rule.must_include),
                "must_exclude": list(rule.must_exclude),
            }
        )
    cases = []
    for case in PathwayTestCase.objects.filter(version=version).order_by("order", "pk"):
        item: dict[str, Any] = {
            "name": case.name,
            "description": case.description,
            "case": dict(sorted(case.case.items())),
            "must_include": list(case.must_include),
            "must_exclude": list(case.must_exclude),
        }
        if case.expected_outcome:
            item["expected_outcome"] = case.expected_outcome
        cases.append(item)
    return {"safety_rules": rules, "test_cases": cases}


def _export_notes(version: PathwayVersion, conditions: Any) -> dict[str, list[dict[str, Any]]]:
    """The ``newer_guidance`` list; left out when there is none, so older content keeps its hash."""
    notes = [
        {
            "code": note.code,
            "text": note.text,
            "source": note.source,
            "source_url": note.source_url,
            "checked_on": note.checked_on.isoformat(),
            "when_codes": list(note.when_codes),
            "unless_codes": list(note.unless_codes),
            "conditions": conditions(note.conditions.all()),
        }
        for note in GuidanceNote.objects.filter(version=version)
        .prefetch_related("conditions__variable")
        .order_by("order", "pk")
    ]
    return {"newer_guidance": notes} if notes else {}
