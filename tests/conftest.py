from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pathways import engine

CONTENT = Path(__file__).resolve().parent.parent / "pathways" / "content" / "pnet.json"


@pytest.fixture(scope="session")
def pnet_document() -> dict[str, Any]:
    return json.loads(CONTENT.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def snapshot(pnet_document: dict[str, Any]) -> engine.Snapshot:
    """The PNET pathway as the engine sees it, built without a database."""
    return engine.snapshot_from_document(pnet_document)


@pytest.fixture
def pnet_version(db: Any) -> Any:
    """The published PNET version (loaded by the data migration, reloaded after a flush)."""
    return ensure_pnet_published()


def ensure_pnet_published() -> Any:
    from pathways.content_io import import_document, load_bundled
    from pathways.models import PathwayVersion
    from pathways.selectors import clear_snapshot_cache

    version = PathwayVersion.objects.filter(pathway__slug="pnet", status="published").first()
    if version is None:
        clear_snapshot_cache()
        version = import_document(load_bundled("pnet"), status="published")
    return version
