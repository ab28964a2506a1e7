"""Publish version 3 of the PNET pathway and retire version 2 (walks begun on it finish on it).

Version 3 is version 2 with the other common units of the optional laboratory values.

Frozen: the document is this migration's own copy (``frozen/0011_pnet_v3.json``) and the loader
below writes it with the historical models; nothing of the live app is imported.
"""

import hashlib
import json
from pathlib import Path

from django.db import migrations
from django.utils import timezone

DOCUMENT = Path(__file__).resolve().parent / "frozen" / "0011_pnet_v3.json"
PATHWAY_TEXT = ("title", "summary", "intended_use", "disclaimer", "source")


def _content_hash(document):
    body = {key: value for key, value in document.items() if key != "version"}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _conditions(model, parent_field, parent, variables, items):
    model.objects.bulk_create(
        model(**{parent_field: parent}, variable=variables[c["variable"]], op=c["op"], value=c["value"])
        for c in items or ()
    )


def publish_v3(apps, schema_editor):
    get = lambda name: apps.get_model("pathways", name)  # noqa: E731
    Pathway, PathwayVersion = get("Pathway"), get("PathwayVersion")
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    digest = _content_hash(document)
    pathway = Pathway.objects.filter(slug=document["pathway"]["slug"]).first()
    if pathway is None:
        return  # a database without the bundled pathway (it was removed): nothing to upgrade
    if PathwayVersion.objects.filter(pathway=pathway, content_hash=digest).exists():
        return  # already loaded (the migration was unapplied and applied again)
    last = PathwayVersion.objects.filter(pathway=pathway).order_by("-number").first()
    version = PathwayVersion.objects.create(
        pathway=pathway,
        number=last.number + 1 if last else 1,
        status="draft",
        note=document["version"]["note"],
        **{key: document["pathway"].get(key, "") for key in PATHWAY_TEXT},
    )

    variables = {}
    for order, item in enumerate(document["variables"]):
        variables[item["key"]] = get("Variable").objects.create(
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
    nodes = {}
    for order, item in enumerate(document["nodes"]):
        node = get("Node").objects.create(
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
        get("NodeField").objects.bulk_create(
            get("NodeField")(node=node, variable=variables[key], order=index)
            for index, key in enumerate(item.get("fields", ()))
        )
    for item in document["edges"]:
        edge = get("Edge").objects.create(
            version=version,
            source=nodes[item["source"]],
            target=nodes[item["target"]],
            order=item["order"],
            note=item.get("note", ""),
        )
        _conditions(get("EdgeCondition"), "edge", edge, variables, item.get("conditions"))
    references = {}
    for order, item in enumerate(document["references"]):
        references[item["label"]] = get("Reference").objects.create(
            version=version,
            label=item["label"],
            citation=item["citation"],
            url=item.get("url", ""),
            note=item.get("note", ""),
            order=order,
        )
    Recommendation = get("Recommendation")
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
        rec.nodes.set([nodes[slug] for slug in item.get("nodes", ())])
        rec.citations.set([references[label] for label in item.get("citations", ())])
        _conditions(get("RecommendationCondition"), "recommendation", rec, variables, item.get("conditions"))
    for order, item in enumerate(document.get("safety_rules") or ()):
        rule = get("SafetyRule").objects.create(
            version=version,
            name=item["name"],
            description=item.get("description", ""),
            must_include=list(item.get("must_include", ())),
            must_exclude=list(item.get("must_exclude", ())),
            order=order,
        )
        _conditions(get("SafetyRuleCondition"), "rule", rule, variables, item.get("conditions"))
    get("PathwayTestCase").objects.bulk_create(
        get("PathwayTestCase")(
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
    for order, item in enumerate(document.get("newer_guidance") or ()):
        note = get("GuidanceNote").objects.create(
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
        _conditions(get("GuidanceNoteCondition"), "note", note, variables, item.get("conditions"))

    PathwayVersion.objects.filter(pathway=pathway, status="published").update(status="retired")
    PathwayVersion.objects.filter(pk=version.pk).update(
        status="published", published_at=timezone.now(), content_hash=digest
    )


class Migration(migrations.Migration):
    dependencies = [("pathways", "0010_variable_other_units")]

    # Unapplying keeps version 3: a published version is never deleted (walks may be pinned to it).
    operations = [migrations.RunPython(publish_v3, migrations.RunPython.noop)]
