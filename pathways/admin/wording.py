"""Content in an editor's words: rules as sentences ("Tumour size over 2 cm → Formal resection ..."),
conditions with their questions' labels and answers, never slugs or graph terms."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .. import engine
from ..models import Edge, Variable
from .values import as_engine_variable

WORDS = {
    "eq": "is",
    "ne": "is not",
    "in": "is",
    "not_in": "is not",
    "gt": "over",
    "ge": "at least",
    "lt": "under",
    "le": "at most",
}


def variables_of(version_id: int | None) -> dict[int, engine.Variable]:
    """The version's variables by row id, as the engine describes their values."""
    return {row.pk: as_engine_variable(row) for row in Variable.objects.filter(version_id=version_id)}


def condition_words(variable: engine.Variable | None, op: str, value: Any) -> str:
    """ "Tumour size over 2 cm", "Found incidentally is Yes", "Disease extent is Localized or Metastatic"."""
    if variable is None:
        return f"? {engine.OPERATORS.get(op, op)} {value}"
    word = WORDS.get(op, engine.OPERATORS.get(op, op))
    if op in engine.SET_OPERATORS and isinstance(value, list | tuple):
        shown = " or ".join(variable.display(item) for item in value)
        return f"{variable.label} {word} {shown}"
    return f"{variable.label} {word} {variable.display(value)}"


def conditions_words(rows: Iterable[Any], variables: Mapping[int, engine.Variable] | None = None) -> str:
    """The conditions of an edge, recommendation or rule joined with "and"; "always" when none.

    Without ``variables`` each row's own (prefetched) variable is read.
    """
    parts = [
        condition_words(
            variables.get(row.variable_id) if variables is not None else as_engine_variable(row.variable),
            row.op,
            row.value,
        )
        for row in rows
    ]
    return " and ".join(parts) or "always"


def rule_sentence(edge: Edge, variables: Mapping[int, engine.Variable] | None = None) -> str:
    """A way out of a question as a sentence: its conditions, then the step it leads to."""
    when = conditions_words(edge.conditions.all(), variables)
    when = "Otherwise" if when == "always" else when[:1].upper() + when[1:]
    return f"{when} → {edge.target.title}"
