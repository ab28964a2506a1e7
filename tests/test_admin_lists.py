"""Admin list pages cost the same number of queries however many rows they show; the version
pages pass what they edit explicitly and render the checklist from a template."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from pathways import admin as pathways_admin
from pathways import authoring
from pathways.models import GuidanceNote, Node, Pathway, PathwayVersion
from tests.test_admin import change_url, open_gap

pytestmark = pytest.mark.django_db

PATHWAY_MODELS = sorted(
    (model for model in pathways_admin.admin.site._registry if model._meta.app_label == "pathways"),
    key=lambda model: model._meta.label,
)


@pytest.fixture
def admin(superuser_client: Client) -> Client:
    return superuser_client


def changelist_queries(client: Client, model: type) -> int:
    url = reverse(f"admin:pathways_{model._meta.model_name}_changelist")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"all": ""})
    assert response.status_code == 200, model
    return len(queries)


@pytest.mark.parametrize("model", PATHWAY_MODELS, ids=lambda model: model._meta.label)
def test_changelist_queries_do_not_grow_with_rows(
    admin: Client, pnet_version: PathwayVersion, model: type
) -> None:
    first = authoring.new_draft(pnet_version)
    authoring.start_preview(first)
    changelist_queries(admin, model)  # warm caches (content types, sessions)
    few = changelist_queries(admin, model)
    for number in range(2):
        draft = authoring.new_draft(pnet_version)
        authoring.start_preview(draft)
        GuidanceNote.objects.create(
            version=draft,
            code=f"newer.note{number}",
            text="Text",
            source="Source",
            checked_on=date(2024, 1, 1),
        )
        other = Pathway.objects.create(slug=f"other-{number}")
        PathwayVersion.objects.create(pathway=other, number=1, title=f"Other {number}")
    assert model._default_manager.count() > 1
    assert changelist_queries(admin, model) == few


def test_no_page_keeps_what_it_edits_on_the_request(admin: Client, pnet_version: PathwayVersion) -> None:
    draft = authoring.new_draft(pnet_version)
    node = Node.objects.get(version=draft, slug="ki67")
    response = admin.get(change_url(node))
    assert response.status_code == 200
    assert not [name for name in vars(response.wsgi_request) if name.startswith("_pathways")]
    # The inline's links still offer only this draft's rows.
    formset = next(
        f for f in response.context["inline_admin_formsets"] if f.formset.model is Node.fields.through
    )
    offered = formset.formset.form.base_fields["variable"].queryset
    assert {row.version_id for row in offered} == {draft.pk}


def test_checklist_is_rendered_from_its_template_on_the_version_and_publish_pages(
    admin: Client,
    pnet_version: PathwayVersion,
) -> None:
    draft = authoring.new_draft(pnet_version)
    open_gap(draft)
    for url in (change_url(draft), reverse("admin:pathways_pathwayversion_publish", args=[draft.pk])):
        response = admin.get(url)
        assert "admin/pathways/_checklist.html" in [t.name for t in response.templates], url
        page = response.content.decode()
        assert 'class="pathway-checklist"' in page and "publishing is refused" in page
        assert 'href="/admin/pathways/node/' in page
        # The faulty step is named by its title, as an editor knows it, not by its slug.
        title = Node.objects.get(version=draft, slug="ki67").title
        assert f"step “{escape(title)}”</a>" in page and ">step ki67<" not in page
    response = admin.get(change_url(pnet_version))
    assert "admin/pathways/_checklist.html" in [t.name for t in response.templates]
    # Version 2's one warning: the recommendation shown as the pathway's resolution cites nothing.
    assert "0 error(s), 1 warning(s)" in response.content.decode()
