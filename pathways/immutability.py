"""What may change once a version is published: nothing but its retirement.

The rules in one place, for the models to call:

- content rows (``VersionContent``) are saved and deleted only while every version they belong to,
  as stored and as about to be stored, is a draft; each write gives those drafts a fresh content
  token, so a cached snapshot of a draft is never served stale;
- a published version may only be retired; a retired one never changes; neither is deleted, nor
  is content deleted with them by a cascade (a deleted pathway or node);
- a recommendation's steps and citations change only in a draft;
- a pathway's slug is fixed once one of its versions has been published or retired;
- ``draft_batch`` writes many rows of one draft with one check and one token refresh.

Each check locks the version rows it reads (inside the write's transaction), so a publish cannot
slip between the check and the write.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.db.models.signals import m2m_changed, pre_delete

DRAFT = "draft"
PUBLISHED = "published"
RETIRED = "retired"

# A published version may only be retired; nothing else about it changes.
RETIRING_FIELDS = frozenset({"status", "revision"})


class ImmutableVersionError(Exception):
    """A published or retired version (or its content) was about to change."""


def _versions() -> Any:
    return apps.get_model("pathways", "PathwayVersion").objects


def new_draft_token() -> str:
    """A content token for an edited draft; the real content hash is computed when it is published."""
    return f"draft:{uuid.uuid4().hex}"


def mark_draft_changed(version_id: int | None) -> None:
    """Give a draft a fresh content token so cached snapshots of it are never served stale.

    The real content hash is computed when the draft is imported or published.
    """
    if version_id is not None:
        _versions().filter(pk=version_id, status=DRAFT).update(content_hash=new_draft_token())


def refuse_unless_draft(version_ids: Iterable[int]) -> None:
    """Lock the versions (inside the caller's transaction) and refuse if any is not a draft."""
    locked = _versions().select_for_update().filter(pk__in=set(version_ids))
    version = next((v for v in locked if v.status != DRAFT), None)
    if version is not None:
        raise ImmutableVersionError(
            f"{version} is {version.status}: its content cannot change. Create a new draft from it."
        )


# Batches of writes to one draft ---------------------------------------------------------------

_batch = threading.local()


@contextmanager
def draft_batch(version_id: int) -> Iterator[None]:
    """Write many rows of one draft: check and lock it once, refresh its token once at the end."""
    with transaction.atomic():
        status = _versions().select_for_update().filter(pk=version_id).values_list("status", flat=True)
        if status.first() != DRAFT:
            raise ImmutableVersionError(f"Version {version_id} is not a draft: its content cannot change.")
        outer: frozenset[int] = getattr(_batch, "ids", frozenset())
        _batch.ids = outer | {version_id}
        try:
            yield
        finally:
            _batch.ids = outer
        mark_draft_changed(version_id)


def _in_batch(version_ids: set[int]) -> bool:
    return bool(version_ids) and version_ids <= getattr(_batch, "ids", frozenset())


# Content rows ---------------------------------------------------------------------------------


def parent_version_ids(row: Any) -> set[int]:
    """The version the row is about to belong to, through ``version_path`` as it stands in memory."""
    first, _, rest = row.version_path.partition("__")
    field = row._meta.get_field(first)
    parent_id = getattr(row, field.attname)
    if parent_id is None:
        return set()
    if not rest:
        return {parent_id}
    return set(field.related_model.objects.filter(pk=parent_id).values_list(f"{rest}__pk", flat=True))


def stored_version_ids(row: Any) -> set[int]:
    """The version the row belongs to as stored."""
    if row.pk is None:
        return set()
    return set(type(row).objects.filter(pk=row.pk).values_list(f"{row.version_path}__pk", flat=True))


@contextmanager
def saving_content(row: Any) -> Iterator[None]:
    """Around a content row's save: refuse unless its versions are drafts, then refresh them."""
    ids = parent_version_ids(row) | stored_version_ids(row)
    if _in_batch(ids):
        yield
        return
    with transaction.atomic():
        refuse_unless_draft(ids)
        yield
        for version_id in ids:
            mark_draft_changed(version_id)


@contextmanager
def deleting_content(row: Any) -> Iterator[None]:
    """Around a content row's delete: refuse unless its version is a draft, then refresh it."""
    with transaction.atomic():
        ids = stored_version_ids(row) or parent_version_ids(row)
        refuse_unless_draft(ids)
        yield
        for version_id in ids:
            mark_draft_changed(version_id)


# Versions -----------------------------------------------------------------------------------------


def check_version_save(version: Any) -> tuple[str, ...]:
    """Refuse any change to a published or retired version except its retirement.

    An edited draft's texts give it a fresh content token (the snapshot cache is keyed by it); the
    names of the fields this changed are returned, for ``update_fields``.
    """
    if version.pk is None:
        return ()
    stored = type(version).objects.filter(pk=version.pk).first()
    if stored is None:
        return ()
    if stored.status != DRAFT:
        _refuse_change_of_locked(version, stored)
    elif version.status == DRAFT and any(
        getattr(version, name) != getattr(stored, name) for name in version.TEXT_FIELDS
    ):
        version.content_hash = new_draft_token()
        return ("content_hash",)
    return ()


def _refuse_change_of_locked(version: Any, stored: Any) -> None:
    changed = {
        field.attname
        for field in version._meta.concrete_fields
        if getattr(version, field.attname) != getattr(stored, field.attname)
    } - RETIRING_FIELDS
    retiring = stored.status == PUBLISHED and version.status in (PUBLISHED, RETIRED)
    if changed or (version.status != stored.status and not retiring):
        raise ImmutableVersionError(f"{stored} is {stored.status}: it cannot change except by being retired.")


def refuse_deleting_version(version: Any) -> None:
    stored = type(version).objects.filter(pk=version.pk).values_list("status", flat=True).first()
    if stored not in (None, DRAFT):
        raise ImmutableVersionError(f"{version} is {stored}: it cannot be deleted.")


# Pathways -------------------------------------------------------------------------------------------


def slug_change_refusal(pathway: Any) -> str:
    """Why the pathway's slug may not change as it stands in memory ("" when it may)."""
    if pathway.pk is None:
        return ""
    stored = type(pathway).objects.filter(pk=pathway.pk).values_list("slug", flat=True).first()
    if stored is None or stored == pathway.slug or not pathway.slug_is_fixed:
        return ""
    return (
        f"The slug of the pathway “{stored}” cannot change: it has a published or retired "
        "version, and walk links and the API use its slug."
    )


# Cascades and links ---------------------------------------------------------------------------------


def _refuse_cascade_into_content(sender: type, instance: Any, **kwargs: Any) -> None:
    """Deleting a parent (a pathway, a node) must not cascade into a published version's content."""
    refuse_unless_draft(stored_version_ids(instance))


def _refuse_cascade_into_version(sender: type, instance: Any, **kwargs: Any) -> None:
    if instance.status != DRAFT:
        raise ImmutableVersionError(f"{instance} is {instance.status}: it cannot be deleted.")


def _refuse_link_change(sender: type, instance: Any, action: str, **kwargs: Any) -> None:
    if _in_batch({instance.version_id}):
        return
    if action.startswith("pre_"):
        refuse_unless_draft({instance.version_id})
    elif action.startswith("post_"):
        mark_draft_changed(instance.version_id)


def guard(
    *, version: type[models.Model], content: Iterable[type[models.Model]], links: Iterable[Any]
) -> None:
    """Guard cascading deletes of the version model and the content models, and the ``links``
    (many-to-many ``through`` models of content rows with a ``version_id``)."""
    pre_delete.connect(_refuse_cascade_into_version, sender=version, dispatch_uid="immutable-version")
    for model in content:
        pre_delete.connect(
            _refuse_cascade_into_content, sender=model, dispatch_uid=f"immutable-{model._meta.label}"
        )
    for through in links:
        m2m_changed.connect(
            _refuse_link_change, sender=through, dispatch_uid=f"immutable-{through._meta.label}"
        )
