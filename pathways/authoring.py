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


_reports: OrderedDict[tuple[int, str], validation.Report] = OrderedDict()
_reports_lock = threading.Lock()
_REPORTS_KEPT = 32


def check_version(version: PathwayVersion) -> validation.Report:
    """The publish gate's report for a stored version, kept per version and content hash.

    A draft's hash token changes with every edit, so an edited draft is always checked afresh.
    """
    content = PathwayVersion.objects.filter(pk=version.pk).values_list("content_hash", flat=True).first()
    return _checked(version, content or "")


def _checked(version: PathwayVersion, content: str) -> validation.Report:
    key = (version.pk, content)
    with _reports_lock:
        report = _reports.get(key)
    if report is None or not content:
        report = validation.check_document(export_document(version))
        _keep(key, report)
    return report


def _keep(key: tuple[int, str], report: validation.Report) -> None:
    with _reports_lock:
        _reports[key] = report
        while len(_reports) > _REPORTS_KEPT:
            _reports.popitem(last=False)


@transaction.atomic
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
    # The gate enumerates every class of walk (seconds on a busy machine); the publish page has
    # just run it for this draft's content token, read here under the lock, so reuse that report.
    report = _checked(version, version.content_hash)
    document = export_document(version)
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
    # The same content under its published hash: the version page shown next needs no new check.
    _keep((version.pk, version.content_hash), report)
    return version


def start_preview(version: PathwayVersion) -> Walk:
    """A staff walk of any version (a draft, typically), marked as a preview."""
    return start_walk(version, preview=True)


@transaction.atomic
def delete_draft(version: PathwayVersion) -> None:
    require_draft(version)
    Walk.objects.filter(version=version, is_preview=True).delete()
    version.delete()
