"""Two authoring roles: editors change drafts; publishers also publish."""

from django.db import migrations

CONTENT = [
    "variable",
    "node",
    "nodefield",
    "edge",
    "edgecondition",
    "reference",
    "recommendation",
    "recommendationcondition",
    "safetyrule",
    "safetyrulecondition",
    "pathwaytestcase",
]


def create_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("pathways")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    editor_codenames = [f"{action}_{model}" for model in CONTENT for action in ("add", "change", "delete", "view")]
    editor_codenames += ["view_pathway", "change_pathway", "view_pathwayversion", "add_pathwayversion",
                         "change_pathwayversion", "delete_pathwayversion", "view_walk"]
    editor_perms = list(Permission.objects.filter(content_type__app_label="pathways", codename__in=editor_codenames))
    editors, _ = Group.objects.get_or_create(name="Pathway editors")
    editors.permissions.add(*editor_perms)
    publishers, _ = Group.objects.get_or_create(name="Pathway publishers")
    publishers.permissions.add(*editor_perms)
    publishers.permissions.add(
        *Permission.objects.filter(content_type__app_label="pathways", codename="publish_pathwayversion")
    )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Pathway editors", "Pathway publishers"]).delete()


class Migration(migrations.Migration):
    dependencies = [("pathways", "0004_load_pnet_checks"), ("auth", "0012_alter_user_first_name_max_length"),
                    ("contenttypes", "0002_remove_content_type_name")]

    operations = [migrations.RunPython(create_groups, remove_groups)]
