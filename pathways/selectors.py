"""Reads: published versions, walks, and the engine snapshot of a version (cached)."""

from __future__ import annotations

import threading
import uuid

from django.http import Http404

from . import engine, walk_rows
from .content_io import export_document
from .document import snapshot_from_document
from .models import PathwayVersion, Walk

_snapshots: dict[tuple[int, str], engine.Snapshot] = {}
_lock = threading.Lock()


def snapshot_for(version: PathwayVersion) -> engine.Snapshot:
    """The engine snapshot of ``version``, built once per version and content hash.

    Published and retired versions never change, so a step costs no pathway queries. A draft's
    hash is refreshed on every save by the authoring services, so its cache entry follows edits.
    """
    content: str | None = version.content_hash
    if version.status == PathwayVersion.Status.DRAFT:
        # The instance may predate an edit: a draft's current token is one small query away.
        content = PathwayVersion.objects.filter(pk=version.pk).values_list("content_hash", flat=True).first()
    key = (version.pk, content or "")
    snapshot = _snapshots.get(key)
    if snapshot is None:
        snapshot = snapshot_from_document(export_document(version), version_id=version.pk)
        with _lock:
            # An edited draft gets a new hash: forget its older snapshots so the cache stays small.
            for stale in [k for k in _snapshots if k[0] == version.pk]:
                del _snapshots[stale]
            _snapshots[key] = snapshot
    return snapshot


def clear_snapshot_cache() -> None:
    with _lock:
        _snapshots.clear()


def published_pathways() -> list[PathwayVersion]:
    return list(
        PathwayVersion.objects.filter(status=PathwayVersion.Status.PUBLISHED)
        .select_related("pathway")
        .order_by("title", "pathway__slug")
    )


def published_version(slug: str) -> PathwayVersion:
    version = (
        PathwayVersion.objects.filter(pathway__slug=slug, status=PathwayVersion.Status.PUBLISHED)
        .select_related("pathway")
        .first()
    )
    if version is None:
        raise Http404("No published pathway with this name.")
    return version


def walk_for(walk_id: uuid.UUID | str, slug: str | None = None) -> Walk:
    """The walk, with its version and pathway (one query), if it belongs to the pathway ``slug``."""
    try:
        key = walk_id if isinstance(walk_id, uuid.UUID) else uuid.UUID(str(walk_id))
    except ValueError:
        raise Http404("No such walk.") from None
    walk = walk_rows.read(key)
    if walk is None or (slug is not None and walk.version.pathway.slug != slug):
        raise Http404("No such walk.")
    return walk
