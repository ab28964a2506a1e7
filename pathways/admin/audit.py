"""A version's audit trail in clinical words: a draft copy is one entry, each edit says what changed
in the terms an editor used ("Changed rule “Tumour size over 2 cm → …” to “Tumour size over 2.5 cm”"),
with who and when."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import models

from .. import engine
from ..models import (
    Edge,
    EdgeCondition,
    GuidanceNote,
    GuidanceNoteCondition,
    Node,
    NodeField,
    PathwayTestCase,
    PathwayVersion,
    Recommendation,
    RecommendationCondition,
    Reference,
    SafetyRule,
    SafetyRuleCondition,
    Variable,
)
from .wording import condition_words, variables_of

LIMIT = 500
# The rows a draft copy (or an import) writes go in within one transaction, moments after the version.
COPY_WINDOW = timedelta(seconds=60)

CONTENT = (Variable, Node, Edge, Reference, Recommendation, SafetyRule, PathwayTestCase, GuidanceNote)
CHILDREN: tuple[tuple[type[models.Model], str], ...] = (
    (NodeField, "node"),
    (EdgeCondition, "edge"),
    (RecommendationCondition, "recommendation"),
    (SafetyRuleCondition, "rule"),
    (GuidanceNoteCondition, "note"),
)
CONDITIONS = (EdgeCondition, RecommendationCondition, SafetyRuleCondition, GuidanceNoteCondition)
IGNORED_FIELDS = {"revision", "content_hash", "edit_revision"}


@dataclass(frozen=True)
class Entry:
    when: datetime
    who: Any
    what: str
    note: str = ""


def history_rows(version: PathwayVersion) -> list[Any]:
    """Every history row of the version and its content (one query per kind of row)."""
    rows: list[Any] = list(PathwayVersion.history.filter(id=version.pk).select_related("history_user"))
    for model in CONTENT:
        rows += list(model.history.filter(version_id=version.pk).select_related("history_user"))  # type: ignore[attr-defined]
    for child, parent in CHILDREN:
        parent_model = child._meta.get_field(parent).related_model
        assert isinstance(parent_model, type) and issubclass(parent_model, models.Model)
        ids = parent_model._default_manager.filter(version=version).values("pk")
        rows += list(
            child.history.filter(**{f"{parent}_id__in": ids}).select_related("history_user")  # type: ignore[attr-defined]
        )
    rows.sort(key=lambda row: (row.history_date, row.history_id))
    return rows


def audit_entries(version: PathwayVersion, *, person: int | None = None) -> list[Entry]:
    """The version's trail, newest first: the copy as one entry, then each edit in clinical words."""
    rows = history_rows(version)
    words = _Words(version)
    entries: list[Entry] = []
    previous: dict[tuple[type, int], Any] = {}
    created = next(
        (r for r in rows if isinstance(r.instance, PathwayVersion) and r.history_type == "+"), None
    )
    copied: list[Any] = []
    for row in rows:
        model = type(row.instance)
        key = (model, row.id)
        before = previous.get(key)
        previous[key] = row
        if created is not None and _in_copy(row, created):
            copied.append(row)
            continue
        what = words.describe(row, before)
        if what:
            entries.append(Entry(row.history_date, row.history_user, what, row.history_change_reason or ""))
    if created is not None:
        entries.append(
            Entry(created.history_date, created.history_user, _copy_text(version, len(copied) - 1))
        )
    if person is not None:
        entries = [entry for entry in entries if getattr(entry.who, "pk", None) == person]
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return entries[:LIMIT]


def _in_copy(row: Any, created: Any) -> bool:
    return (
        row.history_type == "+"
        and created.history_date <= row.history_date <= created.history_date + COPY_WINDOW
    )


def _copy_text(version: PathwayVersion, rows: int) -> str:
    if version.based_on_id is not None:
        source = (
            PathwayVersion.objects.filter(pk=version.based_on_id).values_list("number", flat=True).first()
        )
        return f"Draft copied from version {source} ({rows} rows of content)"
    return f"Version {version.number} imported ({rows} rows of content)"


class _Words:
    """What a history row did, in the words of the version's content (a few queries, once)."""

    def __init__(self, version: PathwayVersion) -> None:
        self.variables: Mapping[int, engine.Variable] = variables_of(version.pk)
        self.edges = {
            edge.pk: edge for edge in Edge.objects.filter(version=version).select_related("source", "target")
        }
        self.parents: dict[type, dict[int, str]] = {
            RecommendationCondition: dict(
                Recommendation.objects.filter(version=version).values_list("pk", "title")
            ),
            SafetyRuleCondition: dict(SafetyRule.objects.filter(version=version).values_list("pk", "name")),
            GuidanceNoteCondition: dict(
                GuidanceNote.objects.filter(version=version).values_list("pk", "code")
            ),
        }
        self.nodes = dict(Node.objects.filter(version=version).values_list("pk", "title"))

    def describe(self, row: Any, before: Any) -> str:
        model = type(row.instance)
        if model in CONDITIONS:
            return self._condition(row, before)
        name = self._name(before if row.history_type == "~" and before is not None else row)
        if model is PathwayVersion:
            return self._version(row, before)
        if row.history_type == "+":
            return f"Added {name}"
        if row.history_type == "-":
            return f"Deleted {name}"
        fields = _changed_fields(row, before)
        if not fields:
            return ""
        return f"Changed {name}: {', '.join(fields)}"

    def _name(self, row: Any) -> str:
        model = type(row.instance)
        if model is Node:
            return f"step “{row.title}”"
        if model is Variable:
            return f"question “{row.label}”"
        if model is Recommendation:
            return f"recommendation “{row.title}”"
        if model is Reference:
            return f"reference [{row.label}]"
        if model is SafetyRule:
            return f"safety rule “{row.name}”"
        if model is PathwayTestCase:
            return f"test case “{row.name}”"
        if model is GuidanceNote:
            return f"newer-guidance note {row.code}"
        if model is NodeField:
            variable = self.variables.get(row.variable_id)
            label = variable.label if variable else "a question"
            return f"question “{label}” on step “{self.nodes.get(row.node_id, '?')}”"
        if model is Edge:
            edge = self.edges.get(row.id)
            target = edge.target.title if edge else self.nodes.get(row.target_id, "?")
            return f"rule to “{target}” after “{self.nodes.get(row.source_id, '?')}”"
        return f"{row.instance._meta.verbose_name} #{row.id}"

    def _version(self, row: Any, before: Any) -> str:
        if row.history_type == "+":
            return ""
        if before is not None and before.status != row.status:
            return f"Version {row.number} {row.status}"
        fields = _changed_fields(row, before)
        return f"Changed the version's {', '.join(fields)}" if fields else ""

    def _condition(self, row: Any, before: Any) -> str:
        variable = self.variables.get(row.variable_id)
        now = condition_words(variable, row.op, row.value)
        if isinstance(row.instance, EdgeCondition):
            edge = self.edges.get(row.edge_id)
            target = edge.target.title if edge else "?"
            if row.history_type == "~" and before is not None:
                was = condition_words(self.variables.get(before.variable_id), before.op, before.value)
                if was == now:
                    return ""
                return f"Changed rule “{was} → {target}” to “{now}”"
            done = "Added" if row.history_type == "+" else "Removed"
            return f"{done} condition “{now}” of the rule to “{target}”"
        parent_id = getattr(row, f"{_parent_name(row)}_id")
        parent = self.parents.get(type(row.instance), {}).get(parent_id, "?")
        if row.history_type == "~" and before is not None:
            was = condition_words(self.variables.get(before.variable_id), before.op, before.value)
            return "" if was == now else f"Changed a condition of “{parent}”: “{was}” to “{now}”"
        done = "Added" if row.history_type == "+" else "Removed"
        return f"{done} condition “{now}” of “{parent}”"


def _parent_name(row: Any) -> str:
    return dict(CHILDREN)[type(row.instance)]


def _changed_fields(row: Any, before: Any) -> list[str]:
    if before is None:
        return []
    opts = type(row.instance)._meta
    names = []
    for field in opts.concrete_fields:
        if field.name in IGNORED_FIELDS or field.primary_key:
            continue
        if getattr(row, field.attname, None) != getattr(before, field.attname, None):
            names.append(str(field.verbose_name))
    return names
