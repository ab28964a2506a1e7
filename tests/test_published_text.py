"""What a clinician reads about a pathway (title, summary, intended use, disclaimer, source) is part
of the version: nothing but a new version changes it, and the slug walks and the API use is fixed."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from pathways import authoring, diff, selectors
from pathways.content_io import content_hash, export_document, import_document, load_bundled
from pathways.models import (
    Edge,
    ImmutableVersionError,
    Node,
    Pathway,
    PathwayTestCase,
    PathwayVersion,
    Recommendation,
    Reference,
    SafetyRule,
    Variable,
)
from tests.test_admin import change_url, form_data
from tests.walking import OBSERVATION_CASE, walk_with

pytestmark = pytest.mark.django_db

CHANGED_TEXT = {
    "title": "Hijacked title",
    "summary": "Hijacked summary",
    "intended_use": "Hijacked intended use",
    "disclaimer": "Hijacked disclaimer",
    "source": "Hijacked source",
}
# Every content model with an admin form of its own that has a version field.
ADMIN_CONTENT_MODELS = (Variable, Node, Edge, Recommendation, Reference, SafetyRule, PathwayTestCase)


def exported(version: PathwayVersion) -> str:
    out = io.StringIO()
    call_command("export_pathway", version.pathway.slug, "--version", str(version.number), stdout=out)
    return out.getvalue()


def changed_document() -> dict[str, Any]:
    document = copy.deepcopy(load_bundled("pnet"))
    document["pathway"].update(CHANGED_TEXT)
    document["nodes"][0]["title"] = "Changed in the imported document"
    return document


def add_url(model: type) -> str:
    return reverse(f"admin:pathways_{model._meta.model_name}_add")


def try_every_admin_form(client: Client, version: PathwayVersion, draft: PathwayVersion) -> None:
    pathway = version.pathway
    data = form_data(client.get(change_url(pathway)))
    assert "slug" not in data  # read-only once published
    response = client.post(change_url(pathway), {**data, **CHANGED_TEXT, "slug": "renamed"})
    assert response.status_code == 302

    response = client.post(change_url(version), {**CHANGED_TEXT, "note": "changed"})
    assert response.status_code == 403

    for model in ADMIN_CONTENT_MODELS:
        name = model._meta.model_name
        row = model.objects.filter(version=version).first()
        response = client.post(change_url(row), {"version": version.pk, "title": "x", "label": "x"})
        assert response.status_code == 403, name

        data = form_data(client.get(add_url(model)))
        data["version"] = version.pk
        response = client.post(add_url(model), data)
        assert response.status_code == 200, name
        assert "version" in response.context["adminform"].form.errors, name

        # A draft's row cannot be moved into the published version either.
        draft_row = model.objects.filter(version=draft).first()
        data = form_data(client.get(change_url(draft_row)))
        data["version"] = version.pk
        response = client.post(change_url(draft_row), data)
        # The version of a stored row is read-only: the posted one is ignored, the row stays put.
        if response.status_code == 200:
            assert "version" in response.context["adminform"].form.errors, name
        else:
            assert response.status_code == 302, name
        draft_row.refresh_from_db()
        assert draft_row.version_id == draft.pk, name


def test_published_version_is_unchanged_by_every_admin_form_and_an_import(
    admin_client: Client, pnet_version: PathwayVersion, tmp_path: Path
) -> None:
    before = exported(pnet_version)
    walk = walk_with(pnet_version, OBSERVATION_CASE)
    draft = authoring.new_draft(pnet_version)

    try_every_admin_form(admin_client, pnet_version, draft)
    pathway = Pathway.objects.get(pk=pnet_version.pathway_id)
    revision = pathway.revision
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(changed_document()), encoding="utf-8")
    call_command("import_pathway", str(path), stdout=io.StringIO())

    version = PathwayVersion.objects.get(pk=pnet_version.pk)
    after = exported(version)
    assert after.encode() == before.encode()
    assert content_hash(json.loads(after)) == version.content_hash
    assert content_hash(export_document(version)) == version.content_hash
    pathway.refresh_from_db()
    assert pathway.slug == "pnet" and pathway.revision == revision

    published_title = load_bundled("pnet-v2")["pathway"]["title"]
    intro = admin_client.get(reverse("pathways:pathway_start", args=["pnet"]) + "?new=1")
    assert intro.status_code == 200
    assert published_title in intro.content.decode() and "Hijacked" not in intro.content.decode()
    result = Client().get(reverse("pathways:walk_detail", kwargs={"slug": "pnet", "walk_id": walk.pk}))
    assert result.status_code == 200
    assert published_title in result.content.decode() and "Hijacked" not in result.content.decode()
    answer = Client().post(
        reverse("pathways:api_evaluate", args=["pnet"]),
        json.dumps(OBSERVATION_CASE),
        content_type="application/json",
    )
    assert answer.status_code == 200 and answer.json()["pathway"] == "pnet"


def test_import_of_a_changed_document_touches_only_its_new_draft(pnet_version: PathwayVersion) -> None:
    pathway = pnet_version.pathway
    revision, history = pathway.revision, pathway.history.count()

    draft = import_document(changed_document())

    pathway.refresh_from_db()
    assert (pathway.revision, pathway.history.count()) == (revision, history)
    assert export_document(draft)["pathway"] == {"slug": "pnet", **CHANGED_TEXT}
    assert export_document(pnet_version)["pathway"] == load_bundled("pnet-v2")["pathway"]


def test_import_of_a_new_slug_creates_its_pathway(pnet_version: PathwayVersion) -> None:
    document = changed_document()
    document["pathway"]["slug"] = "trial"
    draft = import_document(document)
    assert draft.pathway.slug == "trial" and draft.title == CHANGED_TEXT["title"]
    assert export_document(draft)["pathway"] == {"slug": "trial", **CHANGED_TEXT}


def test_slug_rename_of_a_published_pathway_is_refused_with_a_clear_message(
    admin_client: Client, pnet_version: PathwayVersion
) -> None:
    pathway = Pathway.objects.get(slug="pnet")
    pathway.slug = "renamed"
    message = "The slug of the pathway “pnet” cannot change: it has a published or retired version"
    with pytest.raises(ImmutableVersionError, match=message):
        pathway.save()
    with pytest.raises(ValidationError) as error:
        pathway.full_clean()
    assert "walk links and the API use its slug" in error.value.message_dict["slug"][0]
    assert Pathway.objects.filter(slug="pnet").exists() and not Pathway.objects.filter(slug="renamed")

    page = admin_client.get(change_url(pathway)).content.decode()
    assert 'name="slug"' not in page
    assert "fixed once a version has been published" in page


def test_slug_is_free_while_only_drafts_exist_and_fixed_by_a_retired_version(
    pnet_version: PathwayVersion,
) -> None:
    document = changed_document()
    document["pathway"]["slug"] = "trial"
    draft = import_document(document)
    pathway = draft.pathway
    pathway.slug = "trial-2"
    pathway.full_clean()
    pathway.save()
    assert Pathway.objects.get(pk=pathway.pk).slug == "trial-2"

    document["pathway"]["slug"] = "trial-2"
    import_document(document, status="retired")
    pathway.slug = "trial-3"
    with pytest.raises(ImmutableVersionError):
        pathway.save()
    assert Pathway.objects.get(pk=pathway.pk).slug == "trial-2"


def test_published_and_retired_version_text_cannot_change(pnet_version: PathwayVersion) -> None:
    def refuse_each_change() -> None:
        for field in PathwayVersion.TEXT_FIELDS:
            version = PathwayVersion.objects.get(pk=pnet_version.pk)
            setattr(version, field, "Changed")
            with pytest.raises(ImmutableVersionError):
                version.save()

    refuse_each_change()
    authoring.publish(authoring.new_draft(pnet_version), note="Same content, new version.")
    assert PathwayVersion.objects.get(pk=pnet_version.pk).status == "retired"
    refuse_each_change()
    retired = PathwayVersion.objects.get(pk=pnet_version.pk)
    assert content_hash(export_document(retired)) == retired.content_hash == pnet_version.content_hash


def test_drafts_text_is_edited_in_its_admin_form_and_its_snapshot_follows(
    admin_client: Client, pnet_version: PathwayVersion, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = None  # the whole draft page, every inline row, is sent
    draft = authoring.new_draft(pnet_version)
    stale = PathwayVersion.objects.get(pk=draft.pk)
    assert selectors.snapshot_for(draft).title == pnet_version.title
    data = form_data(admin_client.get(change_url(draft)))
    data.update(title="PNET pathway (revised)", disclaimer="A revised disclaimer.")
    response = admin_client.post(change_url(draft), data)
    assert response.status_code == 302, response.context["adminform"].form.errors

    draft.refresh_from_db()
    assert draft.content_hash != stale.content_hash
    assert selectors.snapshot_for(draft).title == "PNET pathway (revised)"
    # Even an instance loaded before the edit gets the new text, never the cached old one.
    assert selectors.snapshot_for(stale).title == "PNET pathway (revised)"
    assert export_document(draft)["pathway"]["disclaimer"] == "A revised disclaimer."
    assert PathwayVersion.objects.get(pk=pnet_version.pk).title == pnet_version.title

    walk = authoring.start_preview(draft)
    page = admin_client.get(
        reverse("pathways:walk_detail", kwargs={"slug": "pnet", "walk_id": walk.pk}), follow=True
    )
    assert "PNET pathway (revised)" in page.content.decode()


def test_diff_lists_changes_to_the_pathway_text(pnet_version: PathwayVersion) -> None:
    old = export_document(pnet_version)
    new = copy.deepcopy(old)
    new["pathway"].update(title="Renamed pathway", disclaimer="Another disclaimer.")
    texts = [change.text for change in diff.diff_documents(old, new) if change.area == "pathway"]
    assert texts == [
        f"The pathway's title now reads “Renamed pathway” (was “{old['pathway']['title']}”).",
        "The pathway's disclaimer changed.",
    ]


@pytest.mark.django_db(transaction=True)
def test_migration_copies_the_pathway_text_onto_every_version(pnet_version: PathwayVersion) -> None:
    executor = MigrationExecutor(connection)
    leaf = executor.loader.graph.leaf_nodes("pathways")[0]
    moving = next(
        key
        for key in executor.loader.graph.nodes
        if key[0] == "pathways" and key[1].endswith("_version_text")
    )
    before = executor.loader.graph.node_map[moving].parents
    target = next(parent.key for parent in before if parent.key[0] == "pathways")
    draft = authoring.new_draft(pnet_version)
    executor.migrate([target])

    old_apps = executor.loader.project_state([target]).apps
    old_apps.get_model("pathways", "Pathway").objects.filter(slug="pnet").update(**CHANGED_TEXT)
    executor = MigrationExecutor(connection)
    executor.migrate([leaf])

    for version in PathwayVersion.objects.filter(pk__in=[pnet_version.pk, draft.pk]):
        assert {key: getattr(version, key) for key in CHANGED_TEXT} == CHANGED_TEXT
    assert draft.history.first().title == CHANGED_TEXT["title"]
