"""Authoring writes: copy a version into a new draft, publish a draft through the gate, preview."""

from __future__ import annotations

import hashlib
import inspect
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import fhirpathpy
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from . import case_index, document, engine, graph, stale_text, validation
from .content_io import content_hash, export_document, import_document
from .fhir import check as fhir_check
from .fhir import export as fhir_export
from .fhir import expressions as fhir_expressions
from .fhir import response as fhir_response
from .models import GateReport, ImmutableVersionError, ParsedExpression, PathwayVersion, Walk
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
    document = export_document(version)
    report = check(document)
    stale = stale_text.unconfirmed(stale_texts(version, document), _confirmed(version))
    return replace(
        report, problems=[*report.problems, *(_problem(item, validation.WARNING) for item in stale)]
    )


# Texts that still state a moved threshold ---------------------------------------------------------


def base_of(version: PathwayVersion) -> PathwayVersion | None:
    """What a draft is compared with: the version it was copied from, else the published one."""
    if version.based_on_id:
        return PathwayVersion.objects.filter(pk=version.based_on_id).first()
    return (
        PathwayVersion.objects.filter(pathway=version.pathway_id, status=PathwayVersion.Status.PUBLISHED)
        .exclude(pk=version.pk)
        .first()
    )


_documents: OrderedDict[tuple[int, str], dict[str, Any]] = OrderedDict()


def document_of(version: PathwayVersion) -> dict[str, Any]:
    """The document of a published or retired version, kept by its content hash (it cannot change)."""
    if version.is_draft or not version.content_hash:
        return export_document(version)
    key = (version.pk, version.content_hash)
    with _reports_lock:
        document = _documents.get(key)
    if document is None:
        document = export_document(version)
        with _reports_lock:
            _documents[key] = document
            while len(_documents) > _REPORTS_KEPT:
                _documents.popitem(last=False)
    return document


def stale_texts(
    version: PathwayVersion, document: dict[str, Any] | None = None
) -> list[stale_text.StaleText]:
    """The texts of a draft that still state a threshold it moved (``document``: its export)."""
    base = base_of(version)
    if base is None:
        return []
    return stale_text.find(document_of(base), document or export_document(version))


def _confirmed(version: PathwayVersion) -> dict[str, Any]:
    return PathwayVersion.objects.filter(pk=version.pk).values_list("confirmed_texts", flat=True).get() or {}


def _problem(item: stale_text.StaleText, severity: str) -> validation.Problem:
    return validation.Problem(severity, stale_text.CODE, item.message(), item.node)


def confirm_texts(version: PathwayVersion, keys: Any, *, user: Any = None) -> int:
    """Record that the stale texts named by ``keys`` were read and are still correct; count them.

    Only keys of texts that are stale now are kept, so a key made up or of a text since changed
    confirms nothing. The version's revision is left alone: confirming is not an edit of content.
    """
    with transaction.atomic():
        version = PathwayVersion.objects.select_for_update().get(pk=version.pk)
        require_draft(version)
        wanted = set(keys or ())
        stale = [item for item in stale_texts(version) if item.key in wanted]
        if not stale:
            return 0
        confirmed = dict(version.confirmed_texts or {})
        when = timezone.now().isoformat(timespec="seconds")
        by = getattr(user, "get_username", lambda: "")()
        for item in stale:
            confirmed[item.key] = {"where": item.where, "stated": list(item.stated), "by": by, "at": when}
        PathwayVersion.objects.filter(pk=version.pk, status=PathwayVersion.Status.DRAFT).update(
            confirmed_texts=confirmed
        )
        return len(stale)


def _kept(key: str) -> validation.Report | None:
    """The report on the content hashed ``key``: kept by this process, else stored by any."""
    with _reports_lock:
        report = _reports.get(key)
        if report is not None:
            _reports.move_to_end(key)
            return report
    stored = GateReport.objects.filter(key=_stored_key(key)).first()
    if stored is None:
        return None
    report = validation.Report(
        problems=[validation.Problem(**problem) for problem in stored.problems],
        classes=stored.classes,
        seconds=stored.seconds,
    )
    _keep(key, report)
    return report


def _keep(key: str, report: validation.Report) -> None:
    with _reports_lock:
        _reports[key] = report
        while len(_reports) > _REPORTS_KEPT:
            _reports.popitem(last=False)


def _gate_fingerprint() -> str:
    """Names the gate's code: a stored report counts only for the code that made it."""
    digest = hashlib.sha256()
    for module in (
        validation,
        case_index,
        engine,
        document,
        graph,
        fhir_check,
        fhir_export,
        fhir_expressions,
        fhir_response,
    ):
        digest.update(Path(inspect.getfile(module)).read_bytes())
    return digest.hexdigest()[:16]


_FINGERPRINT = _gate_fingerprint()


def _stored_key(key: str) -> str:
    return f"{key}:{_FINGERPRINT}"


class _StoredTrees:
    """fhirpathpy's parse of each FHIRPath expression of an export, kept in the database.

    Only a cache: a tree is used when its expression and parser version match, and a database
    error (in its own savepoint, so a publish's transaction goes on) only means parsing again.
    """

    BATCH = 500  # expressions per query, below every backend's limit on parameters

    @staticmethod
    def key(expression: str) -> str:
        return hashlib.sha256(f"fhirpathpy {fhirpathpy.__version__}\n{expression}".encode()).hexdigest()

    def load(self, expressions: Sequence[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        try:
            with transaction.atomic():
                for start in range(0, len(expressions), self.BATCH):
                    wanted = {self.key(e): e for e in expressions[start : start + self.BATCH]}
                    for key, expression, tree in ParsedExpression.objects.filter(key__in=wanted).values_list(
                        "key", "expression", "tree"
                    ):
                        if wanted[key] == expression:
                            found[expression] = tree
        except DatabaseError:
            return {}
        return found

    def save(self, trees: Mapping[str, Any]) -> None:
        rows = [ParsedExpression(key=self.key(e), expression=e, tree=tree) for e, tree in trees.items()]
        try:
            with transaction.atomic():
                ParsedExpression.objects.bulk_create(rows, batch_size=self.BATCH, ignore_conflicts=True)
        except DatabaseError:
            pass


def check(document: dict[str, Any]) -> validation.Report:
    """The publish gate's report for ``document``.

    The gate reads the clinical content and, of the version block, only the change note; the
    content's part is kept by its hash (in this process and in the database, for every process), so
    a draft copied from a checked version, or a publish right after its publish page, reuses it
    instead of enumerating every class of walk again.
    """
    key = content_hash(document)
    report = _kept(key)
    if report is None:
        report = validation.check_document({**document, "version": {}}, _StoredTrees())
        _keep(key, report)
        GateReport.objects.bulk_create(
            [
                GateReport(
                    key=_stored_key(key),
                    problems=[
                        {"severity": p.severity, "code": p.code, "message": p.message, "node": p.node}
                        for p in report.problems
                    ],
                    classes=report.classes,
                    seconds=report.seconds,
                )
            ],
            ignore_conflicts=True,
        )
    return validation.with_change_note(report, (document.get("version") or {}).get("note"))


def purge_gate_cache(*, before: datetime | None = None, dry_run: bool = False) -> tuple[int, int]:
    """Delete what the gate keeps in the database and can no longer use, and, given ``before``,
    everything it kept before then; how many reports and parsed expressions that is (or would be,
    with ``dry_run``).

    A stored report counts only for the gate's code that made it, a stored parse only for the
    parser's version that made it. Both are caches: deleting one costs a check or a parse again,
    never a result.
    """
    unusable = ~Q(key__endswith=f":{_FINGERPRINT}")
    if before is not None:
        unusable |= Q(created_at__lt=before)
    reports = GateReport.objects.filter(unusable)
    rows = ParsedExpression.objects.values_list("pk", "key", "expression", "created_at")
    expressions = [
        pk
        for pk, key, expression, created_at in rows.iterator(chunk_size=_StoredTrees.BATCH)
        if key != _StoredTrees.key(expression) or (before is not None and created_at < before)
    ]
    if dry_run:
        return reports.count(), len(expressions)
    with transaction.atomic():
        deleted, _ = reports.delete()
        for start in range(0, len(expressions), _StoredTrees.BATCH):
            ParsedExpression.objects.filter(pk__in=expressions[start : start + _StoredTrees.BATCH]).delete()
    return deleted, len(expressions)


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
    stale = stale_text.unconfirmed(stale_texts(version, document), version.confirmed_texts)
    if stale:
        raise PublishRefused([_problem(item, validation.ERROR) for item in stale])
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
