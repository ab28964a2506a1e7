"""Turn an engine evaluation into what the templates display. No routing happens here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from . import engine, flowchart
from .messages import translated
from .models import Node, Recommendation

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

SECTION_LABELS = dict(Recommendation.Section.choices)
# Cautions first, then the management itself; the workup and imaging already done come last.
SECTION_ORDER = [
    "caution",
    "surgery",
    "preoperative",
    "systemic",
    "locoregional",
    "surveillance",
    "special",
    "followup",
    "general",
    "workup",
    "imaging",
]
assert set(SECTION_ORDER) == set(SECTION_LABELS), "every section needs a place in SECTION_ORDER"
STAGE_LABELS = dict(Node.Stage.choices)
# The sections whose recommendations are the plan itself (the rest prepare, support or follow it).
PLAN_SECTIONS = ("surgery", "systemic", "locoregional", "surveillance")


def plan(snapshot: engine.Snapshot, result: engine.Evaluation) -> str:
    """The plan in one sentence: the titles of the walk's management recommendations, in order
    (the outcome's title when it has none)."""
    titles = [rec.title for rec in result.recommendations if rec.section in PLAN_SECTIONS]
    if not titles:
        return snapshot.nodes[result.outcome].title if result.outcome else ""
    sentence = "; ".join([titles[0], *(_lower_first(title) for title in titles[1:])])
    return sentence if sentence.endswith(".") else f"{sentence}."


def _lower_first(title: str) -> str:
    # "Everolimus or sunitinib" reads on after a semicolon; "SSTR imaging" or "PRRT" keeps its capitals.
    if len(title) > 1 and title[0].isupper() and title[1].islower():
        return title[0].lower() + title[1:]
    return title


def what_changed(
    snapshot: engine.Snapshot,
    before: engine.Evaluation,
    after: engine.Evaluation,
    old_answers: dict[str, Any],
    new_answers: dict[str, Any],
) -> str:
    """One paragraph saying what changing an earlier answer did: the outcome before and after,
    and the answers dropped from the path ("" when no earlier answer changed)."""
    # In the order the earlier walk asked them (a stored walk's keys come back in any order).
    order = {key: index for index, key in enumerate(before.asked)}
    keys = sorted(old_answers, key=lambda key: (order.get(key, len(order)), key))
    changed = [key for key in keys if key in new_answers and new_answers[key] != old_answers[key]]
    dropped = [key for key in keys if key not in new_answers]
    if not changed and not dropped:
        return ""
    parts = []
    for key in changed:
        variable = snapshot.variables[key]
        parts.append(
            _("%(label)s changed from %(old)s to %(new)s.")
            % {
                "label": variable.label,
                "old": translated(variable.display(old_answers[key])),
                "new": translated(variable.display(new_answers[key])),
            }
        )
    was = snapshot.nodes[before.outcome].title if before.outcome else _("not reached yet")
    if after.outcome:
        now = snapshot.nodes[after.outcome].title
    else:
        now = _("not reached yet: the walk goes on at “%(step)s”") % {
            "step": snapshot.nodes[after.current].title if after.current else ""
        }
    if before.outcome and before.outcome == after.outcome:
        parts.append(_("Outcome unchanged: %(outcome)s.") % {"outcome": was})
    else:
        parts.append(_("Outcome before: %(before)s. Now: %(after)s.") % {"before": was, "after": now})
    if dropped:
        variables = snapshot.variables
        shown = "; ".join(
            f"{variables[key].label} ({translated(variables[key].display(old_answers[key]))})"
            for key in dropped
            if key in variables
        )
        parts.append(_("Answers dropped, no longer on the path: %(answers)s.") % {"answers": shown})
    return " ".join(parts)


@dataclass(frozen=True)
class KeyInput:
    key: str
    label: str
    value: str


def key_inputs(snapshot: engine.Snapshot, result: engine.Evaluation) -> list[KeyInput]:
    """The answers that decided the walk's route, with units: each variable an edge out of a step on
    the path tests (the taken edge may be the "otherwise" one), once, in path order."""
    shown: dict[str, KeyInput] = {}
    answers = result.answers
    for decision in result.trace:
        for edge in snapshot.nodes[decision.node].edges:
            for condition in edge.conditions:
                key = condition.variable
                if key not in shown and key in answers:
                    variable = snapshot.variables[key]
                    shown[key] = KeyInput(key, variable.label, translated(variable.display(answers[key])))
    return list(shown.values())


@dataclass(frozen=True)
class TrailItem:
    key: str
    label: str
    value: str
    node: str
    url: str
    optional: bool


@dataclass(frozen=True)
class TraceStep:
    node_title: str
    reasons: tuple[str, ...]
    target_title: str
    note: str


@dataclass(frozen=True)
class RecView:
    code: str
    section: str
    title: str
    text: str
    note: str
    citations: tuple[engine.Reference, ...]
    # Why it was given: the decisions on the path before the step that gave it, that step,
    # and the recommendation's own conditions with the answers.
    decisions: tuple[TraceStep, ...] = ()
    given_at: str = ""
    conditions: tuple[str, ...] = ()

    @property
    def caution(self) -> bool:
        return self.section == "caution"


@dataclass(frozen=True)
class NoteView:
    code: str
    text: str
    source: str
    url: str  # https only, else empty: a draft's note is shown before the publish gate checks it
    checked_on: date | None


def newer_guidance(
    snapshot: engine.Snapshot, result: engine.Evaluation, answers: dict[str, Any]
) -> list[NoteView]:
    return [
        NoteView(
            code=note.code,
            text=note.text,
            source=note.source,
            url=note.source_url if note.source_url.startswith("https://") else "",
            checked_on=note.checked_on,
        )
        for note in engine.newer_guidance(snapshot, result, answers)
    ]


def step_url(slug: str, walk_id: Any, node_slug: str) -> str:
    return reverse("pathways:walk_step", kwargs={"slug": slug, "walk_id": walk_id, "node": node_slug})


def trail(
    snapshot: engine.Snapshot, result: engine.Evaluation, answers: dict[str, Any], slug: str, walk_id: Any
) -> list[TrailItem]:
    items = []
    listed: set[str] = set()
    for node_slug in result.path:
        node = snapshot.nodes[node_slug]
        for key in node.fields:
            # A variable asked again later on the path (e.g. SSTR status) is answered once.
            if key not in answers or key in listed:
                continue
            listed.add(key)
            variable = snapshot.variables[key]
            items.append(
                TrailItem(
                    key=key,
                    label=variable.label,
                    value=translated(variable.display(answers[key])),
                    node=node_slug,
                    url=step_url(slug, walk_id, node_slug),
                    optional=variable.optional,
                )
            )
    return items


def rec_views(
    snapshot: engine.Snapshot,
    recs: tuple[engine.Recommendation, ...],
    result: engine.Evaluation | None = None,
) -> list[RecView]:
    """The recommendations to show; with ``result``, each says why the engine gave it."""
    views = []
    for rec in recs:
        why = result.why.get(rec.code) if result is not None else None
        views.append(
            RecView(
                code=rec.code,
                section=rec.section,
                title=rec.title,
                text=rec.text,
                note=rec.note,
                citations=tuple(
                    snapshot.references[label] for label in rec.citations if label in snapshot.references
                ),
                decisions=tuple(_trace_steps(snapshot, why.decisions)) if why else (),
                given_at=snapshot.nodes[why.node].title if why else "",
                conditions=tuple(_reason(snapshot, f.condition, f.value) for f in why.fired) if why else (),
            )
        )
    return views


def _reason(snapshot: engine.Snapshot, condition: engine.Condition, value: Any) -> str:
    described = condition.describe(snapshot.variables)
    variable = snapshot.variables.get(condition.variable)
    if value is None or variable is None:
        return described
    if condition.op == "eq" and condition.value == value:
        return described  # "Disease extent = Metastatic" already says the answer
    return _("%(condition)s (answer: %(answer)s)") % {
        "condition": described,
        "answer": translated(variable.display(value)),
    }


def grouped(
    recs: list[RecView], *, include_cautions: bool = True
) -> list[tuple[StrOrPromise, list[RecView]]]:
    groups: dict[str, list[RecView]] = {}
    for rec in recs:
        if rec.section == "caution" and not include_cautions:
            continue
        groups.setdefault(rec.section, []).append(rec)
    return [
        (SECTION_LABELS.get(section, section), groups[section])
        for section in SECTION_ORDER
        if section in groups
    ]


def trace_steps(snapshot: engine.Snapshot, result: engine.Evaluation) -> list[TraceStep]:
    """The decisions of the walk; steps that lead on unconditionally decide nothing and are left out."""
    return _trace_steps(snapshot, result.trace)


def _trace_steps(snapshot: engine.Snapshot, decisions: tuple[engine.Decision, ...]) -> list[TraceStep]:
    steps = []
    for decision in decisions:
        if not decision.fired:
            continue
        reasons = tuple(_reason(snapshot, fired.condition, fired.value) for fired in decision.fired)
        steps.append(
            TraceStep(
                node_title=snapshot.nodes[decision.node].title,
                reasons=reasons,
                target_title=snapshot.nodes[decision.edge.target].title,
                note=decision.edge.note,
            )
        )
    return steps


def stages(snapshot: engine.Snapshot, result: engine.Evaluation, showing: str | None) -> list[dict[str, Any]]:
    """Progress through the four stages: done, current, skipped or to come."""
    visited = [snapshot.nodes[slug].stage for slug in result.path]
    current_stage = snapshot.nodes[showing].stage if showing else "management"
    order = list(engine.STAGES)
    current_index = order.index(current_stage)
    items = []
    for index, stage in enumerate(order):
        if result.complete or index < current_index:
            state = "done" if stage in visited else "skipped"
        elif index == current_index:
            state = "current"
        else:
            state = "upcoming"
        items.append({"key": stage, "label": STAGE_LABELS[stage], "state": state})
    return items


def interpretation_notes(snapshot: engine.Snapshot, result: engine.Evaluation) -> list[str]:
    notes: list[str] = []
    for decision in result.trace:
        if decision.edge.note and decision.edge.note not in notes:
            notes.append(decision.edge.note)
    return notes


def walk_flowchart(
    snapshot: engine.Snapshot,
    result: engine.Evaluation,
    answers: dict[str, Any],
    slug: str,
    walk_id: Any,
    showing: str | None,
) -> SafeString:
    """The pathway's flowchart with this walk's path; walked questions link to their step."""
    return flowchart.render(
        snapshot,
        evaluation=result,
        answers=answers,
        current=showing,
        node_href=lambda node: step_url(slug, walk_id, node),
    )


def cited_references(snapshot: engine.Snapshot, recs: list[RecView]) -> list[engine.Reference]:
    """The references cited by ``recs``, in the pathway's order (the report's footnotes)."""
    cited = {ref.label for rec in recs for ref in rec.citations}
    return [ref for label, ref in snapshot.references.items() if label in cited]


def report_text(
    *,
    snapshot: engine.Snapshot,
    result: engine.Evaluation,
    trail_items: list[TrailItem],
    recs: list[RecView],
    trace: list[TraceStep],
    version: Any,
    changed_at: datetime,
    walk_url: str,
    newer: Sequence[NoteView] = (),
) -> str:
    """A plain-text summary of a complete walk, to paste into a clinical note."""
    outcome = snapshot.nodes[result.outcome].title if result.outcome else ""
    if version.published_at:
        published = date_format(localtime(version.published_at), "j F Y")
        version_label = _("Pathway version %(number)s, published %(date)s") % {
            "number": version.number,
            "date": published,
        }
    else:
        version_label = _("Pathway version %(number)s (not published)") % {"number": version.number}
    changed = date_format(localtime(changed_at), "j F Y, H:i e")
    lines = [
        snapshot.title or snapshot.pathway,
        version_label,
        _("Walk: %(url)s (last changed %(date)s)") % {"url": walk_url, "date": changed},
        "",
        _("Inputs:"),
    ]
    lines += [f"- {item.label}: {item.value}" for item in trail_items]
    lines += ["", _("Plan: %(plan)s") % {"plan": plan(snapshot, result)}]
    lines += [_("Management: %(outcome)s") % {"outcome": outcome}]
    cautions = [rec for rec in recs if rec.caution]
    if cautions:
        lines += ["", _("CAUTIONS:")]
        lines += [f"- {_cited(rec)}" for rec in cautions]
    for label, group in grouped(recs, include_cautions=False):
        lines += ["", f"{label}:"]
        lines += [f"- {_cited(rec)}" for rec in group]
    if trace:
        lines += ["", _("Why (decisions on this path):")]
        for number, step in enumerate(trace, start=1):
            reasons = "; ".join(step.reasons) or _("always")
            lines.append(f"{number}. {step.node_title}: {reasons} -> {step.target_title}")
    if newer:
        lines += ["", _("Newer guidance differs from the source here:")]
        lines += [f"- {_note_line(note)}" for note in newer]
    references = cited_references(snapshot, recs)
    if references:
        lines += ["", _("References:")]
        lines += [f"[{ref.label}] {ref.citation}" for ref in references]
    lines += [
        "",
        _("Decision support only; it does not replace clinical judgement or multidisciplinary review."),
    ]
    return "\n".join(lines)


def _cited(rec: RecView) -> str:
    labels = "".join(f"[{ref.label}]" for ref in rec.citations)
    text = " ".join(rec.text.split())
    return " ".join(part for part in (f"{rec.title}:" if text else rec.title, text, labels) if part)


def _note_line(note: NoteView) -> str:
    source = f"{note.source} {note.url}" if note.url else note.source
    checked = (
        _("checked %(date)s") % {"date": date_format(note.checked_on, "j F Y")} if note.checked_on else ""
    )
    return " ".join(f"{note.text} ({'; '.join(p for p in (source, checked) if p)})".split())
