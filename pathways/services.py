"""Writes: starting a walk and recording a step, each one atomic statement."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from . import engine, walk_rows
from .models import PathwayVersion, Walk


class StaleWalk(Exception):
    """The walk changed since the form was rendered (another tab, a replay or a double submit)."""


def start_walk(version: PathwayVersion, *, preview: bool = False) -> Walk:
    """Start a walk pinned to ``version``; it records the version's content hash at the start.

    Only a staff preview may walk a draft.
    """
    if version.status != PathwayVersion.Status.PUBLISHED and not preview:
        raise ValueError(f"{version} is not published.")
    return Walk.objects.create(
        version=version, answers={}, content_hash=version.content_hash, is_preview=preview
    )


def record_step(
    walk: Walk,
    snapshot: engine.Snapshot,
    *,
    given: dict[str, Any],
    forget: list[str],
    expected_revision: int,
) -> engine.Evaluation:
    """Apply one step's answers, re-route, drop answers no longer on the path, and save.

    The save is a single conditional UPDATE on the revision the form was rendered with, so a
    stale or replayed form changes nothing (optimistic concurrency, no lock held).
    """
    answers = {key: value for key, value in walk.answers.items() if key not in forget}
    answers.update(given)
    answers, result = engine.prune(snapshot, answers)
    now = timezone.now()
    saved = walk_rows.record(
        walk.pk,
        expected_revision=expected_revision,
        answers=answers,
        updated_at=now,
        completed_at=now if result.complete else None,
    )
    if not saved:
        raise StaleWalk
    walk.answers = answers
    walk.revision = expected_revision + 1
    walk.updated_at = now
    walk.completed_at = now if result.complete else None
    return result
