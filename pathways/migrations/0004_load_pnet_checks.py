"""Give the bundled PNET version its safety rules and test cases (added to the format after 0002).

Frozen: they come from the document 0002 froze (``frozen/0002_pnet_v1.json``), written with the
historical models; nothing of the live app is imported.
"""

import hashlib
import json
from pathlib import Path

from django.db import migrations

DOCUMENT = Path(__file__).resolve().parent / "frozen" / "0002_pnet_v1.json"


def _content_hash(document):
    body = {key: value for key, value in document.items() if key != "version"}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_checks(apps, schema_editor):
    get = lambda name: apps.get_model("pathways", name)  # noqa: E731
    PathwayVersion, SafetyRule, PathwayTestCase = get("PathwayVersion"), get("SafetyRule"), get("PathwayTestCase")
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    version = PathwayVersion.objects.filter(pathway__slug="pnet", number=document["version"]["number"]).first()
    if version is None:
        return
    if SafetyRule.objects.filter(version=version).exists() or PathwayTestCase.objects.filter(version=version).exists():
        return
    variables = {v.key: v for v in get("Variable").objects.filter(version=version)}
    Condition = get("SafetyRuleCondition")
    for order, item in enumerate(document.get("safety_rules") or ()):
        rule = SafetyRule.objects.create(
            version=version,
            name=item["name"],
            description=item.get("description", ""),
            must_include=list(item.get("must_include", ())),
            must_exclude=list(item.get("must_exclude", ())),
            order=order,
        )
        Condition.objects.bulk_create(
            Condition(rule=rule, variable=variables[c["variable"]], op=c["op"], value=c["value"])
            for c in item.get("conditions", ())
        )
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
    # The content is now the whole frozen document, so its hash is the document's.
    PathwayVersion.objects.filter(pk=version.pk).update(content_hash=_content_hash(document))


def unload_checks(apps, schema_editor):
    apps.get_model("pathways", "SafetyRule").objects.filter(version__pathway__slug="pnet").delete()
    apps.get_model("pathways", "PathwayTestCase").objects.filter(version__pathway__slug="pnet").delete()


class Migration(migrations.Migration):
    dependencies = [("pathways", "0003_versions_safety_rules_history")]

    operations = [migrations.RunPython(load_checks, unload_checks)]
