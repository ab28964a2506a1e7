"""Draw a pathway version as an SVG flowchart, optionally with one walk's path highlighted.

The layout is pure Python and depends only on the graph (nodes, their stages and titles, and the
edges), so it is computed once per pathway version and cached; a walk only changes the classes
that highlight it. Stages are drawn as horizontal bands (workup, imaging, pathology, management).
A node whose stage comes later than the stage of a node it leads to (e.g. symptom control before
the size question) is drawn in the earlier band, so every arrow points down; it keeps its own
stage's colour. Rows hold at most ``MAX_PER_ROW`` nodes; long edges are routed through spacer
points between the rows (a small layered, Sugiyama-style layout).

Every piece of content (titles, slugs, answers, links) is escaped with ``html.escape`` where the
markup is built; the walk-independent markup is built once per graph and language and cached.
"""

from __future__ import annotations

import itertools
import textwrap
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from . import engine
from .messages import translated

NODE_WIDTH = 176
SPACER_WIDTH = 8
SPACER_GAP = 8
GAP_X = 22
GUTTER = 44
MARGIN = 14
ROW_GAP = 40
LINE_HEIGHT = 17
PAD_Y = 9
CHARS_PER_LINE = 22
MAX_LINES = 4
MAX_PER_ROW = 5
ANSWER_CHARS = 22

STAGE_LABELS = {
    "workup": gettext_lazy("Workup"),
    "imaging": gettext_lazy("Imaging"),
    "pathology": gettext_lazy("Pathology"),
    "management": gettext_lazy("Management"),
}


@dataclass(frozen=True, slots=True)
class Box:
    slug: str
    kind: str
    stage: str
    lines: tuple[str, ...]
    x: float
    y: float
    width: float
    height: float

    @property
    def center(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True, slots=True)
class Link:
    source: str
    target: str
    path: str
    conditions: tuple[tuple[engine.Condition, ...], ...]


@dataclass(frozen=True, slots=True)
class Band:
    stage: str
    y: float
    height: float


@dataclass(frozen=True, slots=True)
class Layout:
    width: float
    height: float
    boxes: Mapping[str, Box]
    links: tuple[Link, ...]
    bands: tuple[Band, ...]


# -- layout ----------------------------------------------------------------------------------


_layouts: dict[tuple[Any, ...], Layout] = {}
_lock = threading.Lock()
_MAX_CACHED = 64


def layout(snapshot: engine.Snapshot) -> Layout:
    """The layout of ``snapshot``'s graph, computed once per distinct graph and cached."""
    key = _graph_key(snapshot)
    cached = _layouts.get(key)
    if cached is None:
        cached = _compute_layout(snapshot)
        with _lock:
            if len(_layouts) >= _MAX_CACHED:
                _layouts.clear()
            _layouts[key] = cached
    return cached


def _graph_key(snapshot: engine.Snapshot) -> tuple[Any, ...]:
    return (
        snapshot.pathway,
        snapshot.version,
        snapshot.version_id,
        snapshot.start,
        tuple(
            (node.slug, node.kind, node.stage, node.title, tuple((e.target, e.order) for e in node.edges))
            for node in snapshot.nodes.values()
        ),
    )


def _stage_index(stage: str) -> int:
    return engine.STAGES.index(stage) if stage in engine.STAGES else len(engine.STAGES) - 1


def _wrap(title: str) -> tuple[str, ...]:
    lines = textwrap.wrap(title, CHARS_PER_LINE, break_long_words=True) or [""]
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES]
        lines[-1] = lines[-1][: CHARS_PER_LINE - 1].rstrip() + "…"
    return tuple(lines)


def _topological(snapshot: engine.Snapshot) -> tuple[list[str], set[tuple[str, str]]]:
    """Nodes in depth-first topological order from the start, and the edges that close a cycle.

    A draft may be broken (a cycle, an unreachable node): it must still be drawable.
    """
    nodes = snapshot.nodes
    order: list[str] = []
    state: dict[str, int] = {}
    back: set[tuple[str, str]] = set()
    roots = [snapshot.start] if snapshot.start in nodes else []
    roots += [slug for slug in nodes if slug not in roots]
    for root in roots:
        if root in state:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        state[root] = 1
        while stack:
            slug, index = stack.pop()
            edges = nodes[slug].edges
            if index < len(edges):
                stack.append((slug, index + 1))
                target = edges[index].target
                if target not in nodes:
                    continue
                if state.get(target) == 1:
                    back.add((slug, target))
                elif target not in state:
                    state[target] = 1
                    stack.append((target, 0))
            else:
                state[slug] = 2
                order.append(slug)
    order.reverse()
    return order, back


def _compute_layout(snapshot: engine.Snapshot) -> Layout:
    nodes = snapshot.nodes
    order, back = _topological(snapshot)
    position = {slug: index for index, slug in enumerate(order)}
    pairs: dict[tuple[str, str], list[engine.Edge]] = {}
    for slug in order:
        for edge in nodes[slug].edges:
            if edge.target in nodes:
                pairs.setdefault((slug, edge.target), []).append(edge)
    forward = [pair for pair in pairs if pair not in back]
    successors: dict[str, list[str]] = {slug: [] for slug in order}
    predecessors: dict[str, list[str]] = {slug: [] for slug in order}
    for source, target in forward:
        successors[source].append(target)
        predecessors[target].append(source)

    # Band: a node's own stage, or an earlier one if it leads into an earlier stage.
    band: dict[str, int] = {}
    height: dict[str, int] = {}
    for slug in reversed(order):
        band[slug] = min([_stage_index(nodes[slug].stage)] + [band[t] for t in successors[slug]])
        height[slug] = max([0] + [height[t] + 1 for t in successors[slug]])

    # Rows: bands in order; inside a band, longest-path layering with at most MAX_PER_ROW
    # nodes per row, the nodes with the longest way still to go placed first.
    rank: dict[str, int] = {}
    band_rows: list[tuple[int, int, int]] = []
    next_row = 0
    for band_index in range(len(engine.STAGES)):
        members = [slug for slug in order if band[slug] == band_index]
        if not members:
            continue
        first = next_row
        row = first
        waiting = list(members)
        while waiting:
            ready = [
                slug
                for slug in waiting
                if all(p in rank and rank[p] < row for p in predecessors[slug] if band[p] <= band_index)
            ]
            ready.sort(key=lambda slug: (-height[slug], position[slug]))
            for slug in ready[:MAX_PER_ROW]:
                rank[slug] = row
                waiting.remove(slug)
            row += 1
        next_row = row
        band_rows.append((band_index, first, row - 1))
    row_count = next_row

    # Items per row: nodes, and spacer points for edges that skip rows.
    rows: list[list[str]] = [[] for _ in range(row_count)]
    for slug in order:
        rows[rank[slug]].append(slug)
    chains: dict[tuple[str, str], list[str]] = {}
    up: dict[str, list[str]] = {}
    down: dict[str, list[str]] = {}
    for source, target in forward:
        chain = [source]
        for row in range(rank[source] + 1, rank[target]):
            spacer = f"\x00{source}\x00{target}\x00{row}"
            rows[row].append(spacer)
            chain.append(spacer)
        chain.append(target)
        chains[(source, target)] = chain
        for upper, lower in itertools.pairwise(chain):
            down.setdefault(upper, []).append(lower)
            up.setdefault(lower, []).append(upper)

    def width_of(item: str) -> float:
        return SPACER_WIDTH if item.startswith("\x00") else NODE_WIDTH

    # Order inside rows: a few barycentre sweeps down and up.
    for _sweep in range(4):
        for index in range(1, row_count):
            _sort_by_barycentre(rows[index], rows[index - 1], up)
        for index in range(row_count - 2, -1, -1):
            _sort_by_barycentre(rows[index], rows[index + 1], down)

    # Horizontal positions (centres): start packed and centred, then pull each item towards the
    # mean of its neighbours, keeping the order, the minimum gaps and the widest row's width.
    def gap_between(a: str, b: str) -> float:
        spaced = a.startswith("\x00") or b.startswith("\x00")
        return (width_of(a) + width_of(b)) / 2 + (SPACER_GAP if spaced else GAP_X)

    def packed_width(row: list[str]) -> float:
        if not row:
            return 0.0
        inner = sum(gap_between(a, b) for a, b in itertools.pairwise(row))
        return inner + (width_of(row[0]) + width_of(row[-1])) / 2

    widest = max((packed_width(row) for row in rows), default=NODE_WIDTH)
    centre: dict[str, float] = {}
    for items in rows:
        x = (widest - packed_width(items)) / 2 + (width_of(items[0]) / 2 if items else 0)
        for index, item in enumerate(items):
            if index:
                x += gap_between(items[index - 1], item)
            centre[item] = x
    for _sweep in range(6):
        for index in range(1, row_count):
            _place(rows[index], up, centre, gap_between, width_of, widest)
        for index in range(row_count - 2, -1, -1):
            _place(rows[index], down, centre, gap_between, width_of, widest)
    left = min((centre[i] - width_of(i) / 2 for row in rows for i in row), default=0.0)
    shift = GUTTER + MARGIN - left
    for item in centre:
        centre[item] += shift
    width = max((centre[i] + width_of(i) / 2 for row in rows for i in row), default=0.0) + MARGIN

    # Vertical positions: each row as tall as its tallest node.
    lines = {slug: _wrap(nodes[slug].title) for slug in order}

    def box_height(slug: str) -> float:
        extra = 1 if nodes[slug].kind in (engine.QUESTION, engine.OUTCOME) else 0
        return (len(lines[slug]) + extra) * LINE_HEIGHT + 2 * PAD_Y

    row_top: list[float] = []
    row_height: list[float] = []
    y = float(MARGIN + ROW_GAP / 2)
    for items in rows:
        tallest = max((box_height(i) for i in items if not i.startswith("\x00")), default=LINE_HEIGHT)
        row_top.append(y)
        row_height.append(tallest)
        y += tallest + ROW_GAP
    total_height = y - ROW_GAP / 2 + MARGIN

    boxes: dict[str, Box] = {}
    for slug in order:
        row = rank[slug]
        h = box_height(slug)
        boxes[slug] = Box(
            slug=slug,
            kind=nodes[slug].kind,
            stage=nodes[slug].stage,
            lines=lines[slug],
            x=round(centre[slug] - NODE_WIDTH / 2, 1),
            y=round(row_top[row] + (row_height[row] - h) / 2, 1),
            width=NODE_WIDTH,
            height=h,
        )

    links: list[Link] = []
    for (source, target), edges in pairs.items():
        conditions = tuple(edge.conditions for edge in edges)
        if (source, target) in back:
            path = _loop_path(boxes[source], boxes[target])
        else:
            points = [(boxes[source].center, boxes[source].y + boxes[source].height)]
            for spacer in chains[(source, target)][1:-1]:
                row = int(spacer.rsplit("\x00", 1)[1])
                points.append((centre[spacer], row_top[row] - ROW_GAP / 4))
                points.append((centre[spacer], row_top[row] + row_height[row] + ROW_GAP / 4))
            points.append((boxes[target].center, boxes[target].y - 2))
            path = _curve(points)
        links.append(Link(source=source, target=target, path=path, conditions=conditions))

    bands = tuple(
        Band(
            stage=engine.STAGES[band_index],
            y=row_top[first] - ROW_GAP / 2,
            height=row_top[last] + row_height[last] + ROW_GAP / 2 - (row_top[first] - ROW_GAP / 2),
        )
        for band_index, first, last in band_rows
    )
    return Layout(
        width=round(width, 1),
        height=round(total_height, 1),
        boxes=boxes,
        links=tuple(links),
        bands=bands,
    )


def _sort_by_barycentre(row: list[str], fixed: list[str], neighbours: Mapping[str, list[str]]) -> None:
    index = {item: i for i, item in enumerate(fixed)}
    current = {item: i for i, item in enumerate(row)}

    def key(item: str) -> tuple[float, int]:
        linked = [index[n] for n in neighbours.get(item, ()) if n in index]
        return (sum(linked) / len(linked) if linked else current[item], current[item])

    row.sort(key=key)


def _place(
    row: list[str],
    neighbours: Mapping[str, list[str]],
    centre: dict[str, float],
    gap_between: Callable[[str, str], float],
    width_of: Callable[[str], float],
    width: float,
) -> None:
    """Move the items of ``row`` towards their neighbours' mean, keeping order, gaps and width.

    Each wish is first clamped to where the item can be with its row inside ``width``; then a
    left-to-right pass that only pushes right and a right-to-left pass that only pushes left both
    keep the gaps and the bounds, and so does their average.
    """
    if not row:
        return
    count = len(row)
    gaps = [gap_between(row[i], row[i + 1]) for i in range(count - 1)]
    low = [width_of(row[0]) / 2]
    for i in range(1, count):
        low.append(low[-1] + gaps[i - 1])
    high = [width - width_of(row[-1]) / 2]
    for i in range(count - 2, -1, -1):
        high.insert(0, high[0] - gaps[i])
    wanted = []
    for i, item in enumerate(row):
        linked = [centre[n] for n in neighbours.get(item, ())]
        wish = sum(linked) / len(linked) if linked else centre[item]
        wanted.append(min(max(wish, low[i]), high[i]))
    rightward = list(wanted)
    for i in range(1, count):
        rightward[i] = max(rightward[i], rightward[i - 1] + gaps[i - 1])
    leftward = list(wanted)
    for i in range(count - 2, -1, -1):
        leftward[i] = min(leftward[i], leftward[i + 1] - gaps[i])
    for i, item in enumerate(row):
        centre[item] = (rightward[i] + leftward[i]) / 2


def _curve(points: list[tuple[float, float]]) -> str:
    (x0, y0), rest = points[0], points[1:]
    parts = [f"M{x0:.1f},{y0:.1f}"]
    for x1, y1 in rest:
        if abs(x1 - x0) < 0.5:
            parts.append(f"L{x1:.1f},{y1:.1f}")
        else:
            middle = (y0 + y1) / 2
            parts.append(f"C{x0:.1f},{middle:.1f} {x1:.1f},{middle:.1f} {x1:.1f},{y1:.1f}")
        x0, y0 = x1, y1
    return " ".join(parts)


def _loop_path(source: Box, target: Box) -> str:
    x0, y0 = source.x + source.width, source.y + source.height / 2
    x1, y1 = target.x + target.width, target.y + target.height / 2
    out = max(x0, x1) + GAP_X
    return f"M{x0:.1f},{y0:.1f} C{out:.1f},{y0:.1f} {out:.1f},{y1:.1f} {x1 + 2:.1f},{y1:.1f}"


# -- highlighting ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Walk:
    on_path: frozenset[str]
    taken: frozenset[tuple[str, str]]
    possible: frozenset[str]
    possible_links: frozenset[tuple[str, str]]


def _walk_state(
    snapshot: engine.Snapshot, evaluation: engine.Evaluation, answers: Mapping[str, Any] | None
) -> _Walk:
    routes = engine.open_routes(snapshot, evaluation, answers)
    return _Walk(
        on_path=frozenset(evaluation.path),
        taken=frozenset((d.node, d.edge.target) for d in evaluation.trace),
        possible=routes.nodes,
        possible_links=routes.links,
    )


# -- rendering -------------------------------------------------------------------------------


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
    parts = _fragments(snapshot)
    state = _walk_state(snapshot, evaluation, answers) if evaluation is not None else None
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
    change = _("Change your answer to: %(title)s")
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
    shape: str  # the rectangle and the wrapped title
    answer_x: str
    answer_y: str


@dataclass(frozen=True, slots=True)
class _LinkParts:
    source: str
    target: str
    attributes: str  # escaped data-source, data-target
    body_start: str  # tooltip and path, up to the marker name


@dataclass(frozen=True, slots=True)
class _Parts:
    head: str
    bands: str
    nodes: tuple[_NodeParts, ...]
    links: tuple[_LinkParts, ...]


_fragment_cache: dict[tuple[Any, ...], _Parts] = {}


def _fragments(snapshot: engine.Snapshot) -> _Parts:
    """The markup that does not depend on the walk, built once per graph and language."""
    key = (_graph_key(snapshot), get_language())
    cached = _fragment_cache.get(key)
    if cached is None:
        cached = _build_fragments(snapshot, layout(snapshot))
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
        lines = "".join(
            f'<tspan x="{_n(box.center)}" y="{_n(first_y + i * LINE_HEIGHT)}">{escape(line)}</tspan>'
            for i, line in enumerate(box.lines)
        )
        shape = (
            f'<rect x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.width)}" height="{_n(box.height)}" '
            f'rx="{14 if box.kind == engine.OUTCOME else 4}"/>'
            f'<text class="fc-label" text-anchor="middle">{lines}</text>'
        )
        nodes.append(
            _NodeParts(
                box=box,
                title=escape(snapshot.nodes[slug].title),
                shape=shape,
                answer_x=_n(box.center),
                answer_y=_n(first_y + len(box.lines) * LINE_HEIGHT),
            )
        )
    links = []
    joiner, both, always = _(" or "), _(" and "), _("always")
    for link in drawn.links:
        tip = joiner.join(
            both.join(c.describe(snapshot.variables) for c in group) or always for group in link.conditions
        )
        links.append(
            _LinkParts(
                source=link.source,
                target=link.target,
                attributes=f'data-source="{escape(link.source)}" data-target="{escape(link.target)}"',
                body_start=f'<title>{escape(tip)}</title><path d="{link.path}" marker-end="url(#',
            )
        )
    return _Parts(
        head=head,
        bands='<g class="fc-bands">' + "".join(bands) + "</g>",
        nodes=tuple(nodes),
        links=tuple(links),
    )


def _links_markup(parts: _Parts, state: _Walk | None) -> str:
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
        element = f'<g class="{classes}" {link.attributes}>{link.body_start}{marker})"/></g>'
        # Walked edges last, so they are drawn over the others.
        (drawn_last if marker == "fc-arrow-on" else markup).append(element)
    return '<g class="fc-edges">' + "".join(markup + drawn_last) + "</g>"


def _nodes_markup(
    snapshot: engine.Snapshot,
    parts: _Parts,
    state: _Walk | None,
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
        content = f"<title>{tip}</title>{part.shape}"
        if answer:
            content += (
                f'<text class="fc-answer" x="{part.answer_x}" y="{part.answer_y}" '
                f'text-anchor="middle">{escape(answer)}</text>'
            )
        href = None
        if node_href is not None and (
            evaluation is None or (walked and engine.askable(snapshot, evaluation, slug))
        ):
            href = node_href(slug)
        if href:
            name = change % {"title": snapshot.nodes[slug].title} if evaluation is not None else ""
            label = escape(name) if name else part.title
            content = f'<a class="fc-link" href="{escape(href)}" aria-label="{label}">{content}</a>'
        rendered.append(f'<g class="{classes}" data-node="{escape(slug)}">{content}</g>')
    return '<g class="fc-nodes">' + "".join(rendered) + "</g>"


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
