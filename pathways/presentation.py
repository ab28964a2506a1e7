"""Turn an engine evaluation into what the templates display. No routing happens here."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.timezone import localtime

from . import engine, flowchart
from .messages import gettext as _
from .messages import translated
from .models import Node, Recommendation

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

YEAR = re.compile(r"\b(?:19|20)\d\d\b")
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
# The workup and imaging done along the way: the result folds these sections' recommendations under
# one heading after the management (every complete walk gets chromogranin A, CT/MRI, EUS and SSTR
# PET; a functioning tumour adds its hormone panel). Cautions and the rest stay in full.
FOLDED_SECTIONS = ("workup", "imaging")


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


_NODE_SLUG = re.compile(r"[-a-zA-Z0-9_]+")
# Stands for a walk's id and a node's slug in a URL reversed once per pathway.
_ANY_WALK = uuid.UUID(int=0)
_ANY_NODE = "-"


def walk_url(name: str, slug: str, walk_id: Any) -> str:
    """``reverse(name)`` of a walk's URL (``walk_detail``, ``walk_flowchart``): reversed once per
    pathway, with the walk's id put in."""
    around = _around_walk(name, slug, *_reversing())
    if around is None or not isinstance(walk_id, uuid.UUID):
        return reverse(name, kwargs={"slug": slug, "walk_id": walk_id})
    return f"{around[0]}{walk_id}{around[1]}"


def step_urls(slug: str, walk_id: Any) -> StepUrls:
    """:func:`step_url` for one walk: the URL is reversed once per pathway, the walk's id put in
    and each node's slug appended.

    A walk's id (a UUID) and a node slug match the URL's converters as they are, so putting them
    in is what ``reverse`` would give; anything else goes through ``reverse``.
    """
    around = _around_walk("pathways:walk_step", slug, *_reversing(), node=_ANY_NODE)
    ending = f"/{_ANY_NODE}/"
    if around is None or not isinstance(walk_id, uuid.UUID) or not around[1].endswith(ending):
        return StepUrls(slug, walk_id, None)
    return StepUrls(slug, walk_id, f"{around[0]}{walk_id}{around[1][: -len(ending) + 1]}")


class StepUrls:
    """The URL of each step of one walk (:func:`step_urls`)."""

    __slots__ = ("prefix", "slug", "walk_id")

    def __init__(self, slug: str, walk_id: Any, prefix: str | None) -> None:
        self.slug = slug
        self.walk_id = walk_id
        # What a node slug is appended to (with a slash), if the URL could be reversed once.
        self.prefix = prefix

    def __call__(self, node_slug: str) -> str:
        if self.prefix is not None and self.appends(node_slug):
            return f"{self.prefix}{node_slug}/"
        return step_url(self.slug, self.walk_id, node_slug)

    @staticmethod
    def appends(node_slug: str) -> bool:
        """Whether the URL of ``node_slug``'s step is the prefix, the slug and a slash."""
        return _NODE_SLUG.fullmatch(node_slug) is not None


def _reversing() -> tuple[str, str | None, str]:
    """What ``reverse`` depends on besides its arguments."""
    return get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF


@lru_cache(maxsize=256)
def _around_walk(
    name: str, slug: str, script_prefix: str, urlconf: str | None, root: str, node: str | None = None
) -> tuple[str, str] | None:
    """The URL ``name`` of some walk of pathway ``slug``, before and after the walk's id."""
    kwargs: dict[str, Any] = {"slug": slug, "walk_id": _ANY_WALK}
    if node is not None:
        kwargs["node"] = node
    before, found, after = reverse(name, kwargs=kwargs).partition(str(_ANY_WALK))
    if not found or str(_ANY_WALK) in after:
        return None
    return before, after


def trail(
    snapshot: engine.Snapshot,
    result: engine.Evaluation,
    answers: dict[str, Any],
    slug: str,
    walk_id: Any,
    url: StepUrls | None = None,
) -> Trail:
    """The answers on the path, each with the link to change it (``url``: the walk's
    :func:`step_urls`, if the caller has it)."""
    entries = []
    listed: set[str] = set()
    for node_slug in result.path:
        for key in snapshot.nodes[node_slug].fields:
            # A variable asked again later on the path (e.g. SSTR status) is answered once.
            if key not in answers or key in listed:
                continue
            listed.add(key)
            entries.append((node_slug, key))
    return Trail(snapshot, answers, tuple(entries), url or step_urls(slug, walk_id))


class Trail(Sequence[TrailItem]):
    """The answers on a walk's path (:func:`trail`), in the order they were asked.

    ``entries`` says which step asked which answer; the items (label, value as shown, link) are
    made when first read. A step's swap fills its trail from markup cached by entry and value
    (:func:`pathways.fragments.trail_items`), and never reads them.
    """

    def __init__(
        self,
        snapshot: engine.Snapshot,
        answers: dict[str, Any],
        entries: tuple[tuple[str, str], ...],
        url: StepUrls,
    ) -> None:
        self.snapshot = snapshot
        self.answers = answers
        self.entries = entries  # (the step's node slug, the variable key) per answer listed
        self.url = url

    @cached_property
    def items(self) -> list[TrailItem]:
        variables = self.snapshot.variables
        return [
            TrailItem(
                key=key,
                label=variables[key].label,
                value=translated(variables[key].display(self.answers[key])),
                node=node_slug,
                url=self.url(node_slug),
                optional=variables[key].optional,
            )
            for node_slug, key in self.entries
        ]

    def __len__(self) -> int:
        return len(self.entries)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def __getitem__(self, index: Any) -> Any:
        return self.items[index]

    def __iter__(self) -> Iterator[TrailItem]:
        return iter(self.items)


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
    recs: list[RecView], *, include_cautions: bool = True, include_folded: bool = True
) -> list[tuple[StrOrPromise, list[RecView]]]:
    groups: dict[str, list[RecView]] = {}
    for rec in recs:
        if rec.section == "caution" and not include_cautions:
            continue
        if rec.section in FOLDED_SECTIONS and not include_folded:
            continue
        groups.setdefault(rec.section, []).append(rec)
    return [
        (SECTION_LABELS.get(section, section), groups[section])
        for section in SECTION_ORDER
        if section in groups
    ]


def done_along_the_way(recs: list[RecView]) -> list[RecView]:
    """The workup and imaging recommendations, in section order: the result folds them."""
    return [
        rec
        for section in SECTION_ORDER
        if section in FOLDED_SECTIONS
        for rec in recs
        if rec.section == section
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


def current_stage_label(stages: list[dict[str, Any]]) -> Any:
    """The label of the stage in progress, or "" when none is (a finished walk's earlier step)."""
    return next((stage["label"] for stage in stages if stage["state"] == "current"), "")


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
        node_href=step_urls(slug, walk_id),
    )


def cited_references(snapshot: engine.Snapshot, recs: list[RecView]) -> list[engine.Reference]:
    """The references cited by ``recs``, in the pathway's order (the report's footnotes)."""
    cited = {ref.label for rec in recs for ref in rec.citations}
    return [ref for label, ref in snapshot.references.items() if label in cited]


def report_text(
    *,
    snapshot: engine.Snapshot,
    result: engine.Evaluation,
    recs: list[RecView],
    version: Any,
    changed_at: datetime,
    newer: Sequence[NoteView] = (),
) -> str:
    """A note of a complete walk to paste into the clinical record: the plan, the deciding inputs,
    the cautions, the management by section, the pathway and its version, when the walk last changed
    (local time) and the references cited. No routing trace and no link: the note stands alone."""
    outcome = snapshot.nodes[result.outcome].title if result.outcome else ""
    title = snapshot.title or snapshot.pathway
    if version.published_at:
        heading = _("%(title)s, pathway version %(number)s (published %(date)s)") % {
            "title": title,
            "number": version.number,
            "date": date_format(localtime(version.published_at), "j F Y"),
        }
    else:
        heading = _("%(title)s, pathway version %(number)s (not published)") % {
            "title": title,
            "number": version.number,
        }
    lines = [
        heading,
        _("Walk last changed %(date)s") % {"date": local_time_text(changed_at)},
        _("Plan: %(plan)s") % {"plan": plan(snapshot, result)},
    ]
    # Every answer on the path (the deciding ones among them), with units, on one line.
    answers = result.answers
    asked = dict.fromkeys(
        key for slug in result.path for key in snapshot.nodes[slug].fields if key in answers
    )
    if asked:
        shown = "; ".join(
            f"{snapshot.variables[key].label} {translated(snapshot.variables[key].display(answers[key]))}"
            for key in asked
        )
        lines.append(_("Inputs: %(inputs)s") % {"inputs": shown})
    cautions = [rec for rec in recs if rec.caution]
    if cautions:
        lines.append(_("CAUTIONS:"))
        lines += [f"- {_cited(rec)}" for rec in cautions]
    lines.append(_("Management: %(outcome)s") % {"outcome": outcome})
    for label, group in grouped(recs, include_cautions=False, include_folded=False):
        lines.append(f"- {label}: {'; '.join(_titled(rec) for rec in group)}")
    done = done_along_the_way(recs)
    if done:
        lines.append(
            _("Workup done along the way: %(items)s") % {"items": "; ".join(_titled(rec) for rec in done)}
        )
    if newer:
        sources = "; ".join(dict.fromkeys(note.source for note in newer))
        lines.append(_("Newer guidance differs from the source here: %(sources)s") % {"sources": sources})
    references = cited_references(snapshot, recs)
    if references:
        lines.append(_("References:"))
        lines += [f"[{ref.label}] {_reference_line(ref)}" for ref in references]
    lines.append(
        _("Decision support only; it does not replace clinical judgement or multidisciplinary review.")
    )
    return "\n".join(" ".join(line.split()) for line in lines)


def local_time_text(moment: datetime) -> str:
    """``moment`` in the server's time zone (settings.TIME_ZONE), as the report shows it; the page's
    script rewrites it in the browser's own time zone."""
    return date_format(localtime(moment), "j F Y, H:i T")


def _titled(rec: RecView) -> str:
    labels = "".join(f"[{ref.label}]" for ref in rec.citations)
    return f"{rec.title} {labels}" if labels else rec.title


def _cited(rec: RecView) -> str:
    labels = "".join(f"[{ref.label}]" for ref in rec.citations)
    text = " ".join(rec.text.split())
    return " ".join(part for part in (f"{rec.title}:" if text else rec.title, text, labels) if part)


def _reference_line(ref: engine.Reference) -> str:
    # A reference with neither a year nor a link (one the source cites without listing) keeps its
    # note, which says so, rather than reading as a real one.
    parts = [ref.citation, ref.url]
    if ref.note and not ref.url and not YEAR.search(ref.citation):
        parts.append(f"({ref.note})")
    return " ".join(part for part in parts if part)
