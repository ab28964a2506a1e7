"""FHIRPath for engine conditions, evaluated against a QuestionnaireResponse of flat items.

Every piece is a boolean that is never empty: a condition on an unanswered item is false, as in the
engine. ``TRUE`` and ``FALSE`` fold away, so an unconditional action carries no condition.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from pathways import engine

TRUE = "true"
FALSE = "false"
_LINK = re.compile(r"linkId='([^']*)'")


def linkids(expression: str) -> tuple[str, ...]:
    """The items an expression reads, sorted (what its value can depend on)."""
    return tuple(sorted(set(_LINK.findall(expression))))


def answers_of(key: str) -> str:
    return f"item.where(linkId='{key}').answer"


def answered(key: str) -> str:
    return f"{answers_of(key)}.exists()"


def literal(variable: engine.Variable, value: object) -> str:
    if variable.kind == engine.BOOLEAN:
        return "true" if value else "false"
    if variable.kind == engine.CHOICE:
        return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"
    return engine.format_number(float(value))  # type: ignore[arg-type]


def _element(variable: engine.Variable) -> str:
    if variable.kind == engine.CHOICE:
        return "valueCoding.code"
    if variable.kind == engine.BOOLEAN:
        return "valueBoolean"
    return "valueDecimal"


_COMPARE = {"eq": "=", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def condition(condition: engine.Condition, variables: Mapping[str, engine.Variable]) -> str:
    variable = variables[condition.variable]
    element = _element(variable)
    if condition.op in engine.SET_OPERATORS:
        tests = " or ".join(f"{element} = {literal(variable, v)}" for v in condition.value)
        test = f"({tests})" if condition.op == "in" else f"({tests}).not()"
        if not condition.value:
            test = "false" if condition.op == "in" else f"{element}.exists()"
    else:
        test = f"{element} {_COMPARE[condition.op]} {literal(variable, condition.value)}"
    return f"{answers_of(condition.variable)}.where({test}).exists()"


def all_of(parts: Iterable[str]) -> str:
    kept: list[str] = []
    for part in parts:
        if part == FALSE:
            return FALSE
        if part != TRUE and part not in kept:
            kept.append(part)
    if not kept:
        return TRUE
    return kept[0] if len(kept) == 1 else " and ".join(f"({part})" for part in kept)


def any_of(parts: Iterable[str]) -> str:
    kept: list[str] = []
    for part in parts:
        if part == TRUE:
            return TRUE
        if part != FALSE and part not in kept:
            kept.append(part)
    if not kept:
        return FALSE
    return kept[0] if len(kept) == 1 else " or ".join(f"({part})" for part in kept)


def negate(part: str) -> str:
    if part == TRUE:
        return FALSE
    if part == FALSE:
        return TRUE
    return f"({part}).not()"


def conditions(items: Iterable[engine.Condition], variables: Mapping[str, engine.Variable]) -> str:
    return all_of(condition(c, variables) for c in items)


def choose(when: str, then: str, otherwise: str) -> str:
    """``then`` where ``when`` holds, else ``otherwise`` (FHIRPath's lazy ``iif``)."""
    if when == TRUE or then == otherwise:
        return then
    if when == FALSE:
        return otherwise
    if then == TRUE and otherwise == FALSE:
        return when
    if then == FALSE and otherwise == FALSE:
        return FALSE
    return f"iif({when}, {then}, {otherwise})"


def first_then(cheap: str, costly: str) -> str:
    """``cheap and costly``, evaluating ``costly`` only where ``cheap`` holds (a lazy ``iif``)."""
    if cheap == FALSE or costly == FALSE:
        return FALSE
    if cheap == TRUE:
        return costly
    if costly == TRUE:
        return cheap
    return f"iif({cheap}, {costly}, false)"


def any_lazily(parts: Iterable[str]) -> str:
    """``any_of`` that stops at the first part that holds (nested lazy ``iif``)."""
    kept: list[str] = []
    for part in parts:
        if part == TRUE:
            return TRUE
        if part != FALSE and part not in kept:
            kept.append(part)
    if not kept:
        return FALSE
    result = kept[-1]
    for part in reversed(kept[:-1]):
        result = f"iif({part}, true, {result})"
    return result
