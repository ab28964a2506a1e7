"""Lay out a pathway version's graph for the flowchart: pure Python, no Django.

The layout depends only on the graph (nodes, their stages and titles, and the edges), so it is
computed once per distinct graph and cached; a walk only changes the classes that highlight it.
Stages are drawn as horizontal bands (workup, imaging, pathology, management). A node whose stage
comes later than the stage of a node it leads to (e.g. symptom control before the size question) is
drawn in the earlier band, so every arrow points down; it keeps its own stage's colour. Rows hold
at most ``MAX_PER_ROW`` nodes; long edges are routed through spacer points between the rows (a
small layered, Sugiyama-style layout).
"""

from __future__ import annotations

import itertools
import textwrap
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import engine

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


_layouts: dict[tuple[Any, ...], Layout] = {}
_lock = threading.Lock()
_MAX_CACHED = 64


def layout(snapshot: engine.Snapshot) -> Layout:
    """The layout of ``snapshot``'s graph, computed once per distinct graph and cached."""
    key = graph_key(snapshot)
    cached = _layouts.get(key)
    if cached is None:
        cached = _compute_layout(snapshot)
        with _lock:
            if len(_layouts) >= _MAX_CACHED:
                _layouts.clear()
            _layouts[key] = cached
    return cached


def graph_key(snapshot: engine.Snapshot) -> tuple[Any, ...]:
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
    for row_items in rows:
        x = (widest - packed_width(row_items)) / 2 + (width_of(row_items[0]) / 2 if row_items else 0)
        for index, item in enumerate(row_items):
            if index:
                x += gap_between(row_items[index - 1], item)
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
    for row_items in rows:
        tallest = max((box_height(i) for i in row_items if not i.startswith("\x00")), default=LINE_HEIGHT)
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
