"""Classes of case, set at a time: the publish gate's checks over every class of walk.

The classes are numbered in enumeration order and indexed by the answer each gives to each
variable and by the recommendations each walk gets. A set of classes is a bit set (an ``int``
whose bit ``n`` is set for class ``n``): intersecting, joining and comparing sets of eleven
thousand classes are then a few machine words each, where a Python set costs a step per member.
Pure Python, no Django.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from . import engine

Classes = Sequence[tuple[dict[str, Any], engine.Evaluation]]


def bits(numbers: Iterable[int], size: int) -> int:
    """The bit set of ``numbers`` (each below ``size``)."""
    made = bytearray((size + 7) // 8)
    for number in numbers:
        made[number >> 3] |= 1 << (number & 7)
    return int.from_bytes(made, "little")


def numbers(found: int) -> Iterator[int]:
    """The numbers in bit set ``found``, in increasing order."""
    while found:
        lowest = found & -found
        yield lowest.bit_length() - 1
        found ^= lowest


def first(found: int) -> int:
    """The lowest number in the nonempty bit set ``found``."""
    return (found & -found).bit_length() - 1


class CaseIndex:
    """``classes`` (answers and the engine's evaluation of them), indexed as bit sets."""

    def __init__(self, classes: Classes) -> None:
        self.classes = classes
        self.size = size = len(classes)
        self.all = (1 << size) - 1
        by: dict[str, dict[Any, list[int]]] = {}
        for number, (answers, _) in enumerate(classes):
            for key, value in answers.items():
                by.setdefault(key, {}).setdefault(value, []).append(number)
        self._by = {
            key: [(value, bits(members, size)) for value, members in values.items()]
            for key, values in by.items()
        }
        self._partitions: dict[str, list[tuple[Any, int]]] = {}
        self._given: dict[str, int] | None = None
        self._asked: dict[str, int] | None = None
        self._by_codes: list[tuple[frozenset[str], int]] | None = None

    def answered(self, key: str) -> list[tuple[Any, int]]:
        """The classes by their answer to ``key``, the classes that answer it only."""
        return self._by.get(key, [])

    def partition(self, key: str) -> list[tuple[Any, int]]:
        """The classes by their answer to ``key`` (None: unanswered), nonempty parts only."""
        found = self._partitions.get(key)
        if found is None:
            answered = self.answered(key)
            unanswered = self.all
            for _, having in answered:
                unanswered &= ~having
            found = self._partitions[key] = [(None, unanswered), *answered] if unanswered else answered
        return found

    def groups(self, keys: Sequence[str]) -> list[tuple[dict[str, Any], int]]:
        """The classes grouped by their answers to ``keys`` (an unanswered key is absent from the
        answers), the groups that have a class only."""
        found: list[tuple[dict[str, Any], int]] = []
        self._split(keys, 0, {}, self.all, found)
        return found

    def _split(
        self,
        keys: Sequence[str],
        index: int,
        answers: dict[str, Any],
        members: int,
        found: list[tuple[dict[str, Any], int]],
    ) -> None:
        # A method, not a closure calling itself: such a closure is a reference cycle, and would
        # keep the index (and all it holds) until the cycle collector runs.
        if index == len(keys):
            found.append((answers, members))
            return
        key = keys[index]
        for value, having in self.partition(key):
            part = members & having
            if part:
                self._split(
                    keys, index + 1, answers if value is None else {**answers, key: value}, part, found
                )

    def where(self, conditions: Sequence[engine.Condition]) -> int:
        """The classes whose answers satisfy every one of ``conditions`` (each tested once per
        distinct answer to its variable; a class that does not answer it does not satisfy it)."""
        matching = self.all
        for condition in conditions:
            holding = 0
            for value, having in self.answered(condition.variable):
                if condition.holds({condition.variable: value}):
                    holding |= having
            matching &= holding
            if not matching:
                break
        return matching

    def given(self, code: str) -> int:
        """The classes whose walk gets the recommendation ``code``."""
        return self._giving().get(code, 0)

    def given_codes(self) -> set[str]:
        """The recommendations some class's walk gets."""
        return set(self._giving())

    def _giving(self) -> dict[str, int]:
        if self._given is None:
            self._given = self._sets(lambda result: (rec.code for rec in result.recommendations))
        return self._given

    def complete(self) -> int:
        """The classes whose walk is complete."""
        return bits((number for number, (_, result) in enumerate(self.classes) if result.complete), self.size)

    def asked(self, key: str) -> int:
        """The classes whose walk asks ``key``."""
        return self._asking().get(key, 0)

    def asked_keys(self) -> set[str]:
        """The variables some class's walk asks."""
        return set(self._asking())

    def _asking(self) -> dict[str, int]:
        if self._asked is None:
            self._asked = self._sets(lambda result: result.asked)
        return self._asked

    def _sets(self, names: Callable[[engine.Evaluation], Iterable[str]]) -> dict[str, int]:
        """The classes by each name ``names`` gives for their walk."""
        members: dict[str, list[int]] = {}
        for number, (_, result) in enumerate(self.classes):
            for name in names(result):
                members.setdefault(name, []).append(number)
        return {name: bits(found, self.size) for name, found in members.items()}

    def by_codes(self) -> list[tuple[frozenset[str], int]]:
        """The classes grouped by the set of recommendations their walk gets."""
        if self._by_codes is None:
            groups: dict[frozenset[str], list[int]] = {}
            for number, (_, result) in enumerate(self.classes):
                groups.setdefault(frozenset(rec.code for rec in result.recommendations), []).append(number)
            self._by_codes = [(codes, bits(members, self.size)) for codes, members in groups.items()]
        return self._by_codes
