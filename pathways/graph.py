"""The pathway's graph: what is reachable, a topological order, a cycle.

Pure Python on node names and a successor function (a node's edge targets, in edge order), so the
publish gate and the engine walk a graph one way. The flowchart's layout orders its own rows.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

N = TypeVar("N", bound=Hashable)
Successors = Callable[[N], Iterable[N]]


def reachable(start: N, successors: Successors[N]) -> list[N]:
    """``start`` and every node reachable from it, in the order a depth-first search visits them."""
    reached: list[N] = []
    seen = {start}
    stack = [start]
    while stack:
        node = stack.pop()
        reached.append(node)
        for target in successors(node):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return reached


def topological(start: N, successors: Successors[N]) -> list[N]:
    """The nodes reachable from ``start``, each after all its reachable predecessors.

    On a graph with a cycle, the nodes on or after the cycle are left out.
    """
    reached = reachable(start, successors)
    indegree = dict.fromkeys(reached, 0)
    for node in reached:
        for target in successors(node):
            indegree[target] += 1
    ready = [node for node in reached if indegree[node] == 0]
    order: list[N] = []
    while ready:
        node = ready.pop()
        order.append(node)
        for target in successors(node):
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    return order


def find_cycle(nodes: Iterable[N], successors: Successors[N]) -> list[N]:
    """One cycle as the nodes along it, first and last the same; empty if there is none."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(nodes, white)
    for root in list(colour):
        if colour[root] != white:
            continue
        path = [root]
        iterators = [iter(successors(root))]
        colour[root] = grey
        while iterators:
            target = next(iterators[-1], None)
            if target is None:
                colour[path.pop()] = black
                iterators.pop()
                continue
            if colour[target] == grey:
                return [*path[path.index(target) :], target]
            if colour[target] == white:
                colour[target] = grey
                path.append(target)
                iterators.append(iter(successors(target)))
    return []
