"""Authoring writes: copy a version into a new draft, publish a draft through the gate, preview."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from django.db import transaction
from django.utils import timezone

from . import validation
from .content_io import content_hash, export_document, import_document
from .models import ImmutableVersionError, PathwayVersion, Walk
from .services import start_walk


class PublishRefused(Exception):
    """The draft cannot be published; ``problems`` says why (the gate fails closed)."""

    def __init__(self, problems: list[validation.Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:5]))


def require_draft(version: PathwayVersion) -> None:
    status = PathwayVersion.objects.filter(pk=version.pk).values_list("status", flat=True).first()
    if status != PathwayVersion.Status.DRAFT:
        raise ImmutableVersionError(f"{version} is {status}: only a draft can change.")


_reports: OrderedDict[str, validation.Report] = OrderedDict()
_reports_lock = threading.Lock()
_REPORTS_KEPT = 32


def check_version(version: PathwayVersion) -> validation.Report:
    """The publish gate's report for a stored version's current content.

    A published or retired version's stored hash is its content's, so a kept report is found
    without exporting it; a draft holds an edit token there instead, so it is exported and hashed.
    """
    status, digest, note = (
        PathwayVersion.objects.filter(pk=version.pk).values_list("status", "content_hash", "note").get()
    )
    if status != PathwayVersion.Status.DRAFT and digest:
        report = _kept(digest)
        if report is not None:
            return validation.with_change_note(report, note)
    return check(export_document(version))


def _kept(key: str) -> validation.Report | None:
    with _reports_lock:
        report = _reports.get(key)
        if report is not None:
            _reports.move_to_end(key)
        return report


def check(document: dict[str, Any]) -> validation.Report:
    """The publish gate's report for ``document``.

    The gate reads the clinical content and, of the version block, only the change note; the
    content's part is kept by its hash, so a draft copied from a checked version, or a publish right
    after its publish page, reuses it instead of enumerating every class of walk again.
    """
    key = content_hash(document)
    report = _kept(key)
    if report is None:
        report = validation.check_document({**document, "version": {}})
        with _reports_lock:
            _reports[key] = report
            while len(_reports) > _REPORTS_KEPT:
                _reports.popitem(last=False)
    return validation.with_change_note(report, (document.get("version") or {}).get("note"))


def new_draft(version: PathwayVersion) -> PathwayVersion:
    """Deep-copy ``version`` (any status) into a new draft of the same pathway."""
    document = export_document(version)
    document["version"] = {"note": f"Draft from version {version.number}."}
    draft = import_document(document, status="draft", based_on=version)
    draft.refresh_from_db()
    return draft


@transaction.atomic
def publish(version: PathwayVersion, *, note: str, user: Any = None) -> PathwayVersion:
    """Validate the draft, retire the published version, publish the draft, record the change note.

    Everything happens under a lock on the draft's row, which every content write also takes, so
    no edit slips between the validation and the publication.
    """
    version = PathwayVersion.objects.select_for_update().select_related("pathway").get(pk=version.pk)
    if version.status != PathwayVersion.Status.DRAFT:
        raise PublishRefused(
            [validation.Problem(validation.ERROR, "not-a-draft", f"{version} is {version.status}.")]
        )
    if not note.strip():
        raise PublishRefused(
            [validation.Problem(validation.ERROR, "no-change-note", "Say what changed in a change note.")]
        )
    # Read under the lock; the gate's report for this very content is usually kept from the
    # publish page just shown.
    document = export_document(version)
    report = check(document)
    if report.errors:
        raise PublishRefused(report.errors)
    for previous in PathwayVersion.objects.select_for_update().filter(
        pathway=version.pathway_id, status=PathwayVersion.Status.PUBLISHED
    ):
        previous.status = PathwayVersion.Status.RETIRED
        previous._change_reason = f"Retired by version {version.number}: {note.strip()}"
        previous.save()
    version.status = PathwayVersion.Status.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = user if getattr(user, "pk", None) else None
    version.note = note.strip()
    version.content_hash = content_hash(document)
    version._change_reason = note.strip()
    version.save()
    return version


def start_preview(version: PathwayVersion) -> Walk:
    """A staff walk of any version (a draft, typically), marked as a preview."""
    return start_walk(version, preview=True)


@transaction.atomic
def delete_draft(version: PathwayVersion) -> None:
    require_draft(version)
    Walk.objects.filter(version=version, is_preview=True).delete()
    version.delete()
