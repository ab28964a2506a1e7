"""Authoring admin: read-only published versions, the publish gate, drafts, preview, diff, diagram,
audit, roles and conflicting saves."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from pathways import authoring
from pathways.models import EdgeCondition, Node, PathwayVersion, Walk
from tests.conftest import EDITORS, PUBLISHERS, logged_in, make_user

pytestmark = pytest.mark.django_db


def form_data(response: Any) -> dict[str, Any]:
    """The POST data of an admin change form as rendered (main form and every inline)."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data: dict[str, Any] = {}
    for form in forms:
        for name in form.fields:
            bound = form[name]
            value = bound.value()
            if value is None or value is False:
                continue
            if value is True:
                value = "on"
            elif isinstance(value, (list, tuple)):
                value = [str(v) for v in value]
            data[bound.html_name] = value
    return data


@pytest.fixture
def admin(superuser_client: Client) -> Client:
    return superuser_client


@pytest.fixture
def draft(pnet_version: PathwayVersion) -> PathwayVersion:
    return authoring.new_draft(pnet_version)


def change_url(obj: Any) -> str:
    return reverse(f"admin:pathways_{obj._meta.model_name}_change", args=[obj.pk])


def open_gap(version: PathwayVersion) -> None:
    condition = EdgeCondition.objects.get(
        edge__version=version, edge__source__slug="ki67", edge__order=1, op="le"
    )
    condition.op = "lt"
    condition.save()


def test_published_version_shows_a_clean_checklist_and_no_save(
    admin: Client, pnet_version: PathwayVersion
) -> None:
    response = admin.get(change_url(pnet_version))
    page = response.content.decode()
    assert response.status_code == 200
    # Version 2's one warning: a recommendation shown as the pathway's resolution cites nothing.
    assert "0 error(s), 1 warning(s)" in page and "adv.active_surveillance cites no reference" in page
    assert 'name="_save"' not in page
    assert "New draft from this version" in page and "Publish…" not in page


def test_published_node_is_read_only_in_the_admin(admin: Client, pnet_version: PathwayVersion) -> None:
    node = Node.objects.get(version=pnet_version, slug="ki67")
    assert admin.get(change_url(node)).status_code == 200
    assert 'name="_save"' not in admin.get(change_url(node)).content.decode()
    response = admin.post(change_url(node), {"title": "Changed", "slug": "ki67"})
    assert response.status_code == 403
    assert Node.objects.get(pk=node.pk).title != "Changed"
    response = admin.post(reverse("admin:pathways_node_delete", args=[node.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Node.objects.filter(pk=node.pk).exists()


def test_new_draft_from_a_version(admin: Client, pnet_version: PathwayVersion) -> None:
    response = admin.post(reverse("admin:pathways_pathwayversion_new_draft", args=[pnet_version.pk]))
    draft = PathwayVersion.objects.get(pathway=pnet_version.pathway, status="draft")
    assert response.status_code == 302 and response["Location"] == change_url(draft)
    assert Node.objects.filter(version=draft).count() == Node.objects.filter(version=pnet_version).count()


def test_draft_node_edit_records_history_with_the_user(
    admin: Client, superuser: Any, draft: PathwayVersion
) -> None:
    node = Node.objects.get(version=draft, slug="ki67")
    data = form_data(admin.get(change_url(node)))
    data["title"] = "Ki-67 index, from the pathology report"
    response = admin.post(change_url(node), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    record = node.history.first()
    assert record.title == data["title"] and record.history_user == superuser
    audit = admin.get(reverse("admin:pathways_pathwayversion_audit", args=[draft.pk])).content.decode()
    assert "Changed step “What is the Ki-67 index?”: title" in audit and "root" in audit


def test_second_editor_saving_a_stale_form_gets_a_conflict(admin: Client, draft: PathwayVersion) -> None:
    node = Node.objects.get(version=draft, slug="ki67")
    first = form_data(admin.get(change_url(node)))
    second = form_data(admin.get(change_url(node)))
    first["title"] = "First editor's title"
    assert admin.post(change_url(node), first).status_code == 302
    second["title"] = "Second editor's title"
    response = admin.post(change_url(node), second)
    assert response.status_code == 200
    assert "Someone else saved this node after you opened it" in response.content.decode()
    assert Node.objects.get(pk=node.pk).title == "First editor's title"


def test_publish_is_refused_while_an_error_stands(admin: Client, draft: PathwayVersion) -> None:
    open_gap(draft)
    url = reverse("admin:pathways_pathwayversion_publish", args=[draft.pk])
    page = admin.get(url).content.decode()
    ki67 = Node.objects.get(version=draft, slug="ki67")
    assert "cannot be published while any error stands" in page
    assert f'href="{change_url(ki67)}"' in page and "gap" in page
    response = admin.post(url, {"note": "Try anyway"})
    assert response.status_code == 200
    assert "Not published" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "draft"
    checklist = admin.get(change_url(draft)).content.decode()
    assert "publishing is refused" in checklist


def test_publisher_publishes_a_clean_draft_with_a_change_note(
    pnet_version: PathwayVersion, draft: PathwayVersion
) -> None:
    publisher = make_user("pat", PUBLISHERS)
    client = logged_in(publisher)
    url = reverse("admin:pathways_pathwayversion_publish", args=[draft.pk])
    assert client.post(url, {"note": ""}).status_code == 200  # the note is required
    response = client.post(url, {"note": "Same content, reviewed"})
    assert response.status_code == 302
    draft.refresh_from_db()
    pnet_version.refresh_from_db()
    assert (draft.status, pnet_version.status) == ("published", "retired")
    assert draft.published_by == publisher and draft.note == "Same content, reviewed"


def test_editor_can_edit_drafts_but_not_publish(draft: PathwayVersion) -> None:
    editor = logged_in(make_user("ed", EDITORS))
    node = Node.objects.get(version=draft, slug="ki67")
    data = form_data(editor.get(change_url(node)))
    data["title"] = "Edited by an editor"
    assert editor.post(change_url(node), data).status_code == 302
    page = editor.get(change_url(draft)).content.decode()
    assert "Publish…" not in page
    url = reverse("admin:pathways_pathwayversion_publish", args=[draft.pk])
    assert editor.post(url, {"note": "sneaky"}).status_code == 403
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_preview_walks_the_draft_in_the_wizard(admin: Client, draft: PathwayVersion) -> None:
    response = admin.post(reverse("admin:pathways_pathwayversion_preview", args=[draft.pk]))
    walk = Walk.objects.get(version=draft)
    assert walk.is_preview
    assert response.status_code == 302
    assert str(walk.pk) in response["Location"]
    assert admin.get(response["Location"], follow=True).status_code == 200


def test_diff_speaks_in_clinical_terms(admin: Client, draft: PathwayVersion) -> None:
    condition = EdgeCondition.objects.get(
        edge__version=draft, edge__source__slug="ki67", edge__target__slug="differentiation"
    )
    condition.op = "ge"
    condition.save()
    page = admin.get(reverse("admin:pathways_pathwayversion_diff", args=[draft.pk])).content.decode()
    assert (
        "Rule “What is the Ki-67 index?” → “Is the tumour well differentiated (NET G3) or poorly "
        "differentiated (NEC)?” now requires Ki-67 index ≥ 20 % (was Ki-67 index &gt; 20 %)"
    ) in page


def test_diagram_marks_faulty_steps(admin: Client, draft: PathwayVersion) -> None:
    open_gap(draft)
    response = admin.get(reverse("admin:pathways_pathwayversion_diagram", args=[draft.pk]))
    page = response.content.decode()
    assert response.status_code == 200 and "<svg" in page and "faulty" in page


def test_version_search_and_filters(admin: Client, draft: PathwayVersion) -> None:
    assert (
        admin.get(reverse("admin:pathways_pathwayversion_changelist"), {"status__exact": "draft"}).status_code
        == 200
    )
    response = admin.get(reverse("admin:pathways_node_changelist"), {"version_status": "draft", "q": "ki67"})
    assert response.status_code == 200 and "ki67" in response.content.decode()


def test_editor_fixes_a_gap_through_the_edge_admin_then_it_publishes(draft: PathwayVersion) -> None:
    open_gap(draft)
    editor = logged_in(make_user("ed", EDITORS))
    edge = EdgeCondition.objects.get(
        edge__version=draft, edge__source__slug="ki67", edge__order=1, op="lt"
    ).edge
    data = form_data(editor.get(change_url(edge)))
    prefix = next(key for key, value in data.items() if key.endswith("-op") and value == "lt")
    data[prefix] = "le"
    response = editor.post(change_url(edge), data)
    assert response.status_code == 302
    assert authoring.check_version(draft).ok
    publisher = logged_in(make_user("pub", PUBLISHERS))
    url = reverse("admin:pathways_pathwayversion_publish", args=[draft.pk])
    assert publisher.post(url, {"note": "Ki-67 of exactly 20 % is G2 again"}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == "published"


def test_new_edge_added_inline_on_a_node_joins_the_nodes_version(
    admin: Client, draft: PathwayVersion
) -> None:
    node = Node.objects.get(version=draft, slug="observation")
    target = Node.objects.get(version=draft, slug="surgery_head")
    data = form_data(admin.get(change_url(node)))
    prefix = next(
        key[: -len("-TOTAL_FORMS")] for key in data if key.endswith("TOTAL_FORMS") and "out_edges" in key
    )
    data[f"{prefix}-TOTAL_FORMS"] = "1"
    data.update({f"{prefix}-0-order": "1", f"{prefix}-0-target": str(target.pk), f"{prefix}-0-note": ""})
    response = admin.post(change_url(node), data)
    assert response.status_code == 302, response.context and response.context["inline_admin_formsets"]
    edge = node.out_edges.get()
    assert edge.version == draft and edge.target == target
    problems = authoring.check_version(draft).errors
    assert any(p.code == "outcome-with-edges" and p.node == "observation" for p in problems)


def test_node_page_lists_its_edges_and_recommendations(admin: Client, pnet_version: PathwayVersion) -> None:
    node = Node.objects.get(version=pnet_version, slug="insulinoma_sstr")
    page = admin.get(change_url(node)).content.decode()
    assert "caution.ssa_insulinoma_sstr_negative" in page and "SSTR imaging is Negative" in page
    ki67 = admin.get(change_url(Node.objects.get(version=pnet_version, slug="ki67"))).content.decode()
    assert "Ki-67 index over 20 %" in ki67  # the edge to differentiation, in words


def test_stale_inline_row_is_refused_too(admin: Client, draft: PathwayVersion) -> None:
    edge = EdgeCondition.objects.get(
        edge__version=draft, edge__source__slug="ki67", edge__order=1, op="le"
    ).edge
    stale = form_data(admin.get(change_url(edge)))
    condition = edge.conditions.get(op="le")
    condition.value = 25
    condition.save()  # a colleague changes the threshold meanwhile
    prefix = next(key for key, value in stale.items() if key.endswith("-op") and value == "le")
    stale[prefix] = "lt"
    response = admin.post(change_url(edge), stale)
    assert response.status_code == 200
    assert "Someone else saved this" in response.content.decode()
    condition.refresh_from_db()
    assert (condition.op, condition.value) == ("le", 25)
