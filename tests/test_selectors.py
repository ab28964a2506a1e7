"""Snapshot reads: the flat-row build equals the document export's, in a fixed number of queries."""

from __future__ import annotations

from typing import Any

import pytest

from bench import generate
from pathways import engine, selectors
from pathways.content_io import export_document, import_document
from pathways.models import PathwayVersion

pytestmark = pytest.mark.django_db


def _reference_snapshot(version: PathwayVersion) -> engine.Snapshot:
    return engine.snapshot_from_document(export_document(version), version_id=version.pk)


def test_snapshot_of_pnet_equals_the_one_built_from_its_export(pnet_version: PathwayVersion) -> None:
    selectors.clear_snapshot_cache()
    built = selectors.snapshot_for(pnet_version)
    reference = _reference_snapshot(pnet_version)
    assert built == reference
    for slug, node in reference.nodes.items():
        assert built.nodes[slug].edges == node.edges
        assert built.nodes[slug].recommendations == node.recommendations


def test_snapshot_of_a_generated_pathway_equals_the_one_built_from_its_export() -> None:
    version = import_document(generate.generate(120, 10, slug="generated-small"))
    selectors.clear_snapshot_cache()
    built = selectors.snapshot_for(version)
    assert built == _reference_snapshot(version)
    assert len(built.nodes) == 120


@pytest.mark.parametrize("nodes", [40, 160])
def test_snapshot_build_queries_do_not_grow_with_the_pathway(
    nodes: int, django_assert_num_queries: Any
) -> None:
    version = import_document(generate.generate(nodes, 8, slug=f"generated-{nodes}"))
    version = PathwayVersion.objects.select_related("pathway").get(pk=version.pk)
    selectors.clear_snapshot_cache()
    with django_assert_num_queries(13):  # the draft's current content token, then twelve to build
        selectors.snapshot_for(version)


@pytest.mark.django_db
def test_an_edited_draft_keeps_one_snapshot_in_the_cache(pnet_version) -> None:
    from pathways import selectors

    selectors.clear_snapshot_cache()
    for token in ("a", "b", "c"):
        pnet_version.content_hash = token
        selectors.snapshot_for(pnet_version)
    assert [key for key in selectors._snapshots if key[0] == pnet_version.pk] == [(pnet_version.pk, "c")]
    selectors.clear_snapshot_cache()
