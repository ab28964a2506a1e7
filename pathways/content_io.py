"""Pathway documents (the JSON import/export format) to and from database rows.

The functions take the model classes from an app registry so that data migrations can use them
with historical models.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from django.apps import apps as global_apps
from django.db import transaction
from django.utils import timezone

from .document_checks import check_document

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


def _model(apps: Any, name: str) -> Any:
    return apps.get_model("pathways", name)


def _text_is_versioned(apps: Any) -> bool:
    """Whether the pathway's title, summary and so on are the version's (not in early migration states)."""
    fields = {field.name for field in _model(apps, "PathwayVersion")._meta.concrete_fields}
    return set(PATHWAY_TEXT) <= fields


def _optional_model(apps: Any, name: str) -> Any:
    """A model that older migration states do not have yet (None there)."""
    try:
        return apps.get_model("pathways", name)
    except LookupError:
        return None


@transaction.atomic
def import_document(
    document: dict[str, Any],
    *,
    status: str | None = None,
    apps: Any = None,
    based_on: Any = None,
) -> Any:
    """Create a new version of the document's pathway from ``document`` and return it.

    The version is filled as a draft; ``status="published"`` (the bundled content, loaded by the
    data migration) then publishes it without the publish gate, retiring the previous one.
    """
    apps = apps or global_apps
    check_document(document, apps)  # before anything is written: raises DocumentError
    Pathway = _model(apps, "Pathway")
    PathwayVersion = _model(apps, "PathwayVersion")

    info = document["pathway"]
    text = {key: info.get(key, "") for key in PATHWAY_TEXT}
    versioned = _text_is_versioned(apps)
    # An existing pathway keeps its row as it is: the new text goes into the new version only.
    pathway, _ = Pathway.objects.get_or_create(slug=info["slug"], defaults={} if versioned else text)
    meta = document.get("version") or {}
    status = status or "draft"
    last = PathwayVersion.objects.filter(pathway=pathway).order_by("-number").first()
    number = (last.number + 1) if last else 1
    extra = {"based_on": based_on} if based_on is not None else {}
    if versioned:
        extra.update(text)
    version = PathwayVersion.objects.create(
        pathway=pathway, number=number, status="draft", note=meta.get("note", ""), **extra
    )

    if apps is global_apps:
        from .immutability import draft_batch

        with draft_batch(version.pk):
            _fill(document, version, apps)
    else:  # historical models (data migrations) have no custom save()
        _fill(document, version, apps)
    version.content_hash = content_hash(export_document(version, apps=apps))
    PathwayVersion.objects.filter(pk=version.pk).update(content_hash=version.content_hash)
    if status in ("published", "retired"):
        if status == "published":
            PathwayVersion.objects.filter(pathway=pathway, status="published").update(status="retired")
        version.status = status
        version.published_at = timezone.now()
        PathwayVersion.objects.filter(pk=version.pk).update(status=status, published_at=version.published_at)
    return version


def _fill(document: dict[str, Any], version: Any, apps: Any) -> None:
    Variable = _model(apps, "Variable")
    Node = _model(apps, "Node")
    NodeField = _model(apps, "NodeField")
    Edge = _model(apps, "Edge")
    EdgeCondition = _model(apps, "EdgeCondition")
    Reference = _model(apps, "Reference")
    Recommendation = _model(apps, "Recommendation")
    RecommendationCondition = _model(apps, "RecommendationCondition")
    variables = {}
    for order, item in enumerate(document["variables"]):
        variables[item["key"]] = Variable.objects.create(
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
    nodes = {}
    for order, item in enumerate(document["nodes"]):
        node = Node.objects.create(
            version=version,
            slug=item["slug"],
            kind=item["kind"],
            stage=item["stage"],
            title=item["title"],
            body=item.get("body", ""),
            is_start=bool(item.get("start")),
            order=order,
        )
        nodes[item["slug"]] = node
        NodeField.objects.bulk_create(
            NodeField(node=node, variable=variables[key], order=index)
            for index, key in enumerate(item.get("fields", ()))
        )
    for item in document["edges"]:
        edge = Edge.objects.create(
            version=version,
            source=nodes[item["source"]],
            target=nodes[item["target"]],
            order=item["order"],
            note=item.get("note", ""),
        )
        EdgeCondition.objects.bulk_create(
            EdgeCondition(edge=edge, variable=variables[c["variable"]], op=c["op"], value=c["value"])
            for c in item.get("conditions", ())
        )
    references = {}
    for order, item in enumerate(document["references"]):
        references[item["label"]] = Reference.objects.create(
            version=version,
            label=item["label"],
            citation=item["citation"],
            url=item.get("url", ""),
            note=item.get("note", ""),
            order=order,
        )
    NodePlacement = Recommendation._meta.get_field("nodes").remote_field.through
    Citation = Recommendation._meta.get_field("citations").remote_field.through
    placements: list[Any] = []
    citations: list[Any] = []
    for order, item in enumerate(document["recommendations"]):
        rec = Recommendation.objects.create(
            version=version,
            code=item["code"],
            section=item["section"],
            title=item["title"],
            text=item.get("text", ""),
            note=item.get("note", ""),
            order=order,
        )
        # Through rows directly: one insert each, no per-link signals on a version being built.
        placements.extend(
            NodePlacement(recommendation_id=rec.pk, node_id=nodes[slug].pk) for slug in item.get("nodes", ())
        )
        citations.extend(
            Citation(recommendation_id=rec.pk, reference_id=references[label].pk)
            for label in item.get("citations", ())
        )
        RecommendationCondition.objects.bulk_create(
            RecommendationCondition(
                recommendation=rec, variable=variables[c["variable"]], op=c["op"], value=c["value"]
            )
            for c in item.get("conditions", ())
        )
    NodePlacement.objects.bulk_create(placements)
    Citation.objects.bulk_create(citations)
    _import_checks(document, version, variables, apps)
    _import_notes(document, version, variables, apps)


def _import_checks(document: dict[str, Any], version: Any, variables: dict[str, Any], apps: Any) -> None:
    """Create the version's safety rules and test cases (absent in early migration states)."""
    SafetyRule = _optional_model(apps, "SafetyRule")
    if SafetyRule is not None:
        SafetyRuleCondition = _model(apps, "SafetyRuleCondition")
        for order, item in enumerate(document.get("safety_rules") or ()):
            rule = SafetyRule.objects.create(
                version=version,
                name=item["name"],
                description=item.get("description", ""),
                must_include=list(item.get("must_include", ())),
                must_exclude=list(item.get("must_exclude", ())),
                order=order,
            )
            SafetyRuleCondition.objects.bulk_create(
                SafetyRuleCondition(
                    rule=rule, variable=variables[c["variable"]], op=c["op"], value=c["value"]
                )
                for c in item.get("conditions", ())
            )
    PathwayTestCase = _optional_model(apps, "PathwayTestCase")
    if PathwayTestCase is not None:
        PathwayTestCase.objects.bulk_create(
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
        )


def _import_notes(document: dict[str, Any], version: Any, variables: dict[str, Any], apps: Any) -> None:
    """Create the version's newer-guidance notes (absent in early migration states)."""
    GuidanceNote = _optional_model(apps, "GuidanceNote")
    if GuidanceNote is None:
        return
    GuidanceNoteCondition = _model(apps, "GuidanceNoteCondition")
    for order, item in enumerate(document.get("newer_guidance") or ()):
        note = GuidanceNote.objects.create(
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
        GuidanceNoteCondition.objects.bulk_create(
            GuidanceNoteCondition(note=note, variable=variables[c["variable"]], op=c["op"], value=c["value"])
            for c in item.get("conditions") or ()
        )


def export_document(version: Any, *, apps: Any = None) -> dict[str, Any]:
    """The whole content of ``version`` as one JSON-ready document (a fixed number of queries)."""
    apps = apps or global_apps
    Node = _model(apps, "Node")
    Edge = _model(apps, "Edge")
    Recommendation = _model(apps, "Recommendation")

    pathway = version.pathway
    text_holder = version if _text_is_versioned(apps) else pathway
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
        "pathway": {"slug": pathway.slug, **{key: getattr(text_holder, key) for key in PATHWAY_TEXT}},
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
        **_export_checks(version, apps, conditions),
        **_export_notes(version, apps, conditions),
    }


def _export_checks(version: Any, apps: Any, conditions: Any) -> dict[str, list[dict[str, Any]]]:
    SafetyRule = _optional_model(apps, "SafetyRule")
    PathwayTestCase = _optional_model(apps, "PathwayTestCase")
    rules = []
    if SafetyRule is not None:
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
    if PathwayTestCase is not None:
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


def _export_notes(version: Any, apps: Any, conditions: Any) -> dict[str, list[dict[str, Any]]]:
    """The ``newer_guidance`` list; left out when there is none, so older content keeps its hash."""
    GuidanceNote = _optional_model(apps, "GuidanceNote")
    if GuidanceNote is None:
        return {}
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
