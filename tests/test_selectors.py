"""Snapshot reads: built from the version's export, in a fixed number of queries."""

from __future__ import annotations

from typing import Any

import pytest

from bench import generate
from pathways import selectors
from pathways.content_io import import_document
from pathways.document import snapshot_from_document
from pathways.models import PathwayVersion

pytestmark = pytest.mark.django_db


def test_snapshot_of_pnet_equals_the_one_built_from_its_bundled_document(
    pnet_version: PathwayVersion, v3_snapshot: Any
) -> None:
    selectors.clear_snapshot_cache()
    built = selectors.snapshot_for(pnet_version)
    assert (built.start, built.variables, built.references, built.notes) == (
        v3_snapshot.start,
        v3_snapshot.variables,
        v3_snapshot.references,
        v3_snapshot.notes,
    )
    assert built.variables["glucose_mg_dl"].other_units  # the database keeps them
    assert dict(built.recommendations) == dict(v3_snapshot.recommendations)
    assert dict(built.nodes) == dict(v3_snapshot.nodes)


def test_snapshot_of_a_generated_pathway_equals_the_one_built_from_its_document() -> None:
    document = generate.generate(120, 10, slug="generated-small")
    version = import_document(document)
    selectors.clear_snapshot_cache()
    built = selectors.snapshot_for(version)
    assert dict(built.nodes) == dict(snapshot_from_document(document).nodes)
    assert len(built.nodes) == 120


@pytest.mark.parametrize("nodes", [40, 160])
def test_snapshot_build_queries_do_not_grow_with_the_pathway(
    nodes: int, django_assert_num_queries: Any
) -> None:
    version = import_document(generate.generate(nodes, 8, slug=f"generated-{nodes}"))
    version = PathwayVersion.objects.select_related("pathway").get(pk=version.pk)
    selectors.clear_snapshot_cache()
    with django_assert_num_queries(16):  # the draft's current content token, then the export's 15
        selectors.snapshot_for(version)


@pytest.mark.django_db
def test_an_edited_draft_keeps_one_snapshot_in_the_cache(pnet_version) -> None:
    selectors.clear_snapshot_cache()
    for token in ("a", "b", "c"):
        pnet_version.content_hash = token
        selectors.snapshot_for(pnet_version)
    assert [key for key in selectors._snapshots if key[0] == pnet_version.pk] == [(pnet_version.pk, "c")]
    selectors.clear_snapshot_cache()
