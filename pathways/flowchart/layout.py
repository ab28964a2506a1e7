"""Lay out a pathway version's graph for the flowchart with Graphviz ``dot``: no Django.

The layout depends only on the graph and its words (titles, the arrows' criteria, the contexts
that tell boxes of one title apart), so it is computed once per distinct graph and language and
cached; a walk only changes the classes that highlight it. ``dot`` places the boxes and routes
the arrows with their criteria beside them; the markup is ours (``svg``), never dot's.

Stages are horizontal bands (workup, imaging, pathology, management): invisible anchors between
the bands keep every box of a band below the previous one. A box whose stage comes later than the
stage of a box it leads to (symptom control before the size question) is drawn in the earlier
band, so every arrow points down; it keeps its own stage's colour.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import engine
from .labels import contexts, criterion

NODE_WIDTH = 184
CHARS_PER_LINE = 23
MAX_LINES = 4
CONTEXT_CHARS = 27
CONTEXT_LINES = 4
CRITERION_CHARS = 24
CRITERION_LINES = 8
LINE_HEIGHT = 17
CONTEXT_HEIGHT = 15
CRITERION_HEIGHT = 13
CRITERION_FONT = 11
PAD_Y = 9
GUTTER = 40
MARGIN = 14
DOT_TIMEOUT = 20


class LayoutUnavailable(Exception):
    """Graphviz's ``dot`` is missing or failed: the chart cannot be drawn."""


@dataclass(frozen=True, slots=True)
class Box:
    slug: str
    kind: str
    stage: str
    lines: tuple[str, ...]
    context: tuple[str, ...]
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
    label: tuple[str, ...] = ()
    label_x: float = 0.0
    label_y: float = 0.0


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


def _plain(value: Any) -> str:
    return str(value)


def layout(snapshot: engine.Snapshot, translate: Callable[[Any], str] = _plain, language: str = "") -> Layout:
    """The layout of ``snapshot``'s graph, computed once per distinct graph and language and cached.

    Raises :class:`LayoutUnavailable` when ``dot`` is missing or fails (nothing is cached then).
    """
    key = (graph_key(snapshot), language)
    cached = _layouts.get(key)
    if cached is None:
        cached = _compute_layout(snapshot, translate)
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
            (
                node.slug,
                node.kind,
                node.stage,
                node.title,
                node.fields,
                tuple((e.target, e.order, e.conditions) for e in node.edges),
            )
            for node in snapshot.nodes.values()
        ),
        tuple(
            (key, v.label, v.kind, v.unit, v.choices, v.optional)
            for key, v in sorted(snapshot.variables.items())
        ),
    )


def wrap(text: str, width: int = CHARS_PER_LINE, limit: int = MAX_LINES) -> tuple[str, ...]:
    """``text`` in lines of at most ``width`` characters (its own line breaks kept), at most
    ``limit`` of them, the last cut with "…" if the text is longer."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(textwrap.wrap(paragraph, width, break_long_words=True) or ([""] if not lines else []))
    lines = lines or [""]
    if len(lines) > limit:
        lines = lines[:limit]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return tuple(lines)


def printable(text: str) -> str:
    """``text`` without control characters other than line breaks."""
    return "".join(c for c in text if c == "\n" or (c >= " " and c != "\x7f"))


def dot_string(text: str) -> str:
    """``text`` as a double-quoted dot string that dot reads back as exactly ``text``.

    Backslashes and quotes are escaped, so no escape sequence of dot's (``\\N``, ``\\G``, ``\\l``)
    and no end of the string can come from content; line breaks become dot's centred ``\\n``;
    other control characters are dropped. Never an HTML-like ``<...>`` label.
    """
    escaped = printable(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _band_of(snapshot: engine.Snapshot) -> dict[str, int]:
    """Each node's band: its own stage, or an earlier one if it leads into an earlier stage."""
    nodes = snapshot.nodes
    band: dict[str, int] = {}

    def stage_index(stage: str) -> int:
        return engine.STAGES.index(stage) if stage in engine.STAGES else len(engine.STAGES) - 1

    def visit(slug: str, active: set[str]) -> int:
        if slug in band:
            return band[slug]
        active.add(slug)
        lowest = stage_index(nodes[slug].stage)
        for edge in nodes[slug].edges:
            if edge.target in nodes and edge.target not in active:  # a draft may have a cycle
                lowest = min(lowest, visit(edge.target, active))
        active.discard(slug)
        band[slug] = lowest
        return lowest

    for slug in nodes:
        visit(slug, set())
    return band


@dataclass(frozen=True, slots=True)
class _Source:
    text: str
    ids: Mapping[str, str]  # node slug -> dot id
    pairs: Mapping[tuple[str, str], tuple[engine.Edge, ...]]
    labels: Mapping[tuple[str, str], tuple[str, ...]]
    boxes: Mapping[str, tuple[tuple[str, ...], tuple[str, ...], float]]  # lines, context, height
    band: Mapping[str, int]


def dot_source(snapshot: engine.Snapshot, translate: Callable[[Any], str] = _plain) -> _Source:
    """The dot graph of ``snapshot``: boxes of fixed size named ``n0``, ``n1``... (no content), and
    arrows labelled with their criteria as escaped dot strings."""
    nodes = snapshot.nodes
    ids = {slug: f"n{index}" for index, slug in enumerate(nodes)}
    extra = contexts(snapshot, translate)
    band = _band_of(snapshot)
    out = [
        "digraph pathway {",
        "graph [rankdir=TB, nodesep=0.18, ranksep=0.25, newrank=true, splines=spline];",
        'node [shape=box, fixedsize=true, label=""];',
        f'edge [fontname="Helvetica", fontsize={CRITERION_FONT}];',
    ]
    boxes = {}
    for slug, node in nodes.items():
        lines = wrap(printable(node.title))
        context = wrap(printable(extra[slug]), CONTEXT_CHARS, CONTEXT_LINES) if extra.get(slug) else ()
        answer = 1 if node.kind in (engine.QUESTION, engine.OUTCOME) else 0
        height = (len(lines) + answer) * LINE_HEIGHT + len(context) * CONTEXT_HEIGHT + 2 * PAD_Y
        boxes[slug] = (lines, context, float(height))
        out.append(f"{ids[slug]} [width={NODE_WIDTH / 72:.4f}, height={height / 72:.4f}];")
    # Bands: an invisible anchor above each band's boxes and below the previous band's.
    used = sorted(set(band.values()))
    for index, number in enumerate(used):
        out.append(f'b{number} [shape=point, width=0.01, height=0.01, style=invis, label=""];')
        if index:
            out.append(f"b{used[index - 1]} -> b{number} [style=invis];")
    for slug in nodes:
        out.append(f"b{band[slug]} -> {ids[slug]} [style=invis, weight=0];")
        later = [n for n in used if n > band[slug]]
        if later:
            out.append(f"{ids[slug]} -> b{later[0]} [style=invis, weight=0];")
    pairs: dict[tuple[str, str], list[engine.Edge]] = {}
    for slug, node in nodes.items():
        for edge in node.edges:
            if edge.target in nodes:
                pairs.setdefault((slug, edge.target), []).append(edge)
    labels = {}
    for (source, target), edges in pairs.items():
        text = criterion(snapshot, nodes[source], edges, translate)
        lines = wrap(printable(text), CRITERION_CHARS, CRITERION_LINES) if text else ()
        labels[(source, target)] = lines
        label = f", label={dot_string(chr(10).join(lines))}" if lines else ""
        out.append(f"{ids[source]} -> {ids[target]} [weight=2{label}];")
    out.append("}")
    return _Source(
        text="\n".join(out) + "\n",
        ids=ids,
        pairs={pair: tuple(edges) for pair, edges in pairs.items()},
        labels=labels,
        boxes=boxes,
        band=band,
    )


def run_dot(source: str) -> dict[str, Any]:
    """``dot -Tjson`` on ``source``; :class:`LayoutUnavailable` if it is missing or fails."""
    program = shutil.which("dot")
    if program is None:
        raise LayoutUnavailable("Graphviz's dot is not installed")
    try:
        done = subprocess.run(  # noqa: S603 - a fixed program; the graph goes in on standard input
            [program, "-Tjson"],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=DOT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise LayoutUnavailable(f"dot failed: {error}") from error
    if done.returncode != 0:
        raise LayoutUnavailable(f"dot failed: {done.stderr.decode('utf-8', 'replace')[:300]}")
    try:
        parsed: dict[str, Any] = json.loads(done.stdout)
    except ValueError as error:
        raise LayoutUnavailable("dot gave no readable layout") from error
    return parsed


def _points(text: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in (pair.split(",")[:2] for pair in text.split())]


def _compute_layout(snapshot: engine.Snapshot, translate: Callable[[Any], str]) -> Layout:
    source = dot_source(snapshot, translate)
    drawn = run_dot(source.text)
    _, _, graph_width, graph_height = (float(v) for v in drawn["bb"].split(","))
    shift_x, top = GUTTER + MARGIN, MARGIN

    def at(x: float, y: float) -> tuple[float, float]:
        return (round(x + shift_x, 1), round(graph_height - y + top, 1))

    objects = drawn.get("objects", [])
    by_id = {obj["name"]: obj for obj in objects}
    slug_of = {dot_id: slug for slug, dot_id in source.ids.items()}
    boxes: dict[str, Box] = {}
    for dot_id, slug in slug_of.items():
        node = snapshot.nodes[slug]
        lines, context, height = source.boxes[slug]
        x, y = at(*_points(by_id[dot_id]["pos"])[0])
        boxes[slug] = Box(
            slug=slug,
            kind=node.kind,
            stage=node.stage,
            lines=lines,
            context=context,
            x=round(x - NODE_WIDTH / 2, 1),
            y=round(y - height / 2, 1),
            width=NODE_WIDTH,
            height=height,
        )
    gvid = {obj["_gvid"]: obj["name"] for obj in objects}
    links: list[Link] = []
    for edge in drawn.get("edges", []):
        tail, head = slug_of.get(gvid[edge["tail"]]), slug_of.get(gvid[edge["head"]])
        if tail is None or head is None or edge.get("style") == "invis":
            continue
        label_x, label_y = at(*_points(edge["lp"])[0]) if "lp" in edge else (0.0, 0.0)
        links.append(
            Link(
                source=tail,
                target=head,
                path=_path(edge["pos"], at),
                conditions=tuple(e.conditions for e in source.pairs[(tail, head)]),
                label=source.labels[(tail, head)],
                label_x=label_x,
                label_y=label_y,
            )
        )
    bands = []
    members: dict[int, list[Box]] = {}
    for slug, box in boxes.items():
        members.setdefault(source.band[slug], []).append(box)
    numbers = sorted(members)
    total_height = graph_height + 2 * MARGIN
    edges_of = [min(b.y for b in members[n]) for n in numbers]
    ends = [max(b.y + b.height for b in members[n]) for n in numbers]
    for index, number in enumerate(numbers):
        upper = 0.0 if index == 0 else (ends[index - 1] + edges_of[index]) / 2
        lower = total_height if index == len(numbers) - 1 else (ends[index] + edges_of[index + 1]) / 2
        bands.append(Band(stage=engine.STAGES[number], y=round(upper, 1), height=round(lower - upper, 1)))
    return Layout(
        width=round(graph_width + shift_x + MARGIN, 1),
        height=round(total_height, 1),
        boxes=boxes,
        links=tuple(links),
        bands=tuple(bands),
    )


def _path(pos: str, at: Callable[[float, float], tuple[float, float]]) -> str:
    """An SVG path from dot's spline ``pos`` ("e,x,y x,y x,y ..."), ending at the arrow's tip."""
    end = None
    points = []
    for item in pos.split():
        if item.startswith("e,"):
            end = at(*_points(item[2:])[0])
        elif not item.startswith("s,"):
            points.append(at(*_points(item)[0]))
    (x0, y0), rest = points[0], points[1:]
    parts = [f"M{x0:g},{y0:g}"]
    for index in range(0, len(rest) - 2, 3):
        (x1, y1), (x2, y2), (x3, y3) = rest[index : index + 3]
        parts.append(f"C{x1:g},{y1:g} {x2:g},{y2:g} {x3:g},{y3:g}")
    if end is not None:
        parts.append(f"L{end[0]:g},{end[1]:g}")
    return " ".join(parts)
