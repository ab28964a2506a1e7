"""The data migrations load the bundled pathway from their own frozen copies, exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from pathways.content_io import content_hash, export_document
from pathways.models import PathwayVersion
from tests.conftest import CONTENT, CONTENT_V2, CONTENT_V3

FROZEN = Path(__file__).resolve().parent.parent / "pathways" / "migrations" / "frozen"


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_migrations_carry_their_own_copy_of_the_bundled_versions() -> None:
    # Versions 1 and 2 are retired: their copies and the bundled files must never part.
    assert _read(FROZEN / "0002_pnet_v1.json") == _read(CONTENT)
    assert _read(FROZEN / "0008_pnet_v2.json") == _read(CONTENT_V2)
    assert _read(FROZEN / "0011_pnet_v3.json") == _read(CONTENT_V3)


def _content(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "version"}


@pytest.mark.django_db(transaction=True)
def test_migrating_from_the_empty_schema_loads_every_version_exactly() -> None:
    executor = MigrationExecutor(connection)
    leaf = executor.loader.graph.leaf_nodes("pathways")[0]
    executor.migrate([("pathways", "0001_initial")])
    executor = MigrationExecutor(connection)
    executor.migrate([leaf])

    versions = {v.number: v for v in PathwayVersion.objects.filter(pathway__slug="pnet")}
    assert {n: v.status for n, v in versions.items()} == {1: "retired", 2: "retired", 3: "published"}
    for number, path in ((1, CONTENT), (2, CONTENT_V2), (3, CONTENT_V3)):
        exported = export_document(versions[number])
        assert _content(exported) == _content(_read(path))
        assert exported["version"]["note"] == _read(path)["version"]["note"]
        assert versions[number].content_hash == content_hash(exported)
