"""Load the PNET pathway from pathways/content/pnet.json as the published version."""

from django.db import migrations


def load_pnet(apps, schema_editor):
    from pathways.content_io import import_document, load_bundled

    if apps.get_model("pathways", "Pathway").objects.filter(slug="pnet").exists():
        return
    import_document(load_bundled("pnet"), status="published", apps=apps)


def unload_pnet(apps, schema_editor):
    Pathway = apps.get_model("pathways", "Pathway")
    Walk = apps.get_model("pathways", "Walk")
    Walk.objects.filter(version__pathway__slug="pnet").delete()
    Pathway.objects.filter(slug="pnet").delete()


class Migration(migrations.Migration):
    dependencies = [("pathways", "0001_initial")]

    operations = [migrations.RunPython(load_pnet, unload_pnet)]
