"""Pathway documents (the JSON import/export format) to and from database rows.

The data migrations do not use this module: each carries its own frozen copy of its document and
loader.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from django.db import models, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from .document import variable_item
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
                    other_units=item.get("other_units", []),
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
    """The whole content of ``version`` as one JSON-ready document.

    The one serialiser of a version: the export, the content hash, the publish gate and the
    engine snapshot all read it. Flat row queries (values, not model instances: on a pathway of
    thousands of nodes that is the difference between seconds and a fraction of one), fifteen
    whatever the size.
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
            "other_units",
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

    def conditions_by(model: type[models.Model], owner: str) -> defaultdict[int, list[dict[str, Any]]]:
        grouped: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
        rows = (
            model._default_manager.filter(**{f"{owner}__version": version})
            .order_by("pk")
            .values_list(f"{owner}_id", "variable_id", "op", "value")
        )
        for owner_id, variable_id, op, value in rows:
            grouped[owner_id].append({"variable": keys[variable_id], "op": op, "value": value})
        return grouped

    edge_conditions = conditions_by(EdgeCondition, "edge")
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
    rec_conditions = conditions_by(RecommendationCondition, "recommendation")
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

    def variable_doc(row: tuple[Any, ...]) -> dict[str, Any]:
        _, key, label, kind, unit, low, low_in, high, high_in, choices, help_text, optional, others = row
        return variable_item(
            key=key,
            label=label,
            kind=kind,
            unit=unit,
            minimum=low,
            minimum_inclusive=low_in,
            maximum=high,
            maximum_inclusive=high_in,
            choices=choices,
            help=help_text,
            optional=optional,
            other_units=others,
        )

    def node_doc(row: tuple[Any, ...]) -> dict[str, Any]:
        pk, slug, kind, stage, title, body, is_start = row
        item = {
            "slug": slug,
            "kind": kind,
            "stage": stage,
            "title": title,
            "body": body,
            "fields": fields[pk],
        }
        if is_start:
            item["start"] = True
        return item

    return {
        "format": FORMAT,
        "pathway": {"slug": version.pathway.slug, **{key: getattr(version, key) for key in PATHWAY_TEXT}},
        "version": {"number": version.number, "status": version.status, "note": version.note},
        "variables": [variable_doc(row) for row in variables],
        "nodes": [node_doc(row) for row in nodes],
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
        **_export_checks(version, conditions_by(SafetyRuleCondition, "rule")),
        **_export_notes(version, conditions_by(GuidanceNoteCondition, "note")),
    }


def _export_checks(version: PathwayVersion, conditions: Mapping[int, list[dict[str, Any]]]) -> dict[str, Any]:
    rules = [
        {
            "name": name,
            "description": description,
            "conditions": list(conditions.get(pk, ())),
            "must_include": list(must_include),
            "must_exclude": list(must_exclude),
        }
        for pk, name, description, must_include, must_exclude in SafetyRule.objects.filter(version=version)
        .order_by("order", "pk")
        .values_list("pk", "name", "description", "must_include", "must_exclude")
    ]
    cases = []
    for name, description, case, must_include, must_exclude, expected_outcome in (
        PathwayTestCase.objects.filter(version=version)
        .order_by("order", "pk")
        .values_list("name", "description", "case", "must_include", "must_exclude", "expected_outcome")
    ):
        item: dict[str, Any] = {
            "name": name,
            "description": description,
            "case": dict(sorted(case.items())),
            "must_include": list(must_include),
            "must_exclude": list(must_exclude),
        }
        if expected_outcome:
            item["expected_outcome"] = expected_outcome
        cases.append(item)
    return {"safety_rules": rules, "test_cases": cases}


def _export_notes(version: PathwayVersion, conditions: Mapping[int, list[dict[str, Any]]]) -> dict[str, Any]:
    """The ``newer_guidance`` list; left out when there is none, so older content keeps its hash."""
    notes = [
        {
            "code": code,
            "text": text,
            "source": source,
            "source_url": source_url,
            "checked_on": checked_on.isoformat(),
            "when_codes": list(when_codes),
            "unless_codes": list(unless_codes),
            "conditions": list(conditions.get(pk, ())),
        }
        for pk, code, text, source, source_url, checked_on, when_codes, unless_codes in (
            GuidanceNote.objects.filter(version=version)
            .order_by("order", "pk")
            .values_list(
                "pk", "code", "text", "source", "source_url", "checked_on", "when_codes", "unless_codes"
            )
        )
    ]
    return {"newer_guidance": notes} if notes else {}
