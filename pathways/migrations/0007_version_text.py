"""Move what the clinician reads about a pathway (title, summary, intended use, disclaimer, source)
from the pathway row onto each version, so that it is as immutable as the rest of the version.

Every existing version (and its history) gets the pathway's current values; the content hash is
unchanged because the export's "pathway" block now reads the same values from the version.
"""

from django.db import migrations, models

TEXT = ("title", "summary", "intended_use", "disclaimer", "source")


def copy_text_to_versions(apps, schema_editor):
    Pathway = apps.get_model("pathways", "Pathway")
    versions = [apps.get_model("pathways", name) for name in ("PathwayVersion", "HistoricalPathwayVersion")]
    for pathway in Pathway.objects.all():
        values = {key: getattr(pathway, key) for key in TEXT}
        for model in versions:
            model.objects.filter(pathway_id=pathway.pk).update(**values)


def copy_text_to_pathways(apps, schema_editor):
    Pathway = apps.get_model("pathways", "Pathway")
    PathwayVersion = apps.get_model("pathways", "PathwayVersion")
    for pathway in Pathway.objects.all():
        versions = PathwayVersion.objects.filter(pathway_id=pathway.pk)
        version = versions.filter(status="published").first() or versions.order_by("-number").first()
        if version is not None:
            Pathway.objects.filter(pk=pathway.pk).update(**{key: getattr(version, key) for key in TEXT})


def text_fields():
    return [
        ("title", models.CharField(default="", max_length=200)),
        ("summary", models.TextField(blank=True)),
        ("intended_use", models.TextField(blank=True)),
        ("disclaimer", models.TextField(blank=True)),
        ("source", models.TextField(blank=True, help_text="The source document the pathway is drawn from.")),
    ]


class Migration(migrations.Migration):
    dependencies = [("pathways", "0006_guidance_notes")]

    operations = [
        *(
            migrations.AddField(model_name=model, name=name, field=field, preserve_default=name != "title")
            for model in ("pathwayversion", "historicalpathwayversion")
            for name, field in text_fields()
        ),
        migrations.RunPython(copy_text_to_versions, copy_text_to_pathways),
        # A default on the pathway's title only so that migrating backwards can add the column again.
        *(
            migrations.AlterField(
                model_name=model, name="title", field=models.CharField(default="", max_length=200)
            )
            for model in ("pathway", "historicalpathway")
        ),
        *(
            migrations.RemoveField(model_name=model, name=name)
            for model in ("pathway", "historicalpathway")
            for name in TEXT
        ),
        migrations.AlterModelOptions(name="pathway", options={"ordering": ["slug"]}),
        migrations.AlterField(
            model_name="historicalpathway",
            name="slug",
            field=models.SlugField(
                help_text="Used in walk links and the API; fixed once a version has been published."
            ),
        ),
        migrations.AlterField(
            model_name="pathway",
            name="slug",
            field=models.SlugField(
                help_text="Used in walk links and the API; fixed once a version has been published.",
                unique=True,
            ),
        ),
    ]
