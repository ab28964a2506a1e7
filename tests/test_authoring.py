"""Version lifecycle: immutability, drafts, the publish gate, pinned walks, history, import/export."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from pathways import authoring, engine, selectors, services, validation
from pathways.content_io import export_document, import_document, load_bundled
from pathways.models import (
    Edge,
    EdgeCondition,
    ImmutableVersionError,
    Node,
    Pathway,
    PathwayVersion,
    Recommendation,
    SafetyRule,
    Walk,
)

pytestmark = pytest.mark.django_db


def content(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "version"}


@pytest.fixture
def draft(pnet_version: PathwayVersion) -> PathwayVersion:
    return authoring.new_draft(pnet_version)


def open_gap(version: PathwayVersion) -> None:
    """Make Ki-67 of exactly 20 % fall through at the ki67 question (a classic boundary slip)."""
    condition = EdgeCondition.objects.get(
        edge__version=version, edge__source__slug="ki67", edge__order=1, op="le"
    )
    condition.op = "lt"
    condition.save()


def close_gap(version: PathwayVersion) -> None:
    condition = EdgeCondition.objects.get(
        edge__version=version, edge__source__slug="ki67", edge__order=1, op="lt"
    )
    condition.op = "le"
    condition.save()


# Immutability -----------------------------------------------------------------------------------


def test_published_node_refuses_save_and_delete(pnet_version: PathwayVersion) -> None:
    node = Node.objects.get(version=pnet_version, slug="ki67")
    node.title = "Changed"
    with pytest.raises(ImmutableVersionError):
        node.save()
    with pytest.raises(ImmutableVersionError):
        node.delete()
    assert Node.objects.get(pk=node.pk).title != "Changed"


def test_published_condition_and_recommendation_links_refuse_changes(pnet_version: PathwayVersion) -> None:
    condition = EdgeCondition.objects.filter(edge__version=pnet_version).first()
    condition.value = "x"
    with pytest.raises(ImmutableVersionError):
        condition.save()
    rec = Recommendation.objects.get(version=pnet_version, code="caution.ssa_insulinoma")
    with pytest.raises(ImmutableVersionError), transaction.atomic():
        rec.nodes.clear()
    assert rec.nodes.count() == 1


def test_queryset_delete_and_cascades_cannot_reach_published_content(pnet_version: PathwayVersion) -> None:
    with pytest.raises(ImmutableVersionError), transaction.atomic():
        Edge.objects.filter(version=pnet_version).delete()
    with pytest.raises(ImmutableVersionError), transaction.atomic():
        Pathway.objects.filter(slug="pnet").delete()
    assert Edge.objects.filter(version=pnet_version).count() == len(load_bundled("pnet-v2")["edges"])


def test_published_version_can_only_be_retired(pnet_version: PathwayVersion) -> None:
    pnet_version.note = "rewritten"
    with pytest.raises(ImmutableVersionError):
        pnet_version.save()
    pnet_version.refresh_from_db()
    pnet_version.status = PathwayVersion.Status.DRAFT
    with pytest.raises(ImmutableVersionError):
        pnet_version.save()
    pnet_version.status = PathwayVersion.Status.RETIRED
    pnet_version.save()
    with pytest.raises(ImmutableVersionError):
        pnet_version.delete()


def test_services_refuse_to_touch_a_published_version(pnet_version: PathwayVersion) -> None:
    with pytest.raises(ImmutableVersionError):
        authoring.require_draft(pnet_version)
    with pytest.raises(ImmutableVersionError):
        authoring.delete_draft(pnet_version)
    with pytest.raises(authoring.PublishRefused):
        authoring.publish(pnet_version, note="again")


# Drafts -------------------------------------------------------------------------------------------


def test_new_draft_is_a_deep_copy(pnet_version: PathwayVersion, draft: PathwayVersion) -> None:
    assert draft.status == "draft" and draft.number == pnet_version.number + 1
    assert draft.based_on == pnet_version
    assert content(export_document(draft)) == content(export_document(pnet_version))
    assert not set(Node.objects.filter(version=draft).values_list("pk", flat=True)) & set(
        Node.objects.filter(version=pnet_version).values_list("pk", flat=True)
    )
    assert (
        SafetyRule.objects.filter(version=draft).count()
        == SafetyRule.objects.filter(version=pnet_version).count()
    )


def test_editing_a_draft_refreshes_its_snapshot(draft: PathwayVersion) -> None:
    before = selectors.snapshot_for(draft)
    node = Node.objects.get(version=draft, slug="ki67")
    node.title = "Ki-67 index (edited)"
    node.save()
    draft.refresh_from_db()
    after = selectors.snapshot_for(draft)
    assert before.nodes["ki67"].title != after.nodes["ki67"].title == "Ki-67 index (edited)"


def test_published_snapshot_costs_no_queries_once_built(
    pnet_version: PathwayVersion, django_assert_num_queries: Any
) -> None:
    selectors.snapshot_for(pnet_version)
    with django_assert_num_queries(0):
        selectors.snapshot_for(pnet_version)


# Publishing ---------------------------------------------------------------------------------------


def test_publish_refuses_a_draft_with_a_gap(draft: PathwayVersion) -> None:
    open_gap(draft)
    with pytest.raises(authoring.PublishRefused) as refused:
        authoring.publish(draft, note="Tighten Ki-67")
    assert any(p.code == "gap" and p.node == "ki67" for p in refused.value.problems)
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_publish_needs_a_change_note(draft: PathwayVersion) -> None:
    with pytest.raises(authoring.PublishRefused):
        authoring.publish(draft, note="  ")


def test_publish_retires_the_previous_version_and_records_the_note(
    pnet_version: PathwayVersion, draft: PathwayVersion
) -> None:
    user = get_user_model().objects.create_user("publisher")
    published = authoring.publish(draft, note="Reviewed wording", user=user)
    pnet_version.refresh_from_db()
    assert pnet_version.status == "retired"
    assert published.status == "published" and published.published_by == user and published.published_at
    assert published.content_hash == pnet_version.content_hash  # same content, same hash
    assert selectors.published_version("pnet") == published
    record = published.history.first()
    assert record.history_change_reason == "Reviewed wording" and record.status == "published"


def test_publishing_a_checked_draft_does_not_run_the_gate_again(
    draft: PathwayVersion, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[int] = []
    check_document = validation.check_document

    def counted(document: Any, store: Any = None) -> validation.Report:
        runs.append(1)
        return check_document(document, store)

    monkeypatch.setattr(validation, "check_document", counted)
    open_gap(draft)
    close_gap(draft)  # an edited draft: its token is no longer the content hash
    assert authoring.check_version(draft).ok  # the publish page shows the checklist
    runs.clear()
    published = authoring.publish(draft, note="Reviewed wording")
    assert authoring.check_version(published).ok  # the version page shown after publishing
    assert runs == []


def test_an_edit_after_the_checklist_is_checked_again_at_publish(draft: PathwayVersion) -> None:
    assert authoring.check_version(draft).ok
    open_gap(draft)
    with pytest.raises(authoring.PublishRefused) as refused:
        authoring.publish(draft, note="Tighten Ki-67")
    assert any(p.code == "gap" and p.node == "ki67" for p in refused.value.problems)


def test_walks_stay_pinned_to_their_version_across_a_publish(
    pnet_version: PathwayVersion, draft: PathwayVersion
) -> None:
    walk = services.start_walk(pnet_version)
    assert walk.content_hash == pnet_version.content_hash
    snapshot = selectors.snapshot_for(walk.version)
    services.record_step(walk, snapshot, given={"suspected_syndrome": "none"}, forget=[], expected_revision=0)
    node = Node.objects.get(version=draft, slug="biochem_general")
    node.title = "New wording"
    node.save()
    authoring.publish(draft, note="Wording")
    walk = Walk.objects.get(pk=walk.pk)
    assert walk.version_id == pnet_version.pk
    old = selectors.snapshot_for(walk.version)
    assert old.version == pnet_version.number and old.nodes["biochem_general"].title != "New wording"
    assert engine.evaluate(old, walk.answers).current == "biochem_general"


def test_only_a_preview_walks_a_draft(draft: PathwayVersion) -> None:
    with pytest.raises(ValueError):
        services.start_walk(draft)
    walk = authoring.start_preview(draft)
    assert walk.is_preview and walk.version == draft


def test_content_edits_leave_history_rows(draft: PathwayVersion) -> None:
    node = Node.objects.get(version=draft, slug="ki67")
    original = node.title
    node.title = "Edited"
    node.save()
    pk = node.pk
    node.delete()
    rows = list(Node.history.filter(id=pk).order_by("-history_id"))
    assert [(row.history_type, row.title) for row in rows] == [
        ("-", "Edited"),
        ("~", "Edited"),
        ("+", original),
    ]


# Commands -----------------------------------------------------------------------------------------


def test_validate_command_prints_ok(pnet_version: PathwayVersion) -> None:
    out = io.StringIO()
    call_command("validate_pathway", "pnet", stdout=out)
    assert out.getvalue().splitlines() == [
        "OK",
        "WARNING uncited-resolution [advanced_g12_surveillance]: adv.active_surveillance cites no "
        "reference: it is shown as this pathway's resolution, as its note says.",
    ]


def test_validate_command_lists_problems_and_exits_1(draft: PathwayVersion) -> None:
    open_gap(draft)
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("validate_pathway", "pnet", "--version", str(draft.number), stdout=out)
    assert exit_info.value.code == 1
    assert "ERROR gap [ki67]" in out.getvalue()


def test_export_import_export_round_trip(pnet_version: PathwayVersion, tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("export_pathway", "pnet", stdout=out)
    first = json.loads(out.getvalue())
    path = tmp_path / "pnet.json"
    path.write_text(out.getvalue(), encoding="utf-8")
    out = io.StringIO()
    call_command("import_pathway", str(path), stdout=out)
    number = int(out.getvalue())
    assert PathwayVersion.objects.get(pathway__slug="pnet", number=number).status == "draft"
    out = io.StringIO()
    call_command("export_pathway", "pnet", "--version", str(number), stdout=out)
    second = json.loads(out.getvalue())
    assert content(first) == content(second)
    assert second["version"]["number"] == number and second["version"]["status"] == "draft"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "is not JSON"),
        ('{"pathway": {"slug": "pnet"}}', "has no “variables” key"),
        (
            '{"pathway": {"slug": "x"}, "variables": [], "nodes": [], '
            '"edges": [{"source": "a", "target": "b", "order": 1}], "recommendations": [], "references": []}',
            "is not a node",
        ),
    ],
)
def test_import_refuses_malformed_files(db: Any, tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CommandError, match=message):
        call_command("import_pathway", str(path))
    assert not Pathway.objects.filter(slug="x").exists()


def test_import_never_publishes_even_when_the_document_says_published(pnet_document: dict[str, Any]) -> None:
    version = import_document(json.loads(json.dumps(pnet_document)))
    assert version.status == "draft"


def test_checklist_is_recomputed_after_an_edit(draft: PathwayVersion) -> None:
    assert authoring.check_version(draft).ok
    condition = EdgeCondition.objects.get(
        edge__version=draft, edge__source__slug="ki67", edge__order=1, op="le"
    )
    condition.op = "lt"
    condition.save()
    assert not authoring.check_version(draft).ok
