"""The step's two statements (``pathways.walk_rows``) do what the ORM's own would do."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pathways import services, walk_rows
from pathways.models import PathwayVersion, Walk

pytestmark = pytest.mark.django_db


def fields(instance: Any) -> dict[str, Any]:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def orm_read(walk_id: uuid.UUID) -> Walk:
    return Walk.objects.select_related("version__pathway").get(pk=walk_id)


@pytest.mark.parametrize("complete", [False, True])
def test_the_read_gives_the_walk_its_version_and_pathway_as_the_orm_does(
    pnet_version: PathwayVersion, complete: bool
) -> None:
    walk = services.start_walk(pnet_version)
    answers = {"functional_status": "nonfunctioning", "tumor_size_cm": 1.5, "mets": False, "note": "<b>ü</b>"}
    Walk.objects.filter(pk=walk.pk).update(
        answers=answers, revision=3, completed_at=timezone.now() if complete else None
    )
    with CaptureQueriesContext(connection) as queries:
        read = walk_rows.read(walk.pk)
    assert len(queries) == 1  # counted as the ORM's queries are
    expected = orm_read(walk.pk)
    assert read is not None
    assert fields(read) == fields(expected)
    assert read.answers == answers and type(read.answers["tumor_size_cm"]) is float
    assert fields(read.version) == fields(expected.version)
    assert fields(read.version.pathway) == fields(expected.version.pathway)
    assert read.completed_at is None if not complete else read.completed_at.tzinfo is not None
    # Instances as the ORM makes them: loaded from this database, not new, related objects cached.
    for instance in (read, read.version, read.version.pathway):
        assert instance._state.adding is False and instance._state.db == "default"
    with CaptureQueriesContext(connection) as queries:
        assert read.version.pathway.slug == "pnet"
    assert len(queries) == 0


def test_the_read_of_an_unknown_walk_is_none(pnet_version: PathwayVersion) -> None:
    assert walk_rows.read(uuid.uuid4()) is None


def test_the_record_saves_at_the_expected_revision_only(pnet_version: PathwayVersion) -> None:
    walk = services.start_walk(pnet_version)
    now = timezone.now()
    answers = {"functional_status": "functioning", "ki67_percent": 2.5}
    stale = walk_rows.record(walk.pk, expected_revision=1, answers=answers, updated_at=now, completed_at=None)
    assert not stale
    assert fields(orm_read(walk.pk)) == fields(walk)  # a stale revision changes nothing
    later = now + timedelta(seconds=5)
    saved_now = walk_rows.record(
        walk.pk, expected_revision=0, answers=answers, updated_at=later, completed_at=later
    )
    assert saved_now
    saved = orm_read(walk.pk)
    assert (saved.answers, saved.revision, saved.updated_at, saved.completed_at) == (answers, 1, later, later)
    assert not walk_rows.record(walk.pk, expected_revision=0, answers={}, updated_at=now, completed_at=None)
    assert orm_read(walk.pk).answers == answers


def test_each_read_gets_its_own_version_and_pathway_and_sees_their_rows_change(
    pnet_version: PathwayVersion,
) -> None:
    walk = services.start_walk(pnet_version)
    first, second = walk_rows.read(walk.pk), walk_rows.read(walk.pk)
    assert first is not None and second is not None
    assert first.version is not second.version
    assert first.version.pathway is not second.version.pathway
    assert first.version._state is not second.version._state
    assert fields(first.version) == fields(second.version) == fields(orm_read(walk.pk).version)
    # A value that can change in place is each read's own.
    assert first.version.confirmed_texts == second.version.confirmed_texts
    assert first.version.confirmed_texts is not second.version.confirmed_texts
    first.version.confirmed_texts["changed"] = "in place"
    first.version.title = "Changed on one instance"
    third = walk_rows.read(walk.pk)
    assert third is not None
    assert fields(third.version) == fields(orm_read(walk.pk).version)
    # A changed row is read as it is now.
    PathwayVersion.objects.filter(pk=pnet_version.pk).update(note="Changed in the database")
    type(pnet_version.pathway).objects.filter(pk=pnet_version.pathway_id).update(revision=41)
    fourth = walk_rows.read(walk.pk)
    assert fourth is not None
    assert fourth.version.note == "Changed in the database"
    assert fourth.version.pathway.revision == 41
    assert fields(fourth.version) == fields(orm_read(walk.pk).version)
