"""The words on the flowchart: each arrow's criterion and what tells boxes of one title apart.

Pure Python, no Django: the criteria are the engine's own descriptions of the edges' conditions
(short form), and a box's context is worked out from the conditions on the ways into it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .. import engine

Translate = Callable[[Any], str]

ANY_ANSWER = "any answer"
MAX_VISITS = 20_000  # (node, state) pairs explored when working out the contexts


def _plain(value: Any) -> str:
    return str(value)


def criterion(
    snapshot: engine.Snapshot, node: engine.Node, edges: Iterable[engine.Edge], translate: Translate = _plain
) -> str:
    """The criterion of the arrow from ``node`` along ``edges`` (one or more edges to one target).

    A condition on a variable the node asks reads short ("> 2 cm", "Insulinoma", "Yes"); one on
    an earlier answer keeps its variable's label ("Biochemical result: not Gastrinoma"). An arrow
    out of a question with no condition reads "any answer"; one out of any other step, "".
    """
    asked = set(node.fields)
    groups = []
    for edge in edges:
        own, earlier = [], []
        for condition in edge.conditions:
            short = translate(condition.describe(snapshot.variables, short=True))
            variable = snapshot.variables.get(condition.variable)
            if condition.variable in asked or variable is None:
                own.append(short)
            else:
                earlier.append(f"{variable.label}: {short}")
        groups.append("; ".join(([" and ".join(own)] if own else []) + earlier))
    if not all(groups):
        return ANY_ANSWER if node.kind == engine.QUESTION else ""
    return "\n".join(groups)


def _categorical(variable: engine.Variable) -> tuple[Any, ...] | None:
    if variable.kind == engine.CHOICE:
        return variable.choice_values
    if variable.kind == engine.BOOLEAN:
        return (True, False)
    return None


def _narrow(values: frozenset[Any], condition: engine.Condition) -> frozenset[Any]:
    if condition.op == "eq":
        return values & {condition.value}
    if condition.op == "ne":
        return values - {condition.value}
    if condition.op == "in":
        return values & set(condition.value)
    if condition.op == "not_in":
        return values - set(condition.value)
    return values


State = tuple[tuple[str, frozenset[Any]], ...]  # answered choice/yes-no variables, in asking order


def _arrivals(snapshot: engine.Snapshot, wanted: set[str]) -> dict[str, list[State]]:
    """For each node of ``wanted``: what the ways into it leave possible of the earlier choices."""
    domains = {key: _categorical(v) for key, v in snapshot.variables.items()}
    found: dict[str, list[State]] = {slug: [] for slug in wanted}
    seen: set[tuple[str, State]] = set()
    stack: list[tuple[str, State]] = [(snapshot.start, ())]
    while stack and len(seen) < MAX_VISITS:
        slug, state = stack.pop()
        node = snapshot.nodes.get(slug)
        if node is None or (slug, state) in seen:
            continue
        seen.add((slug, state))
        if slug in wanted:
            found[slug].append(state)
        known = dict(state)
        order = [key for key, _ in state]
        for key in node.fields:
            domain = domains.get(key)
            if domain is not None and key not in known:
                known[key] = frozenset(domain)
                order.append(key)
        for edge in reversed(node.edges):
            narrowed = dict(known)
            for condition in edge.conditions:
                if condition.variable in narrowed:
                    narrowed[condition.variable] = _narrow(narrowed[condition.variable], condition)
            if all(narrowed.values()):
                stack.append((edge.target, tuple((key, narrowed[key]) for key in order)))
    return found


def contexts(snapshot: engine.Snapshot, translate: Translate = _plain) -> dict[str, str]:
    """A line for each box whose title another box shares, so that no two boxes read the same.

    The line names the earlier answers that lead to this box and not to the others of its title
    (e.g. "Suspected syndrome: Insulinoma" for one of the biochemical workups, "Disease extent:
    Metastatic" for one of the SSTR imaging questions); boxes that the answers cannot tell apart
    are numbered.
    """
    titles: dict[str, list[str]] = {}
    for slug, node in snapshot.nodes.items():
        titles.setdefault(" ".join(node.title.split()).casefold(), []).append(slug)
    groups = [group for group in titles.values() if len(group) > 1]
    if not groups:
        return {}
    arrivals = _arrivals(snapshot, {slug for group in groups for slug in group})
    possible: dict[str, dict[str, frozenset[Any]]] = {}
    order: dict[str, list[str]] = {}
    for slug, states in arrivals.items():
        keys = [key for key, _ in states[0]] if states else []
        everywhere = [key for key in keys if all(key in dict(state) for state in states)]
        possible[slug] = {
            key: frozenset().union(*(dict(state)[key] for state in states)) for key in everywhere
        }
        order[slug] = everywhere
    lines: dict[str, str] = {}
    for group in groups:
        for slug in group:
            lines[slug] = _context(
                snapshot, slug, [s for s in group if s != slug], possible, order, translate
            )
        counts: dict[str, int] = {}
        for slug in group:
            counts[lines[slug]] = counts.get(lines[slug], 0) + 1
        numbered = [slug for slug in group if counts[lines[slug]] > 1]
        for index, slug in enumerate(numbered, start=1):
            lines[slug] = f"{lines[slug]} ({index})".strip()
    return lines


def _context(
    snapshot: engine.Snapshot,
    slug: str,
    others: list[str],
    possible: Mapping[str, Mapping[str, frozenset[Any]]],
    order: Mapping[str, list[str]],
    translate: Translate,
) -> str:
    mine = possible[slug]
    candidates = [
        key for key in order[slug] if len(mine[key]) < len(_categorical(snapshot.variables[key]) or ())
    ]

    def tells_apart(key: str, other: str) -> bool:
        return possible[other].get(key) != mine[key]

    chosen: list[str] = []
    left = list(others)
    while left and candidates:
        best = max(
            candidates, key=lambda key: (sum(tells_apart(key, o) for o in left), -candidates.index(key))
        )
        if not any(tells_apart(best, o) for o in left):
            break
        chosen.append(best)
        candidates.remove(best)
        left = [o for o in left if not tells_apart(best, o)]
    parts = []
    for key in sorted(chosen, key=order[slug].index):
        variable = snapshot.variables[key]
        domain = _categorical(variable) or ()
        shown = " or ".join(translate(variable.display(value)) for value in domain if value in mine[key])
        parts.append(f"{variable.label}: {shown}")
    return "; ".join(parts)
