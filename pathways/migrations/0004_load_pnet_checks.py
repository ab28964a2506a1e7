"""Give the bundled PNET version its safety rules and test cases (added to the format after 0002)."""

from django.db import migrations


def load_checks(apps, schema_editor):
    from pathways.content_io import _import_checks, content_hash, export_document, load_bundled

    PathwayVersion = apps.get_model("pathways", "PathwayVersion")
    SafetyRule = apps.get_model("pathways", "SafetyRule")
    PathwayTestCase = apps.get_model("pathways", "PathwayTestCase")
    document = load_bundled("pnet")
    version = PathwayVersion.objects.filter(pathway__slug="pnet", number=document["version"]["number"]).first()
    if version is None:
        return
    if SafetyRule.objects.filter(version=version).exists() or PathwayTestCase.objects.filter(version=version).exists():
        return
    variables = {v.key: v for v in version.variables.all()}
    _import_checks(document, version, variables, apps)
    PathwayVersion.objects.filter(pk=version.pk).update(
        content_hash=content_hash(export_document(version, apps=apps))
    )


def unload_checks(apps, schema_editor):
    apps.get_model("pathways", "SafetyRule").objects.filter(version__pathway__slug="pnet").delete()
    apps.get_model("pathways", "PathwayTestCase").objects.filter(version__pathway__slug="pnet").delete()


class Migration(migrations.Migration):
    dependencies = [("pathways", "0003_versions_safety_rules_history")]

    operations = [migrations.RunPython(load_checks, unload_checks)]
