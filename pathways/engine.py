"""Evaluate a walk through a pathway version.

Pure Python: no Django import, so the routing rules can be tested, benchmarked and reused (API,
command line, wizard, validator) without a database. A pathway version is turned once into an
immutable :class:`Snapshot`; :func:`evaluate` walks it for a set of answers.
"""

from __future__ import annotations

import json
import math
import operator
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from types import MappingProxyType
from typing import Any

from . import graph

Value = str | bool | float | int

# Variable kinds and node kinds, shared with the models (which import them).
CHOICE = "choice"
BOOLEAN = "boolean"
NUMBER = "number"
VARIABLE_KINDS = (CHOICE, BOOLEAN, NUMBER)

QUESTION = "question"
INFO = "info"
OUTCOME = "outcome"
NODE_KINDS = (QUESTION, INFO, OUTCOME)

STAGES = ("workup", "imaging", "pathology", "management")

# Condition operators. Every condition is (variable, operator, value): no expressions, no eval.
OPERATORS = {
    "eq": "=",
    "ne": "≠",
    "in": "is one of",
    "not_in": "is none of",
    "lt": "<",
    "le": "≤",
    "gt": ">",
    "ge": "≥",
}
SET_OPERATORS = ("in", "not_in")
ORDER_OPERATORS = ("lt", "le", "gt", "ge")

# Operator name to test, looked up once per condition instead of a chain of comparisons.
_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "in": lambda actual, value: actual in value,
    "not_in": lambda actual, value: actual not in value,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}
_MISSING = object()

_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)
_MAX_NUMBER_TEXT = 24
# A typed number: ASCII digits with "." or "," inside, then perhaps a unit (letters, %, µ, /).
_TYPED = re.compile(r"(-?[0-9.,]*[0-9][0-9.,]*|-?[.,][0-9]+)\s*(\S.*)?", re.ASCII | re.DOTALL)
# "1,500" or "12,000": a comma before exactly three digits may be a thousands separator.
_GROUPED = re.compile(r"-?[0-9]{1,3},[0-9]{3}", re.ASCII)
# Units a clinician may type instead of the asked one, with the factor to it: the value is refused
# with the conversion shown (lengths only; a laboratory unit's factor depends on the substance, so
# a variable's content lists the other units it accepts, see :class:`OtherUnit`).
_UNIT_FACTORS = {("mm", "cm"): 0.1, ("cm", "mm"): 10.0}
# A converted value keeps this many significant digits (5.5 mmol/L of glucose is 99.09 mg/dL).
CONVERTED_DIGITS = 4


def gettext_noop(message: str) -> str:
    """Mark ``message`` for the translation catalogue without translating it (no Django here)."""
    return message


class Message(str):
    """An English message that keeps its msgid and parameters.

    It is the plain English string everywhere (API, command line, comparisons); a caller with a
    translation catalogue (the web forms) can rebuild it in the user's language from ``msgid``
    and ``params``, translating parameters that are themselves messages.
    """

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, **params: Any) -> Message:
        message = super().__new__(cls, msgid % params if params else msgid)
        message.msgid = msgid
        message.params = params
        return message


class PathwayError(Exception):
    """The pathway content itself is broken (e.g. a question with no matching edge)."""


@dataclass(frozen=True, slots=True)
class OtherUnit:
    """A unit a number may also be entered in: ``factor`` of the variable's unit make one of it.

    ``basis`` says where the factor comes from (e.g. the substance's molar mass); it is shown with
    every converted value.
    """

    unit: str
    factor: float
    basis: str = ""


@dataclass(frozen=True, slots=True)
class Entry:
    """A typed form value read: the value (or None), why it was refused, how it was converted."""

    value: Value | None
    error: str | None = None
    converted: str | None = None


@dataclass(frozen=True, slots=True)
class Variable:
    key: str
    label: str
    kind: str
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    minimum_inclusive: bool = True
    maximum_inclusive: bool = True
    choices: tuple[tuple[str, str], ...] = ()
    help: str = ""
    optional: bool = False
    other_units: tuple[OtherUnit, ...] = ()

    @property
    def choice_values(self) -> tuple[str, ...]:
        return tuple(value for value, _ in self.choices)

    def choice_label(self, value: str) -> str:
        for choice, label in self.choices:
            if choice == value:
                return label
        return value

    def bounds_text(self) -> str:
        low = high = None
        if self.minimum is not None:
            low = Message(
                gettext_noop("at least %(number)s")
                if self.minimum_inclusive
                else gettext_noop("more than %(number)s"),
                number=format_number(self.minimum, grouped=True),
            )
        if self.maximum is not None:
            high = Message(
                gettext_noop("at most %(number)s")
                if self.maximum_inclusive
                else gettext_noop("less than %(number)s"),
                number=format_number(self.maximum, grouped=True),
            )
        if low is not None and high is not None:
            text: str = Message(gettext_noop("%(low)s and %(high)s"), low=low, high=high)
        else:
            text = low or high or ""
        if text and self.unit:
            return Message("%(range)s %(unit)s", range=text, unit=self.unit)
        return text

    def check(self, value: Any) -> str | None:
        """Return a message if ``value`` is not a valid typed value of this variable, else None."""
        if self.kind == CHOICE:
            if not isinstance(value, str):
                return Message(gettext_noop("Choose one of the offered options."))
            if value not in self.choice_values:
                return Message(
                    gettext_noop("“%(value)s” is not one of the options: %(options)s."),
                    value=safe_text(value, 40),
                    options=", ".join(self.choice_values),
                )
            return None
        if self.kind == BOOLEAN:
            if not isinstance(value, bool):
                return Message(gettext_noop("Answer yes (true) or no (false)."))
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return Message(gettext_noop("Enter a number."))
        try:
            number = float(value)
        except OverflowError:
            # An integer too long for a float (JSON allows hundreds of digits) is beyond any range.
            number = math.inf if value > 0 else -math.inf
        else:
            if not math.isfinite(number):
                return Message(gettext_noop("Enter a finite number."))
        if not self.in_bounds(number):
            return Message(gettext_noop("Enter a number %(bounds)s."), bounds=self.bounds_text())
        if not math.isfinite(number):
            return Message(gettext_noop("Enter a finite number."))
        return None

    def in_bounds(self, number: float) -> bool:
        low, high = self.minimum, self.maximum
        too_low = low is not None and (number < low or (number == low and not self.minimum_inclusive))
        too_high = high is not None and (number > high or (number == high and not self.maximum_inclusive))
        return not (too_low or too_high)

    def parse_text(self, text: str) -> tuple[Value | None, str | None]:
        """Parse a submitted form string strictly: plain ASCII decimals only, no exponents."""
        entry = self.read(text)
        return (entry.value, entry.error)

    def read(self, text: str) -> Entry:
        """Read a submitted form string: the typed value, or why it is refused, and any conversion.

        A number is ASCII digits with a decimal point or comma ("1,5" is 1.5, "1,500" is refused as
        ambiguous), no exponents, perhaps followed by this variable's unit or one of its
        ``other_units`` (converted, and the conversion said).
        """
        text = text.strip()
        if self.kind == CHOICE:
            return Entry(text, self.check(text))
        if self.kind == BOOLEAN:
            if text == "true":
                return Entry(True)
            if text == "false":
                return Entry(False)
            return Entry(None, Message(gettext_noop("Answer yes or no.")))
        plain = Message(
            gettext_noop("Enter a plain number with digits and an optional decimal point, e.g. 1.5.")
        )
        text = " ".join(text.split())  # no-break and thin spaces (a keyboard's or a paste's) are spaces
        typed = _TYPED.fullmatch(text) if len(text) <= _MAX_NUMBER_TEXT else None
        if typed is None:
            return Entry(None, plain)
        digits, unit = typed.group(1), typed.group(2)
        other = self._other_unit(unit) if unit is not None else None
        own = unit is not None and bool(self.unit) and unit_key(unit) == unit_key(self.unit)
        if unit is not None and not own and other is None:
            # "1e3", "0x10", "1_0", "1 2": not a number and a unit (a unit's digits follow a "/").
            if not (unit[0].isalpha() or unit[0] in "%µμ") or (
                "/" not in unit and any(c.isdigit() for c in unit)
            ):
                return Entry(None, plain)
            return Entry(None, self._unit_problem(digits, unit))
        if "," in digits:
            if "." in digits or digits.count(",") > 1:
                return Entry(None, plain)
            if _GROUPED.fullmatch(digits):
                return Entry(
                    None,
                    Message(
                        gettext_noop(
                            "“%(text)s” could mean %(decimal)s or %(whole)s: type it with a decimal "
                            "point, e.g. %(decimal)s."
                        ),
                        text=digits,
                        decimal=digits.replace(",", "."),
                        whole=digits.replace(",", ""),
                    ),
                )
            digits = digits.replace(",", ".")  # a decimal comma: "1,5" is 1.5, never 15
        if not _DECIMAL.fullmatch(digits):
            return Entry(None, plain)
        parsed = float(digits)
        number = int(parsed) if parsed.is_integer() and "." not in digits else parsed
        if other is None:
            return Entry(number, self.check(number))
        return self._converted(number, other)

    def _other_unit(self, unit: str) -> OtherUnit | None:
        typed = unit_key(unit)
        return next((other for other in self.other_units if unit_key(other.unit) == typed), None)

    def _converted(self, typed: float | int, other: OtherUnit) -> Entry:
        """``typed`` in the ``other`` unit, as this variable's value, saying how it was converted."""
        value = converted_value(typed, other.factor)
        said = Message(
            gettext_noop(
                "%(typed)s %(typed_unit)s is %(value)s %(unit)s "
                "(1 %(typed_unit)s = %(factor)s %(unit)s; %(basis)s)."
            )
            if other.basis
            else gettext_noop(
                "%(typed)s %(typed_unit)s is %(value)s %(unit)s (1 %(typed_unit)s = %(factor)s %(unit)s)."
            ),
            typed=format_number(typed, grouped=True),
            typed_unit=other.unit,
            value=format_number(value, grouped=True),
            unit=self.unit,
            factor=format_number(other.factor, grouped=True),
            basis=other.basis,
        )
        problem = self.check(value)
        if problem:
            return Entry(None, Message("%(said)s %(problem)s", said=said, problem=problem))
        return Entry(value, None, said)

    def _unit_problem(self, digits: str, unit: str) -> str:
        """Why ``unit``, typed after the number, is refused (it is neither this variable's own nor
        one of its other units)."""
        typed, own = unit_key(unit), unit_key(self.unit)
        if not self.unit:
            return Message(gettext_noop("Enter the number only, without a unit."))
        factor = _UNIT_FACTORS.get((typed, own))
        number = digits.replace(",", ".")
        if factor is not None and _DECIMAL.fullmatch(number):
            return Message(
                gettext_noop(
                    "Enter the value in %(unit)s: %(typed)s %(typed_unit)s is %(converted)s %(unit)s."
                ),
                unit=self.unit,
                typed=digits,
                typed_unit=safe_text(unit, 12),
                converted=format_number(round(float(number) * factor, 6)),
            )
        if self.other_units:
            return Message(
                gettext_noop("Enter the value in %(unit)s or %(others)s (“%(typed_unit)s” is neither)."),
                unit=self.unit,
                others=", ".join(other.unit for other in self.other_units),
                typed_unit=safe_text(unit, 12),
            )
        return Message(
            gettext_noop("Enter the value in %(unit)s (“%(typed_unit)s” is not that unit)."),
            unit=self.unit,
            typed_unit=safe_text(unit, 12),
        )

    def display(self, value: Any) -> str:
        if self.kind == CHOICE:
            return self.choice_label(value)
        if self.kind == BOOLEAN:
            return Message(gettext_noop("Yes")) if value else Message(gettext_noop("No"))
        return f"{format_number(value, grouped=True)} {self.unit}".strip()


def converted_value(typed: float | int, factor: float) -> float | int:
    """``typed`` times ``factor``, to :data:`CONVERTED_DIGITS` significant digits (never fewer
    than its whole part): an identical unit (factor 1) keeps the number as typed."""
    if factor == 1:
        return typed
    value = typed * factor
    if value == 0 or not math.isfinite(value):
        return value
    digits = max(0, CONVERTED_DIGITS - (math.floor(math.log10(abs(value))) + 1))
    rounded = round(value, digits)
    return int(rounded) if float(rounded).is_integer() else rounded


def unit_key(unit: str) -> str:
    """A unit as compared: lower case, no spaces, micro as u ("µU/mL" and "uu/ml" are the same)."""
    return "".join(unit.split()).lower().replace("µ", "u").replace("μ", "u")


def safe_text(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, lone surrogates escaped, so it always encodes as UTF-8."""
    return text[:limit].encode("utf-8", "backslashreplace").decode("utf-8")


def format_number(value: float | int, *, grouped: bool = False) -> str:
    """A number as people read it: no trailing ".0"; with ``grouped``, thousands separated."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return f"{value:,}" if grouped else str(value)
    text = repr(float(value))  # the shortest text that reads back as the same number, e.g. 1.8
    if grouped and "e" not in text and not text.startswith("-"):
        whole, _, fraction = text.partition(".")
        text = f"{int(whole):,}.{fraction}"
    return text


@dataclass(frozen=True, slots=True)
class Condition:
    variable: str
    op: str
    value: Any

    def holds(self, answers: Mapping[str, Any]) -> bool:
        """Whether the condition holds; a condition on an unanswered variable never holds."""
        actual = answers.get(self.variable, _MISSING)
        if actual is _MISSING:
            return False
        test = _TESTS.get(self.op)
        if test is None:
            raise PathwayError(f"unknown operator {self.op!r}")
        return test(actual, self.value)

    def describe(self, variables: Mapping[str, Variable], *, short: bool = False) -> str:
        """The condition in words: "Tumour size > 2 cm"; with ``short``, without the variable's
        label ("> 2 cm", "Insulinoma", "not Gastrinoma", "Yes"), as on an arrow out of the
        question that asks it."""
        variable = variables.get(self.variable)
        label = variable.label if variable else self.variable

        def show(value: Any) -> str:
            return variable.display(value) if variable else str(value)

        if short:
            if self.op in SET_OPERATORS:
                shown = " or ".join(show(v) for v in self.value)
                return shown if self.op == "in" else f"not {shown}"
            if self.op in ("eq", "ne"):
                return show(self.value) if self.op == "eq" else f"not {show(self.value)}"
            return f"{OPERATORS[self.op]} {show(self.value)}"
        if self.op in SET_OPERATORS:
            shown = ", ".join(show(v) for v in self.value)
            return f"{label} {OPERATORS[self.op]} {{{shown}}}"
        # Words read better than "=" and "≠" for answers like "Metastatic".
        word = {"eq": "is", "ne": "is not"}.get(self.op, OPERATORS[self.op])
        return f"{label} {word} {show(self.value)}"


@dataclass(frozen=True, slots=True)
class Reference:
    label: str
    citation: str
    url: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Recommendation:
    code: str
    section: str
    title: str
    text: str
    conditions: tuple[Condition, ...] = ()
    citations: tuple[str, ...] = ()
    note: str = ""

    def applies(self, answers: Mapping[str, Any]) -> bool:
        return all(condition.holds(answers) for condition in self.conditions)


@dataclass(frozen=True, slots=True)
class Note:
    """Where newer guidance differs from the source: shown beside a result, never routing it.

    Shown on a complete walk when any of ``when_codes`` is recommended (empty: on every complete
    walk), none of ``unless_codes`` is, and all ``conditions`` hold.
    """

    code: str
    text: str
    source: str
    checked_on: date | None = None
    source_url: str = ""
    when_codes: tuple[str, ...] = ()
    unless_codes: tuple[str, ...] = ()
    conditions: tuple[Condition, ...] = ()

    def shows(self, codes: frozenset[str] | set[str], answers: Mapping[str, Any]) -> bool:
        if self.when_codes and codes.isdisjoint(self.when_codes):
            return False
        if not codes.isdisjoint(self.unless_codes):
            return False
        return _all_hold(self.conditions, answers)


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    order: int
    conditions: tuple[Condition, ...] = ()
    note: str = ""

    def matches(self, answers: Mapping[str, Any]) -> bool:
        return all(condition.holds(answers) for condition in self.conditions)


@dataclass(frozen=True, slots=True)
class Node:
    slug: str
    kind: str
    stage: str
    title: str
    body: str = ""
    fields: tuple[str, ...] = ()
    edges: tuple[Edge, ...] = ()
    recommendations: tuple[Recommendation, ...] = ()


@dataclass(frozen=True)
class Snapshot:
    """An immutable, self-contained view of one pathway version."""

    pathway: str
    version: int
    start: str
    nodes: Mapping[str, Node]
    variables: Mapping[str, Variable]
    references: Mapping[str, Reference]
    recommendations: Mapping[str, Recommendation]
    title: str = ""
    version_id: int | None = None
    notes: tuple[Note, ...] = ()
    # Required fields per node, worked out once: evaluate() asks for them at every step.
    _required: Mapping[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)
    # The last evaluations made by :func:`recall`, by answers.
    _recalled: OrderedDict[tuple[Any, ...], Evaluation] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_recalled", OrderedDict())
        variables = self.variables
        required = {}
        for slug, node in self.nodes.items():
            if all(key in variables for key in node.fields):
                required[slug] = tuple(key for key in node.fields if not variables[key].optional)
        object.__setattr__(self, "_required", MappingProxyType(required))

    def required_fields(self, node: Node) -> tuple[str, ...]:
        required = self._required.get(node.slug)
        if required is not None and self.nodes.get(node.slug) is node:
            return required
        return tuple(key for key in node.fields if not self.variables[key].optional)


@dataclass(frozen=True, slots=True)
class FiredCondition:
    condition: Condition
    value: Any


@dataclass(frozen=True, slots=True)
class Decision:
    """One step of the why-trace: at ``node`` the walk took ``edge`` because of ``fired``."""

    node: str
    edge: Edge
    fired: tuple[FiredCondition, ...]


@dataclass(frozen=True, slots=True)
class Why:
    """Why a recommendation was given.

    ``node`` is the step that gave it; ``decisions`` are the decisions taken on the path before
    that step (none taken at or after it); ``fired`` are the recommendation's own conditions with
    the answers that made them hold.
    """

    node: str
    decisions: tuple[Decision, ...]
    fired: tuple[FiredCondition, ...]


@dataclass(frozen=True)
class Evaluation:
    path: tuple[str, ...]
    current: str | None
    outcome: str | None
    recommendations: tuple[Recommendation, ...]
    missing: tuple[str, ...]
    ignored: tuple[str, ...]
    trace: tuple[Decision, ...]
    asked: tuple[str, ...] = field(default=())
    # By recommendation code: the step that gave it and how many decisions came before that step.
    given: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    answers: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def complete(self) -> bool:
        return self.outcome is not None

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(rec.code for rec in self.recommendations)

    @cached_property
    def why(self) -> Mapping[str, Why]:
        """Why each recommendation was given, by its code (worked out when first asked for)."""
        why = {}
        for rec in self.recommendations:
            node, taken = self.given[rec.code]
            fired = tuple(FiredCondition(c, self.answers[c.variable]) for c in rec.conditions)
            why[rec.code] = Why(node, self.trace[:taken], fired)
        return MappingProxyType(why)


def evaluate(snapshot: Snapshot, answers: Mapping[str, Any]) -> Evaluation:
    """Walk ``snapshot`` from its start with ``answers`` (already validated, typed values).

    Stops at the first question whose required variables are not all answered (the current
    step) or at an outcome. Recommendations are collected from every node on the path, in path
    order, when their own conditions hold; each keeps the step that gave it and the decisions
    taken before it (:class:`Why`). Cost grows with the path length, not the graph size.
    """
    walk = _Walk()
    current, outcome, missing = _advance(snapshot, answers, walk, snapshot.start)
    return _evaluation(snapshot, answers, walk, current, outcome, missing)


# How many evaluations a snapshot remembers (:func:`recall`).
RECALLED = 1024
_recall_lock = threading.Lock()


def recall(snapshot: Snapshot, answers: Mapping[str, Any]) -> Evaluation:
    """:func:`evaluate`, remembered for the snapshot's last :data:`RECALLED` distinct answers.

    A wizard step first evaluates the answers as the step before it left them. An evaluation is
    immutable and holds a copy of its answers, so one can serve every caller with equal answers:
    the same keys in the same order (the order of ``ignored``), each value of the same type.
    """
    try:
        key = tuple((name, type(value), value) for name, value in answers.items())
        memo = snapshot._recalled
        result = memo.get(key)
    except TypeError:  # an unhashable value (never a validated answer)
        return evaluate(snapshot, answers)
    if result is None:
        result = evaluate(snapshot, answers)
        with _recall_lock:
            memo[key] = result
            if len(memo) > RECALLED:
                memo.popitem(last=False)
    else:
        with _recall_lock:
            if key in memo:
                memo.move_to_end(key)
    return result


class _Walk:
    """What a walk has collected so far: the steps it took, the variables they ask, its decisions
    and the recommendations given (with, by code, the step that gave each and how many decisions
    had been taken before that step)."""

    __slots__ = ("asked", "given", "path", "recommendations", "seen", "trace")

    def __init__(self) -> None:
        self.path: list[str] = []
        self.seen: set[str] = set()
        self.asked: dict[str, None] = {}  # an ordered set
        self.trace: list[Decision] = []
        self.recommendations: dict[str, Recommendation] = {}
        self.given: dict[str, tuple[str, int]] = {}

    def copy(self) -> _Walk:
        walk = _Walk.__new__(_Walk)
        walk.path = self.path.copy()
        walk.seen = self.seen.copy()
        walk.asked = self.asked.copy()
        walk.trace = self.trace.copy()
        walk.recommendations = self.recommendations.copy()
        walk.given = self.given.copy()
        return walk

    def reopen(self) -> str:
        """Undo the last step taken (where the walk stopped) and return it, so that it is taken
        again with more answers.

        Its variables stay asked: taking it again asks them in the same order. The recommendations
        it gave are the last ones collected (a step is taken once per walk).
        """
        slug = self.path.pop()
        self.seen.discard(slug)
        recommendations, given = self.recommendations, self.given
        while recommendations:
            code = next(reversed(recommendations))
            if given[code][0] != slug:
                break
            del recommendations[code], given[code]
        return slug


def _advance(
    snapshot: Snapshot, answers: Mapping[str, Any], walk: _Walk, slug: str
) -> tuple[str | None, str | None, tuple[str, ...]]:
    """Walk on from the step ``slug``, collecting into ``walk``, to the step where the walk stops.

    Returns the current step (a question missing answers) or the outcome, and the missing variables.
    """
    path, seen, asked, trace = walk.path, walk.seen, walk.asked, walk.trace
    recommendations, given = walk.recommendations, walk.given
    nodes = snapshot.nodes
    required = snapshot._required

    while True:
        if slug in seen:
            raise PathwayError(f"cycle at node {slug!r}")
        seen.add(slug)
        node = nodes[slug]
        path.append(slug)
        fields = node.fields
        missing: tuple[str, ...] = ()
        if fields:
            for key in fields:
                asked.setdefault(key)
            needed = required.get(slug)
            if needed is None:
                needed = snapshot.required_fields(node)
            missing = tuple(key for key in needed if key not in answers)
        for rec in node.recommendations:
            if rec.code not in recommendations and _all_hold(rec.conditions, answers):
                recommendations[rec.code] = rec
                given[rec.code] = (slug, len(trace))
        if missing:
            return slug, None, missing
        if node.kind == OUTCOME:
            return None, slug, ()
        for edge in node.edges:
            if _all_hold(edge.conditions, answers):
                break
        else:
            raise PathwayError(f"no edge of node {slug!r} matches the answers")
        fired = tuple(FiredCondition(c, answers[c.variable]) for c in edge.conditions)
        trace.append(Decision(slug, edge, fired))
        slug = edge.target


def _evaluation(
    snapshot: Snapshot,
    answers: Mapping[str, Any],
    walk: _Walk,
    current: str | None,
    outcome: str | None,
    missing: tuple[str, ...],
) -> Evaluation:
    variables = snapshot.variables
    asked = walk.asked
    ignored = tuple(
        key for key in answers if key not in asked and key in variables and not variables[key].optional
    )
    return Evaluation(
        path=tuple(walk.path),
        current=current,
        outcome=outcome,
        recommendations=tuple(walk.recommendations.values()),
        missing=missing,
        ignored=ignored,
        trace=tuple(walk.trace),
        asked=tuple(asked),
        given=MappingProxyType(walk.given),
        answers=MappingProxyType(dict(answers)),
    )


def newer_guidance(snapshot: Snapshot, result: Evaluation, answers: Mapping[str, Any]) -> tuple[Note, ...]:
    """The newer-guidance notes for a complete walk, in display order (none before it is complete)."""
    if not result.complete:
        return ()
    codes = frozenset(result.codes)
    # An answer the walk never asked (reported as ignored) must not show a note.
    asked = {key: value for key, value in answers.items() if key in result.asked}
    return tuple(note for note in snapshot.notes if note.shows(codes, asked))


# A number more than this many times the largest threshold the pathway decides on is confirmed
# before it routes: a slip of unit or decimal point (15 typed for 1.5, mm for cm) lands there.
IMPLAUSIBLE_FACTOR = 5


def implausible(snapshot: Snapshot, key: str, value: Any) -> Message | None:
    """Why ``value`` of the number ``key`` should be confirmed before it routes, or None.

    A typing check, not a clinical one: the value is valid, but beyond five times the largest
    threshold that any condition of the pathway compares ``key`` with.
    """
    variable = snapshot.variables.get(key)
    if variable is None or variable.kind != NUMBER or isinstance(value, bool):
        return None
    limits = thresholds(snapshot).get(key)
    if not limits or max(limits) <= 0 or value <= IMPLAUSIBLE_FACTOR * max(limits):
        return None
    largest = max(limits)
    return Message(
        gettext_noop(
            "%(value)s is more than five times the largest threshold for %(label)s in this "
            "pathway (%(largest)s). Check the number and its unit; if %(value)s is right, confirm it."
        ),
        value=variable.display(value),
        label=safe_text(variable.label, 80),
        largest=variable.display(largest),
    )


def askable(snapshot: Snapshot, evaluation: Evaluation, node: str) -> bool:
    """Whether ``node`` is a question the walk can answer or change: one on its current path."""
    return node in evaluation.path and snapshot.nodes[node].kind == QUESTION


@dataclass(frozen=True, slots=True)
class Routes:
    """The steps and edges (source, target) a walk can still reach."""

    nodes: frozenset[str]
    links: frozenset[tuple[str, str]]


def open_routes(snapshot: Snapshot, evaluation: Evaluation, answers: Mapping[str, Any] | None) -> Routes:
    """What the walk's answers leave open.

    A decided step keeps only the edge it took; elsewhere an edge stays open unless a condition on
    an answered variable fails, and an edge whose conditions all hold closes the later ones.
    Nodes that no open edge reaches are ruled out.
    """
    known = dict(answers or {})
    for decision in evaluation.trace:
        for fired in decision.fired:
            known.setdefault(fired.condition.variable, fired.value)
    decided = {decision.node: decision.edge.target for decision in evaluation.trace}
    nodes = snapshot.nodes

    def targets(slug: str) -> list[str]:
        if slug == evaluation.outcome:
            return []
        if slug in decided:
            return [decided[slug]]
        found = []
        for edge in nodes[slug].edges:
            relevant = [c for c in edge.conditions if c.variable in known]
            if not all(c.holds(known) for c in relevant):
                continue
            found.append(edge.target)
            if len(relevant) == len(edge.conditions):
                break
        return found

    possible = graph.reachable(snapshot.start, targets)
    links = {(slug, target) for slug in possible for target in targets(slug)}
    return Routes(nodes=frozenset(possible), links=frozenset(links))


def _all_hold(conditions: tuple[Condition, ...], answers: Mapping[str, Any]) -> bool:
    # A plain loop: all() over a generator costs a frame per call in the hottest path.
    for condition in conditions:  # noqa: SIM110
        if not condition.holds(answers):
            return False
    return True


def validate_case(snapshot: Snapshot, case: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Check a typed case (e.g. parsed JSON): every key known, every value valid.

    Returns ``(answers, errors)``; ``answers`` is only meaningful when ``errors`` is empty.
    """
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, value in case.items():
        variable = snapshot.variables.get(key)
        if variable is None:
            errors[safe_text(str(key), 80)] = Message(
                gettext_noop("Unknown variable: this pathway has no such case variable.")
            )
            continue
        message = variable.check(value)
        if message:
            errors[key] = message
        else:
            answers[key] = float(value) if variable.kind == NUMBER and isinstance(value, float) else value
    return answers, errors


def prune(snapshot: Snapshot, answers: Mapping[str, Any]) -> tuple[dict[str, Any], Evaluation]:
    """Drop answers that are no longer on the path (after an earlier answer changed).

    Answers to variables asked on the new path are kept, so an unchanged later answer still
    counts. Repeats until stable, because dropping an answer can shorten the path.
    """
    kept = dict(answers)
    while True:
        result = recall(snapshot, kept)
        on_path = set(result.asked)
        trimmed = {key: value for key, value in kept.items() if key in on_path}
        if trimmed == kept:
            return kept, result
        kept = trimmed


def cuts(conditions: Iterable[Condition]) -> dict[str, list[float]]:
    """Every number each variable is compared with by ``conditions``, sorted, by variable key."""
    found: dict[str, set[float]] = {}
    for condition in conditions:
        values = condition.value if condition.op in SET_OPERATORS else (condition.value,)
        numbers = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if numbers:
            found.setdefault(condition.variable, set()).update(numbers)
    return {key: sorted(values) for key, values in found.items()}


def satisfiable(conditions: Iterable[Condition], variables: Mapping[str, Variable]) -> bool:
    """Whether some answers satisfy all of ``conditions``: for each variable they test, a class of
    its values (cut at their thresholds) satisfies every one of them on it."""
    by_variable: dict[str, list[Condition]] = {}
    for condition in conditions:
        by_variable.setdefault(condition.variable, []).append(condition)
    for key, tests in by_variable.items():
        values = representatives(variables[key], cuts(tests).get(key, []))
        if not any(all(test.holds({key: value}) for test in tests) for value in values):
            return False
    return True


def thresholds(snapshot: Snapshot, extra: Iterable[Condition] = ()) -> dict[str, list[float]]:
    """Every number that any edge or recommendation condition (or one of ``extra``) compares a
    number variable with."""
    conditions: list[Condition] = list(extra)
    for node in snapshot.nodes.values():
        for edge in node.edges:
            conditions.extend(edge.conditions)
    for rec in snapshot.recommendations.values():
        conditions.extend(rec.conditions)
    variables = snapshot.variables
    return {
        key: values
        for key, values in cuts(conditions).items()
        if key in variables and variables[key].kind == NUMBER
    }


@dataclass(frozen=True, slots=True)
class Cell:
    """One class of a variable's values that the conditions at hand cannot tell apart.

    ``value`` represents it; a number's class is the point or open interval from ``low`` to
    ``high`` (the domain's own ends closed or open as declared, infinite when unbounded).
    """

    variable: Variable
    value: Any
    low: float = 0.0
    high: float = 0.0
    low_closed: bool = True
    high_closed: bool = True

    def describe(self) -> str:
        variable = self.variable
        if variable.kind != NUMBER:
            return f"{variable.key} = {json.dumps(self.value)}"
        if self.low == self.high:
            return f"{variable.key} = {format_number(self.low)}"
        low = "-∞" if self.low == -math.inf else format_number(self.low)
        high = "∞" if self.high == math.inf else format_number(self.high)
        opening = "[" if self.low_closed else "("
        closing = "]" if self.high_closed else ")"
        return f"{variable.key} in {opening}{low}, {high}{closing}"


def partition(variable: Variable, cuts: Iterable[float]) -> list[Cell]:
    """Cut the variable's declared domain into the classes that conditions cutting at ``cuts``
    can tell apart: choices and booleans value by value; numbers into the point at each cut inside
    the domain and the open intervals between them, with the domain's own ends open or closed."""
    if variable.kind == CHOICE:
        return [Cell(variable, value) for value in variable.choice_values]
    if variable.kind == BOOLEAN:
        return [Cell(variable, True), Cell(variable, False)]
    low = -math.inf if variable.minimum is None else float(variable.minimum)
    high = math.inf if variable.maximum is None else float(variable.maximum)
    points = sorted({low, high, *(float(c) for c in cuts if low <= c <= high)})
    found: list[Cell] = []
    for index, point in enumerate(points):
        if math.isfinite(point) and variable.in_bounds(point):
            found.append(Cell(variable, point, point, point))
        if index + 1 < len(points):
            upper = points[index + 1]
            if math.isinf(point) and math.isinf(upper):
                middle = 0.0
            elif math.isinf(point):
                middle = upper - 1
            elif math.isinf(upper):
                middle = point + 1
            else:
                middle = (point + upper) / 2
            found.append(Cell(variable, middle, point, upper, False, False))
    return found


def representatives(variable: Variable, cuts: Iterable[float]) -> list[Value]:
    """One value per class of answers the conditions can tell apart (see :func:`partition`)."""
    return [cell.value for cell in partition(variable, cuts)]


def enumerate_cases(
    snapshot: Snapshot, extra: Iterable[Condition] = ()
) -> Iterator[tuple[dict[str, Any], Evaluation]]:
    """Yield every class of complete walk, as a representative case and its evaluation.

    Branches only on the variables a walk actually asks, so the count is the number of
    distinguishable walks rather than the product of all domains. Numbers are cut at every
    threshold of the pathway and of ``extra`` (conditions a caller will test on each class, e.g.
    the safety rules).
    """
    found = thresholds(snapshot, extra)
    options = {
        key: representatives(variable, found.get(key, [])) for key, variable in snapshot.variables.items()
    }
    # The variables each step's conditions read: an answer to a variable that no step before the
    # current one reads leaves the walk up to it as it was, so the walk resumes there instead of
    # starting again (the evaluation is the same as :func:`evaluate` from the start).
    reads = {
        slug: frozenset(
            condition.variable
            for conditions in (
                *(rec.conditions for rec in node.recommendations),
                *(edge.conditions for edge in node.edges),
            )
            for condition in conditions
        )
        for slug, node in snapshot.nodes.items()
    }
    stack: list[tuple[dict[str, Any], _Walk | None]] = [({}, None)]
    while stack:
        answers, stopped = stack.pop()
        if stopped is None:
            walk, slug = _Walk(), snapshot.start
        else:
            walk = stopped.copy()
            slug = walk.reopen()
        current, outcome, missing = _advance(snapshot, answers, walk, slug)
        if outcome is not None:
            yield answers, _evaluation(snapshot, answers, walk, current, outcome, missing)
            continue
        key = missing[0]
        before = walk.path[:-1]
        resumable = walk if not any(key in reads[step] for step in before) else None
        for value in reversed(options[key]):
            stack.append(({**answers, key: value}, resumable))
