from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pathways import engine

CONTENT = Path(__file__).resolve().parent.parent / "pathways" / "content" / "pnet.json"
CONTENT_V2 = CONTENT.with_name("pnet-v2.json")


@pytest.fixture(scope="session")
def pnet_document() -> dict[str, Any]:
    return json.loads(CONTENT.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def snapshot(pnet_document: dict[str, Any]) -> engine.Snapshot:
    """The PNET pathway as the engine sees it, built without a database."""
    return engine.snapshot_from_document(pnet_document)


@pytest.fixture(scope="session")
def pnet_v2_document() -> dict[str, Any]:
    return json.loads(CONTENT_V2.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def v2_snapshot(pnet_v2_document: dict[str, Any]) -> engine.Snapshot:
    """Version 2 of the PNET pathway (the published one) as the engine sees it."""
    return engine.snapshot_from_document(pnet_v2_document)


@pytest.fixture
def pnet_version(db: Any) -> Any:
    """The published PNET version, 2 (loaded by the data migrations, reloaded after a flush)."""
    return ensure_pnet_published()


def ensure_pnet_published() -> Any:
    from pathways.content_io import import_document, load_bundled
    from pathways.models import PathwayVersion
    from pathways.selectors import clear_snapshot_cache

    version = PathwayVersion.objects.filter(pathway__slug="pnet", status="published").first()
    if version is None:
        clear_snapshot_cache()
        # As the data migrations leave it: version 1 retired, version 2 published.
        import_document(load_bundled("pnet"), status="published")
        version = import_document(load_bundled("pnet-v2"), status="published")
    return version
