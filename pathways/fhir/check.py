"""Apply an exported PlanDefinition and Questionnaire with FHIRPath, and compare with the engine.

The selection rule: an action is selected when all its applicability conditions are true and its
parent (if any) is selected; an action whose ``definitionCanonical`` is a PlanDefinition of the
bundle brings that PlanDefinition's actions in, under the same rule. The selected codes are the
recommendations and newer-guidance notes.

Every expression is evaluated by ``fhirpathpy``, compiled once. The exported expressions are
boolean combinations (``and``, ``or``, ``not()``, ``iif``) of atoms that each read one item
(``item.where(linkId='k').answer.where(...).exists()``). Such an expression is compiled with each
atom replaced by an environment variable (``%a0``, ``%a1``, ...); each atom is evaluated on the
QuestionnaireResponse of its one answer, once per distinct answer, and the combination once per
distinct tuple of its atoms' values. An expression of any other shape is evaluated whole, once per
distinct tuple of the answers it reads. Either way the result is what ``fhirpathpy`` gives on the
full QuestionnaireResponse (an atom's value is a constant of the root, as its variable is), and
checking every class of case costs a few hundred small evaluations instead of thousands of large
ones.

The check works set at a time: the classes are numbered and indexed by their answers, each
expression's classes are a bit set (the groups of classes that give its atoms the same values,
where the combination holds), and the PlanDefinition is walked once, each action with the classes
that select it. The classes whose codes or enabled items differ from the engine's are then applied
class by class, as an integrator would, to say how they differ.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import fhirpathpy
from fhirpathpy import apply_parsed_path
from fhirpathpy.engine.util import set_paths
from fhirpathpy.parser import parse

from pathways import engine
from pathways.case_index import CaseIndex, numbers

from . import export
from . import expressions as fp
from . import response as qr

_ITEM = re.compile(r"item\.where\(linkId='((?:[^'\\]|\\.)*)'\)")
# What may stand between the atoms of a boolean combination.
_CONNECTIVES = re.compile(r"(?:\s+|iif|and|or|\.not\(\)|true|false|[(),])*")


def _closing(text: str, start: int) -> int | None:
    """The index just past the parenthesis that closes the one at ``text[start]``."""
    depth, quoted, index = 0, False, start
    while index < len(text):
        char = text[index]
        if quoted:
            if char == "\\":
                index += 1
            elif char == "'":
                quoted = False
        elif char == "'":
            quoted = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return None


def _atom_end(text: str, start: int) -> int | None:
    """The end of the atom ``item.where(linkId='k').answer[.where(...)].exists()`` at ``start``."""
    match = _ITEM.match(text, start)
    if match is None:
        return None
    index = match.end()
    if not text.startswith(".answer", index):
        return None
    index += len(".answer")
    if text.startswith(".where(", index):
        closed = _closing(text, index + len(".where"))
        if closed is None:
            return None
        index = closed
    if not text.startswith(".exists()", index):
        return None
    return index + len(".exists()")


def split_atoms(expression: str) -> tuple[str, tuple[str, ...]] | None:
    """``expression`` with each atom replaced by ``%aN``, and the atoms (by N).

    None when the expression is not a boolean combination of atoms (it is then evaluated whole).
    """
    parts: list[str] = []
    atoms: list[str] = []
    index = 0
    while True:
        start = expression.find("item.where(", index)
        between = expression[index:] if start < 0 else expression[index:start]
        if not _CONNECTIVES.fullmatch(between):
            return None
        parts.append(between)
        if start < 0:
            break
        end = _atom_end(expression, start)
        if end is None:
            return None
        atom = expression[start:end]
        if atom not in atoms:
            atoms.append(atom)
        parts.append(f"%a{atoms.index(atom)}")
        index = end
    return "".join(parts), tuple(atoms)


class _Expression:
    """One expression, compiled, with what its value depends on and its values so far."""

    __slots__ = ("atoms", "combined", "function", "keys", "values")

    def __init__(self, keys: tuple[str, ...], function: Any, atoms: tuple[int, ...] | None) -> None:
        self.keys = keys  # the items it reads
        self.function = function  # the whole expression, or its combination of atoms
        self.atoms = atoms  # its atoms, as indices into the applier's atoms (None: evaluated whole)
        self.values: dict[tuple[Any, ...], bool] = {}  # by the answers to ``keys``
        self.combined: dict[tuple[Any, ...], bool] = {}  # by its atoms' values


class _Action:
    """An action of the PlanDefinition: its applicability, its codes and the actions it brings in.

    Which of its children are selected depends only on the answers their conditions read
    (``keys``), so it is worked out once per distinct tuple of those answers (``picks``).
    """

    __slots__ = ("children", "codes", "conditions", "keys", "picks")

    def __init__(self, conditions: tuple[_Expression, ...], codes: tuple[str, ...]) -> None:
        self.conditions = conditions
        self.codes = codes
        self.children: tuple[_Action, ...] = ()
        self.keys: tuple[str, ...] | None = None  # worked out when first applied class by class
        self.picks: dict[tuple[Any, ...], tuple[_Action, ...]] = {}

    def adopt(self, children: Iterable[_Action]) -> None:
        self.children = tuple(children)

    def reads(self) -> tuple[str, ...]:
        if self.keys is None:
            self.keys = tuple(
                sorted(
                    {
                        key
                        for child in self.children
                        for condition in child.conditions
                        for key in condition.keys
                    }
                )
            )
        return self.keys


# Compiling is the costly part of a small evaluation (fhirpathpy parses with ANTLR): successive
# checks of versions that share most of their expressions compile each once, and a store of parsed
# expressions (the publish gate's keeps them in the database) spares the parsing in a new process.
_COMPILED: dict[str, Any] = {}
_COMPILED_KEPT = 20_000


class ParsedStore(Protocol):
    """Where fhirpathpy's parse of each expression (a tree of plain dicts and lists) is kept."""

    def load(self, expressions: Sequence[str]) -> Mapping[str, Any]:
        """The trees kept of ``expressions``, by expression (those not kept are left out)."""
        ...

    def save(self, trees: Mapping[str, Any]) -> None:
        """Keep ``trees``, by expression."""
        ...


def _compiled(expression: str) -> Any:
    function = _COMPILED.get(expression)
    if function is None:
        if len(_COMPILED) >= _COMPILED_KEPT:
            _COMPILED.clear()
        function = _COMPILED[expression] = fhirpathpy.compile(expression)
    return function


def _compile_all(expressions: Iterable[str], store: ParsedStore | None) -> None:
    """Compile ``expressions`` at once, from the trees ``store`` keeps where it has them."""
    missing = [expression for expression in dict.fromkeys(expressions) if expression not in _COMPILED]
    if not missing:
        return
    if len(_COMPILED) + len(missing) > _COMPILED_KEPT:
        _COMPILED.clear()
    kept = store.load(missing) if store is not None else {}
    parsed = {}
    for expression in missing:
        tree = kept.get(expression)
        if tree is None:
            tree = parsed[expression] = parse(expression)
        # What fhirpathpy.compile returns, given the tree instead of the text.
        _COMPILED[expression] = set_paths(apply_parsed_path, parsedPath=tree, model=None, options=None)
    if parsed and store is not None:
        store.save(parsed)


def _compiled_parts(expression: str) -> tuple[str, ...]:
    """What :class:`Applier` compiles of ``expression``: its combination and atoms, or itself."""
    split = split_atoms(expression)
    return (expression,) if split is None else (split[0], *split[1])


def _conditions(actions: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    for action in actions:
        for condition in action.get("condition", ()):
            if condition["kind"] == "applicability":
                yield condition["expression"]["expression"]
        yield from _conditions(action.get("action", ()))


class Applier:
    """The bundle's PlanDefinition and Questionnaire, applied to answers of one snapshot.

    Answers are a mapping of item to value; a value is never None (an unanswered item is absent).
    """

    def __init__(
        self, snapshot: engine.Snapshot, bundle: Mapping[str, Any], store: ParsedStore | None = None
    ) -> None:
        self.snapshot = snapshot
        self.plans = {
            url: res for url, res in export.by_url(bundle).items() if res["resourceType"] == "PlanDefinition"
        }
        found = export.resources(bundle)
        self.plan = found["PlanDefinition"]
        self.questionnaire = found["Questionnaire"]
        # Everything compiled at once: one load from the store rather than one per expression.
        written = dict.fromkeys(
            (
                *(_enable_expression(item) for item in self.questionnaire.get("item", ())),
                *(when for plan in self.plans.values() for when in _conditions(plan.get("action", ()))),
            )
        )
        _compile_all((part for when in written if when is not None for part in _compiled_parts(when)), store)
        self._expressions: dict[str, _Expression] = {}
        self._atoms: list[tuple[str, Any]] = []  # (the item it reads, compiled)
        self._atom_index: dict[str, int] = {}
        self._atom_values: dict[tuple[int, Any], list[Any]] = {}
        self.evaluations = 0
        self.enable = {
            item["linkId"]: _enable_expression(item) for item in self.questionnaire.get("item", ())
        }
        self._enabled = [
            (key, None if when is None else self._expression(when)) for key, when in self.enable.items()
        ]
        self._root = _Action((), ())
        self._root.adopt(self._tree(self.plan.get("action", ()), {}))

    def _tree(
        self, actions: Iterable[Mapping[str, Any]], made: dict[str, tuple[_Action, ...]]
    ) -> tuple[_Action, ...]:
        tree = []
        for action in actions:
            node = _Action(
                tuple(
                    self._expression(c["expression"]["expression"])
                    for c in action.get("condition", ())
                    if c["kind"] == "applicability"
                ),
                tuple(
                    coding["code"]
                    for concept in action.get("code", ())
                    for coding in concept.get("coding", ())
                ),
            )
            children: list[_Action] = []
            canonical = action.get("definitionCanonical", "")
            plan = self.plans.get(canonical)
            if plan is not None:
                if canonical not in made:  # a step's PlanDefinition is shared by its routes
                    made[canonical] = self._tree(plan.get("action", ()), made)
                children.extend(made[canonical])
            children.extend(self._tree(action.get("action", ()), made))
            node.adopt(children)
            tree.append(node)
        return tuple(tree)

    def _expression(self, expression: str) -> _Expression:
        found = self._expressions.get(expression)
        if found is not None:
            return found
        keys = fp.linkids(expression)
        split = split_atoms(expression)
        if split is None:
            found = _Expression(keys, _compiled(expression), None)
        else:
            formula, atoms = split
            indices = []
            for atom in atoms:
                if atom not in self._atom_index:
                    self._atom_index[atom] = len(self._atoms)
                    self._atoms.append((fp.linkids(atom)[0], _compiled(atom)))
                indices.append(self._atom_index[atom])
            found = _Expression(keys, _compiled(formula), tuple(indices))
        self._expressions[expression] = found
        return found

    def holds(self, expression: str, answers: Mapping[str, Any]) -> bool:
        return self._holds(self._expression(expression), answers)

    def _holds(self, expression: _Expression, answers: Mapping[str, Any]) -> bool:
        projection = tuple(map(answers.get, expression.keys))
        value = expression.values.get(projection)
        if value is None:
            if expression.atoms is None:
                shown = {k: v for k, v in zip(expression.keys, projection, strict=True) if v is not None}
                resource = qr.questionnaire_response(self.snapshot, shown, complete=True)
                value = self.evaluate(expression.function, resource)
            else:
                value = self._combine(expression, answers)
            expression.values[projection] = value
        return value

    def _combine(self, expression: _Expression, answers: Mapping[str, Any]) -> bool:
        assert expression.atoms is not None
        return self._combined(expression, tuple(self._atom(index, answers) for index in expression.atoms))

    def _combined(self, expression: _Expression, values: tuple[list[Any], ...]) -> bool:
        key = tuple(tuple(value) for value in values)
        memo = expression.combined.get(key)
        if memo is None:
            context = {f"a{n}": value for n, value in enumerate(values)}
            memo = expression.combined[key] = self.evaluate(expression.function, {}, context)
        return memo

    def _atom(self, index: int, answers: Mapping[str, Any]) -> list[Any]:
        return self._atom_value(index, answers.get(self._atoms[index][0]))

    def _atom_value(self, index: int, value: Any) -> list[Any]:
        key, function = self._atoms[index]
        memo = self._atom_values.get((index, value))
        if memo is None:
            shown = {} if value is None else {key: value}
            self.evaluations += 1
            memo = function(qr.questionnaire_response(self.snapshot, shown, complete=True))
            self._atom_values[(index, value)] = memo
        return memo

    def evaluate(self, function: Any, resource: Mapping[str, Any], context: Any = None) -> bool:
        self.evaluations += 1
        return bool(function(resource, context) == [True])

    def selected(self, answers: Mapping[str, Any]) -> list[str]:
        """The codes the PlanDefinition selects for ``answers``, in selection order."""
        codes: list[str] = []
        self._select(self._root, answers, codes)
        return list(dict.fromkeys(codes))

    def _select(self, parent: _Action, answers: Mapping[str, Any], codes: list[str]) -> None:
        projection = tuple(map(answers.get, parent.reads()))
        picked = parent.picks.get(projection)
        if picked is None:
            picked = parent.picks[projection] = tuple(
                child
                for child in parent.children
                if all(self._holds(condition, answers) for condition in child.conditions)
            )
        for child in picked:
            codes.extend(child.codes)
            if child.children:
                self._select(child, answers, codes)

    def enabled(self, answers: Mapping[str, Any]) -> list[str]:
        """The Questionnaire's items enabled for ``answers``."""
        get = answers.get
        found = []
        for key, when in self._enabled:
            if when is not None:
                value = when.values.get(tuple(map(get, when.keys)))  # what _holds looks up first
                if not (self._holds(when, answers) if value is None else value):
                    continue
            found.append(key)
        return found

    # Set at a time: the classes of case an expression holds for, as a bit set over the classes'
    # numbers, worked out once per distinct tuple of its atoms' values (or of the answers it reads).

    def holding(self, expression: _Expression, classes: _Classes) -> int:
        found = classes.holding.get(id(expression))
        if found is None:
            found = 0
            if expression.atoms is None:
                for answers, members in classes.groups(expression.keys):
                    if self._holds(expression, answers):
                        found |= members
            else:
                for values, members in self._atom_groups(expression.atoms, classes):
                    if self._combined(expression, values):
                        found |= members
            classes.holding[id(expression)] = found
        return found

    def _atom_groups(
        self, atoms: tuple[int, ...], classes: _Classes
    ) -> list[tuple[tuple[list[Any], ...], int]]:
        """The classes grouped by the values of ``atoms``, the groups that have a class only."""
        found: list[tuple[tuple[list[Any], ...], int]] = []
        self._split_atoms(atoms, classes, 0, (), classes.all, found)
        return found

    def _split_atoms(
        self,
        atoms: tuple[int, ...],
        classes: _Classes,
        index: int,
        values: tuple[list[Any], ...],
        members: int,
        found: list[tuple[tuple[list[Any], ...], int]],
    ) -> None:
        # Methods, not closures calling themselves (here and in selections): such a closure is a
        # reference cycle, and would keep the applier and the classes until the cycle collector ran.
        if index == len(atoms):
            found.append((values, members))
            return
        for value, having in self._atom_partition(atoms[index], classes):
            part = members & having
            if part:
                self._split_atoms(atoms, classes, index + 1, (*values, value), part, found)

    def _atom_partition(self, index: int, classes: _Classes) -> list[tuple[list[Any], int]]:
        """The classes by the value of atom ``index`` (evaluated once per answer to its item)."""
        found = classes.atoms.get(index)
        if found is None:
            key = self._atoms[index][0]
            values: dict[tuple[Any, ...], list[Any]] = {}
            having: dict[tuple[Any, ...], int] = {}
            for answer, members in classes.partition(key):
                value = self._atom_value(index, answer)
                values[tuple(value)] = value
                having[tuple(value)] = having.get(tuple(value), 0) | members
            found = classes.atoms[index] = [(values[seen], having[seen]) for seen in values]
        return found

    def selections(self, classes: _Classes) -> dict[str, int]:
        """For each code, the classes the PlanDefinition selects it for (what :meth:`selected` gives
        class by class)."""
        found: dict[str, int] = {}
        self._select_within(self._root, classes.all, classes, found)
        return found

    def _select_within(self, parent: _Action, within: int, classes: _Classes, found: dict[str, int]) -> None:
        for child in parent.children:
            members = within
            for condition in child.conditions:
                members &= self.holding(condition, classes)
            if not members:
                continue
            for code in child.codes:
                found[code] = found.get(code, 0) | members
            if child.children:
                self._select_within(child, members, classes, found)

    def enablings(self, classes: _Classes) -> dict[str, int]:
        """For each item, the classes the Questionnaire enables it for (what :meth:`enabled` gives
        class by class)."""
        return {
            key: classes.all if when is None else self.holding(when, classes) for key, when in self._enabled
        }


class _Classes:
    """The classes of case, indexed, with what the applier worked out over them."""

    def __init__(self, index: CaseIndex) -> None:
        self.index = index
        self.all = index.all
        self.partition = index.partition
        self.groups = index.groups
        self.holding: dict[int, int] = {}  # by expression (the applier keeps them alive)
        self.atoms: dict[int, list[tuple[list[Any], int]]] = {}  # by the applier's atom


def _enable_expression(item: Mapping[str, Any]) -> str | None:
    for extension in item.get("extension", ()):
        if extension["url"] == export.ENABLE_WHEN_EXPRESSION:
            return str(extension["valueExpression"]["expression"])
    return None


def expected_codes(
    snapshot: engine.Snapshot, answers: Mapping[str, Any], result: engine.Evaluation
) -> set[str]:
    return set(result.codes) | {note.code for note in engine.newer_guidance(snapshot, result, answers)}


def expected_classes(snapshot: engine.Snapshot, index: CaseIndex) -> dict[str, int]:
    """For each code, the classes :func:`expected_codes` gives it for, set at a time: the walks
    that get the recommendation, and for a newer-guidance note the complete walks it shows on
    (where ``Note.shows`` lets it show by the walk's codes, and each of its conditions holds on an
    answer the walk asked)."""
    expected = {code: index.given(code) for code in index.given_codes()}
    complete = index.complete()
    for note in snapshot.notes:
        by_codes = replace(note, conditions=())
        members = 0
        for codes, having in index.by_codes():
            if by_codes.shows(codes, {}):
                members |= having
        members &= complete
        for condition in note.conditions:
            members &= index.where((condition,)) & index.asked(condition.variable)
        if members:
            expected[note.code] = expected.get(note.code, 0) | members
    return expected


@dataclass(frozen=True, slots=True)
class Disagreement:
    """A class of case where the export decides otherwise than the engine."""

    answers: dict[str, Any]
    added: tuple[str, ...] = ()  # codes the PlanDefinition selects and the engine does not give
    lacking: tuple[str, ...] = ()  # codes the engine gives and the PlanDefinition does not select
    enabled_too: tuple[str, ...] = ()  # items the Questionnaire enables that the walk never asks
    not_enabled: tuple[str, ...] = ()  # items the walk asks that the Questionnaire does not enable

    def __str__(self) -> str:
        if self.added or self.lacking:
            return f"the PlanDefinition adds {list(self.added)} and lacks {list(self.lacking)}"
        return f"the Questionnaire enables {list(self.enabled_too)} too and not {list(self.not_enabled)}"


def case_classes(snapshot: engine.Snapshot) -> list[tuple[dict[str, Any], engine.Evaluation]]:
    """Every class of complete walk, cut also where a newer-guidance note's conditions cut."""
    return list(engine.enumerate_cases(snapshot, (c for note in snapshot.notes for c in note.conditions)))


def disagreements(
    snapshot: engine.Snapshot,
    bundle: Mapping[str, Any],
    limit: int = 5,
    classes: Sequence[tuple[dict[str, Any], engine.Evaluation]] | None = None,
    index: CaseIndex | None = None,
    store: ParsedStore | None = None,
) -> list[Disagreement]:
    """Cases (one per class of complete walk) where the export and the engine differ, and how.

    ``classes``: the classes to check (by default :func:`case_classes`); they must be cut at least
    where the notes' conditions cut. ``index``: those classes already indexed (the gate's).
    ``store``: where parsed expressions are kept between processes.
    """
    applier = Applier(snapshot, bundle, store)
    if index is None:
        index = CaseIndex(case_classes(snapshot) if classes is None else classes)
    cases = index.classes
    expected = expected_classes(snapshot, index)
    wrong = 0
    sets = _Classes(index)
    selected = applier.selections(sets)
    for code in selected.keys() | expected.keys():
        wrong |= selected.get(code, 0) ^ expected.get(code, 0)
    enabled = applier.enablings(sets)
    for key in enabled.keys() | index.asked_keys():
        wrong |= enabled.get(key, 0) ^ index.asked(key)
    # How each of the first classes found differs, class by class as an integrator would apply it.
    found: list[Disagreement] = []
    for number in itertools.islice(numbers(wrong), limit):
        answers, result = cases[number]
        chosen = set(applier.selected(answers))
        expected_here = expected_codes(snapshot, answers, result)
        if chosen != expected_here:
            found.append(
                Disagreement(
                    answers,
                    added=tuple(sorted(chosen - expected_here)),
                    lacking=tuple(sorted(expected_here - chosen)),
                )
            )
        else:
            on, walked = set(applier.enabled(answers)), set(result.asked)
            found.append(
                Disagreement(
                    answers,
                    enabled_too=tuple(sorted(on - walked)),
                    not_enabled=tuple(sorted(walked - on)),
                )
            )
    return found
