"""The immutability rules live in one module; the models only call it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.db.models.signals import m2m_changed, pre_delete

from pathways import authoring, immutability, models
from pathways.models import CONTENT_MODELS, Node, PathwayVersion, Recommendation

pytestmark = pytest.mark.django_db


def test_models_module_holds_no_guard_of_its_own() -> None:
    """No signal receiver, thread-local, lock or status check of its own: the rules are elsewhere."""
    tree = ast.parse(Path(models.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    assert not imported & {"threading", "django.dispatch", "django.db.models.signals", "contextlib"}
    calls = {
        n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
    }
    assert "select_for_update" not in calls
    assert not [
        n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == "ImmutableVersionError"
    ]
    assert models.ImmutableVersionError is immutability.ImmutableVersionError


def test_every_content_model_and_recommendation_link_is_guarded() -> None:
    def receivers(signal: object, sender: type) -> set[str]:
        live = signal._live_receivers(sender)[0]  # type: ignore[attr-defined]
        return {getattr(receiver, "__name__", "") for receiver in live}

    for model in CONTENT_MODELS:
        assert "_refuse_cascade_into_content" in receivers(pre_delete, model), model
    assert "_refuse_cascade_into_version" in receivers(pre_delete, PathwayVersion)
    for through in (Recommendation.nodes.through, Recommendation.citations.through):
        assert "_refuse_link_change" in receivers(m2m_changed, through)


def test_a_batch_writes_a_draft_with_one_token_refresh_and_refuses_a_published_version(
    pnet_version: PathwayVersion,
) -> None:
    draft = authoring.new_draft(pnet_version)
    before = PathwayVersion.objects.get(pk=draft.pk).content_hash
    with immutability.draft_batch(draft.pk):
        node = Node.objects.get(version=draft, slug="ki67")
        node.title = "Ki-67 index"
        node.save()
        assert PathwayVersion.objects.get(pk=draft.pk).content_hash == before  # refreshed once, at the end
    assert PathwayVersion.objects.get(pk=draft.pk).content_hash != before
    with pytest.raises(immutability.ImmutableVersionError), immutability.draft_batch(pnet_version.pk):
        pass


def test_a_node_moved_into_a_published_version_is_refused(pnet_version: PathwayVersion) -> None:
    draft = authoring.new_draft(pnet_version)
    node = Node.objects.get(version=draft, slug="ki67")
    node.version = pnet_version
    with pytest.raises(immutability.ImmutableVersionError):
        node.save()
    assert Node.objects.get(pk=node.pk).version_id == draft.pk
