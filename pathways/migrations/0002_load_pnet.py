"""Load version 1 of the PNET pathway as the published version.

Frozen: the document is this migration's own copy (``frozen/0002_pnet_v1.json``) and the loader
below writes it with the historical models; nothing of the live app is imported. The document's
safety rules and test cases are loaded by 0004 (their tables come with 0003).
"""

import json
from pathlib import Path

from django.db import migrations
from django.utils import timezone

DOCUMENT = Path(__file__).resolve().parent / "frozen" / "0002_pnet_v1.json"



def load_pnet(apps, schema_editor):
    get = lambda name: apps.get_model("pathways", name)  # noqa: E731
    Pathway = get("Pathway")
    if Pathway.objects.filter(slug="pnet").exists():
        return
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    info = document["pathway"]
    pathway = Pathway.objects.create(
        slug=info["slug"],
        title=info["title"],
        summary=info.get("summary", ""),
        intended_use=info.get("intended_use", ""),
        disclaimer=info.get("disclaimer", ""),
        source=info.get("source", ""),
    )
    version = get("PathwayVersion").objects.create(
        pathway=pathway, number=1, status="draft", note=document["version"]["note"]
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
            order=order,
        )

    def conditions(model, parent_field, parent, items):
        model.objects.bulk_create(
            model(**{parent_field: parent}, variable=variables[c["variable"]], op=c["op"], value=c["value"])
            for c in items or ()
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
        conditions(get("EdgeCondition"), "edge", edge, item.get("conditions"))
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
    for order, item in enumerate(document["recommendations"]):
        rec = get("Recommendation").objects.create(
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
        conditions(get("RecommendationCondition"), "recommendation", rec, item.get("conditions"))
    # 0004 sets the content hash once the safety rules and test cases are in.
    get("PathwayVersion").objects.filter(pk=version.pk).update(status="published", published_at=timezone.now())


def unload_pnet(apps, schema_editor):
    Pathway = apps.get_model("pathways", "Pathway")
    Walk = apps.get_model("pathways", "Walk")
    Walk.objects.filter(version__pathway__slug="pnet").delete()
    Pathway.objects.filter(slug="pnet").delete()


class Migration(migrations.Migration):
    dependencies = [("pathways", "0001_initial")]

    operations = [migrations.RunPython(load_pnet, unload_pnet)]
