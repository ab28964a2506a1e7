"""Render the flowchart as SVG markup, optionally with one walk's path highlighted.

Every piece of content (titles, slugs, answers, links) is escaped with ``html.escape`` where the
markup is built; the walk-independent markup is built once per graph and language and cached.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from .. import engine
from ..messages import translated
from .highlight import WalkState, walk_state
from .layout import (
    CONTEXT_HEIGHT,
    CRITERION_HEIGHT,
    GUTTER,
    LINE_HEIGHT,
    PAD_Y,
    Box,
    Layout,
    LayoutUnavailable,
    graph_key,
    layout,
    printable,
)

ANSWER_CHARS = 22

STAGE_LABELS = {
    "workup": gettext_lazy("Workup"),
    "imaging": gettext_lazy("Imaging"),
    "pathology": gettext_lazy("Pathology"),
    "management": gettext_lazy("Management"),
}


logger = logging.getLogger(__name__)
_lock = threading.Lock()
_MAX_CACHED = 64


def _marker(name: str, size: int, colour: str) -> str:
    return (
        f'<marker id="{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="{size}" '
        f'markerHeight="{size}" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
    )


_DEFS = mark_safe(  # noqa: S308 - constant markup
    "<defs>"
    + _marker("fc-arrow", 9, "#6c757d")
    + _marker("fc-arrow-on", 11, "#0b5ed7")
    + _marker("fc-arrow-off", 9, "#ced4da")
    + "</defs>"
)


def render(
    snapshot: engine.Snapshot,
    *,
    evaluation: engine.Evaluation | None = None,
    answers: Mapping[str, Any] | None = None,
    current: str | None = None,
    faulty: Collection[str] = frozenset(),
    node_href: Callable[[str], str | None] | None = None,
    label: str = "",
) -> SafeString:
    """The SVG flowchart of ``snapshot``.

    With an ``evaluation``, the walked nodes and edges get ``class="on-path"``, the current step
    (``current``, else the evaluation's current step or outcome) ``current``, and nodes and edges
    the answers rule out ``ruled-out``; ``answers`` (the walk's typed answers) let branches be
    ruled out before the walk reaches them. ``node_href(slug)`` gives a link for a node (``None``
    for no link); it is asked for the walked question nodes only when there is an evaluation,
    for every node otherwise. Nodes in ``faulty`` are marked ``faulty``.
    """
    try:
        parts = _fragments(snapshot)
    except LayoutUnavailable as error:
        logger.error("The flowchart could not be drawn: %s", error)
        return format_html(
            '<p class="flowchart-unavailable alert alert-secondary mb-0" data-flowchart-unavailable>{}</p>',
            _(
                "The flowchart is unavailable: this server cannot draw it right now. "
                "The steps and the result are not affected."
            ),
        )
    state = walk_state(snapshot, evaluation, answers) if evaluation is not None else None
    if evaluation is not None and current is None:
        current = evaluation.current or evaluation.outcome
    faulty = frozenset(faulty)
    title = label or _("Flowchart of the pathway “%(title)s”, version %(version)s") % {
        "title": snapshot.title or snapshot.pathway,
        "version": snapshot.version,
    }
    statuses = {
        "on-path": _("on your path"),
        "ruled-out": _("ruled out by your answers"),
        "current": _("current step"),
        "result": _("your result"),
        "faulty": _("has a problem"),
    }
    change = _("Change this answer")
    out = [
        parts.head.format(title=escape(title)),
        _DEFS,
        parts.bands,
        _links_markup(parts, state),
        _nodes_markup(
            snapshot, parts, state, current, faulty, node_href, evaluation, answers, statuses, change
        ),
        "</svg>",
    ]
    return mark_safe("".join(out))  # noqa: S308 - content is escaped when each fragment is built


@dataclass(frozen=True, slots=True)
class _NodeParts:
    box: Box
    title: str  # escaped
    visible: str  # the box's text as shown (not escaped)
    shape: str  # the rectangle and the wrapped title
    answer_x: str
    answer_y: str


@dataclass(frozen=True, slots=True)
class _LinkParts:
    source: str
    target: str
    attributes: str  # escaped data-source, data-target
    body_start: str  # tooltip and path, up to the marker name
    label: str  # the criterion beside the arrow (escaped), or ""


@dataclass(frozen=True, slots=True)
class _Parts:
    head: str
    bands: str
    nodes: tuple[_NodeParts, ...]
    links: tuple[_LinkParts, ...]


_fragment_cache: dict[tuple[Any, ...], _Parts] = {}


def _fragments(snapshot: engine.Snapshot) -> _Parts:
    """The markup that does not depend on the walk, built once per graph and language."""
    key = (graph_key(snapshot), get_language())
    cached = _fragment_cache.get(key)
    if cached is None:
        cached = _build_fragments(snapshot, layout(snapshot, translated, get_language() or ""))
        with _lock:
            if len(_fragment_cache) >= _MAX_CACHED:
                _fragment_cache.clear()
            _fragment_cache[key] = cached
    return cached


def _build_fragments(snapshot: engine.Snapshot, drawn: Layout) -> _Parts:
    width, height = _n(drawn.width), _n(drawn.height)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flowchart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="group" aria-labelledby="flowchart-title">'
        '<title id="flowchart-title">{title}</title>'
    )
    bands = []
    for band in drawn.bands:
        label_x = _n(GUTTER / 2 + 4)
        label_y = _n(band.y + band.height / 2)
        bands.append(
            f'<g class="fc-band fc-band-{escape(band.stage)}"><rect x="0" y="{_n(band.y)}" width="{width}" '
            f'height="{_n(band.height)}"/><text class="fc-band-label" x="{label_x}" y="{label_y}" '
            f'transform="rotate(-90 {label_x} {label_y})" text-anchor="middle">'
            f"{escape(str(STAGE_LABELS.get(band.stage, band.stage)))}</text></g>"
        )
    nodes = []
    for slug, box in drawn.boxes.items():
        first_y = box.y + PAD_Y + LINE_HEIGHT - 4
        # A space between the lines, so that the text reads (and is named) as words.
        lines = " ".join(
            f'<tspan x="{_n(box.center)}" y="{_n(first_y + i * LINE_HEIGHT)}">{escape(line)}</tspan>'
            for i, line in enumerate(box.lines)
        )
        shape = (
            f'<rect x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.width)}" height="{_n(box.height)}" '
            f'rx="{14 if box.kind == engine.OUTCOME else 4}"/>'
            f'<text class="fc-label" text-anchor="middle">{lines}</text>'
        )
        context_y = first_y + len(box.lines) * LINE_HEIGHT - 2
        if box.context:
            context = " ".join(
                f'<tspan x="{_n(box.center)}" y="{_n(context_y + i * CONTEXT_HEIGHT)}">{escape(line)}</tspan>'
                for i, line in enumerate(box.context)
            )
            shape += f' <text class="fc-context" text-anchor="middle">{context}</text>'
        visible = " ".join(box.lines + box.context)
        nodes.append(
            _NodeParts(
                box=box,
                title=escape(printable(snapshot.nodes[slug].title)),
                visible=visible,
                shape=shape,
                answer_x=_n(box.center),
                answer_y=_n(context_y + 2 + len(box.context) * CONTEXT_HEIGHT),
            )
        )
    links = []
    joiner, both, always = _(" or "), _(" and "), _("always")
    for link in drawn.links:
        tip = printable(
            joiner.join(
                both.join(c.describe(snapshot.variables) for c in group) or always
                for group in link.conditions
            )
        )
        links.append(
            _LinkParts(
                source=link.source,
                target=link.target,
                attributes=f'data-source="{escape(link.source)}" data-target="{escape(link.target)}"',
                body_start=f'<title>{escape(tip)}</title><path d="{link.path}" marker-end="url(#',
                label=_criterion_markup(link.label, link.label_x, link.label_y),
            )
        )
    return _Parts(
        head=head,
        bands='<g class="fc-bands">' + "".join(bands) + "</g>",
        nodes=tuple(nodes),
        links=tuple(links),
    )


def _links_markup(parts: _Parts, state: WalkState | None) -> str:
    drawn_last: list[str] = []
    markup: list[str] = []
    for link in parts.links:
        classes, marker = "fc-edge", "fc-arrow"
        if state is not None:
            pair = (link.source, link.target)
            if pair in state.taken:
                classes, marker = "fc-edge on-path", "fc-arrow-on"
            elif pair not in state.possible_links:
                classes, marker = "fc-edge ruled-out", "fc-arrow-off"
        element = f'<g class="{classes}" {link.attributes}>{link.body_start}{marker})"/>{link.label}</g>'
        # Walked edges last, so they are drawn over the others.
        (drawn_last if marker == "fc-arrow-on" else markup).append(element)
    return '<g class="fc-edges">' + "".join(markup + drawn_last) + "</g>"


def _nodes_markup(
    snapshot: engine.Snapshot,
    parts: _Parts,
    state: WalkState | None,
    current: str | None,
    faulty: frozenset[str],
    node_href: Callable[[str], str | None] | None,
    evaluation: engine.Evaluation | None,
    answers: Mapping[str, Any] | None,
    statuses: Mapping[str, str],
    change: str,
) -> str:
    rendered = []
    for part in parts.nodes:
        box = part.box
        slug = box.slug
        classes = f"fc-node fc-{escape(box.kind)} fc-stage-{escape(box.stage)}"
        status = ""
        walked = state is not None and slug in state.on_path
        if state is not None:
            if walked:
                classes += " on-path"
                status = statuses["on-path"]
            elif slug not in state.possible:
                classes += " ruled-out"
                status = statuses["ruled-out"]
        if slug == current:
            classes += " current"
            status = statuses["result" if box.kind == engine.OUTCOME else "current"]
        if slug in faulty:
            classes += " faulty"
            status = statuses["faulty"]
        answer = ""
        if walked and answers:
            node = snapshot.nodes[slug]
            answer = ", ".join(
                translated(snapshot.variables[key].display(answers[key]))
                for key in snapshot.required_fields(node)
                if key in answers and key in snapshot.variables
            )
            if len(answer) > ANSWER_CHARS:
                answer = answer[: ANSWER_CHARS - 1].rstrip() + "…"
        if slug == current and not answer:
            answer = capfirst(status)
        tip = f"{part.title} ({escape(status)})" if status else part.title
        # The tooltip sits beside a link, not in it: inside, it would count as the link's text.
        tooltip = f"<title>{tip}</title>"
        content = part.shape
        if answer:
            content += (
                f' <text class="fc-answer" x="{part.answer_x}" y="{part.answer_y}" '
                f'text-anchor="middle">{escape(answer)}</text>'
            )
        href = None
        if node_href is not None and (
            evaluation is None or (walked and engine.askable(snapshot, evaluation, slug))
        ):
            href = node_href(slug)
        if href:
            # The name starts with the text shown in the box (WCAG 2.5.3), then says what it does.
            shown = f"{part.visible} {answer}".strip() if answer else part.visible
            name = f"{shown}. {change}" if evaluation is not None else shown
            label = escape(name)
            content = f'<a class="fc-link" href="{escape(href)}" aria-label="{label}">{content}</a>'
        # The current step is a fragment target: a link to "#fc-current" opens the chart on it,
        # JavaScript or not.
        anchor = ' id="fc-current"' if slug == current else ""
        rendered.append(f'<g class="{classes}"{anchor} data-node="{escape(slug)}">{tooltip}{content}</g>')
    return '<g class="fc-nodes">' + "".join(rendered) + "</g>"


def _criterion_markup(lines: tuple[str, ...], x: float, y: float) -> str:
    """The criterion beside an arrow: its lines centred on dot's label point, on a backing."""
    if not lines:
        return ""
    longest = max(len(line) for line in lines)
    width = longest * 6.2 + 8
    height = len(lines) * CRITERION_HEIGHT + 4
    top = y - height / 2
    texts = " ".join(
        f'<tspan x="{_n(x)}" y="{_n(top + 2 + (i + 1) * CRITERION_HEIGHT - 3)}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return (
        f'<rect class="fc-criterion-bg" x="{_n(x - width / 2)}" y="{_n(top)}" width="{_n(width)}" '
        f'height="{_n(height)}" rx="3"/><text class="fc-criterion" text-anchor="middle">{texts}</text>'
    )


def _n(value: float) -> str:
    """A coordinate with at most one decimal."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def legend_states() -> Iterable[tuple[str, str]]:
    """The highlighting classes and what they mean, for an HTML legend beside the chart."""
    return (
        ("on-path", _("On your path")),
        ("current", _("Current step or result")),
        ("open", _("Still possible")),
        ("ruled-out", _("Ruled out by your answers")),
    )
