"""Property tests: any valid complete case reaches one outcome and keeps the safety invariants."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pathways import engine
from pathways.document import snapshot_from_document
from tests.conftest import CONTENT, CONTENT_V2
from tests.invariants import violations

# Version 1 (retired; walks begun on it finish on it) and version 2 (published).
SNAPSHOTS = {
    name: snapshot_from_document(json.loads(path.read_text(encoding="utf-8")))
    for name, path in (("version-1", CONTENT), ("version-2", CONTENT_V2))
}
VERSIONS = pytest.mark.parametrize("pathway", list(SNAPSHOTS.values()), ids=list(SNAPSHOTS))


def value_strategy(pathway: engine.Snapshot, variable: engine.Variable) -> st.SearchStrategy[Any]:
    if variable.kind == engine.CHOICE:
        return st.sampled_from(variable.choice_values)
    if variable.kind == engine.BOOLEAN:
        return st.booleans()
    low = variable.minimum if variable.minimum is not None else 0.0
    high = variable.maximum if variable.maximum is not None else 1e6
    edges = [low, high, *engine.thresholds(pathway).get(variable.key, [])]
    numbers = st.floats(
        min_value=low,
        max_value=high,
        exclude_min=not variable.minimum_inclusive,
        exclude_max=not variable.maximum_inclusive,
        allow_nan=False,
        allow_infinity=False,
    )
    near_edges = st.sampled_from(edges).flatmap(
        lambda edge: st.sampled_from(
            [edge, round(edge + 0.1, 1), round(edge - 0.1, 1), edge + 1e-9, edge - 1e-9]
        )
    )
    return st.one_of(numbers, near_edges).filter(variable.in_bounds)


def full_case(pathway: engine.Snapshot) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({key: value_strategy(pathway, v) for key, v in pathway.variables.items()})


@VERSIONS
@settings(max_examples=200, deadline=None)  # every class is also walked exhaustively (test_engine)
@given(st.data())
def test_any_full_case_reaches_exactly_one_outcome_safely(
    pathway: engine.Snapshot, data: st.DataObject
) -> None:
    case = data.draw(full_case(pathway))
    answers, errors = engine.validate_case(pathway, case)
    assert errors == {}
    result = engine.evaluate(pathway, answers)
    assert result.complete
    assert result.missing == ()
    assert violations(pathway, case, result) == []
    # Optional laboratory values are recorded, never ignored.
    assert not any(pathway.variables[key].optional for key in result.ignored)


@VERSIONS
@settings(max_examples=100, deadline=None)
@given(st.data())
def test_partial_cases_stop_at_the_first_unanswered_question(
    pathway: engine.Snapshot, data: st.DataObject
) -> None:
    keys = data.draw(st.sets(st.sampled_from(sorted(pathway.variables))))
    case = {key: data.draw(value_strategy(pathway, pathway.variables[key])) for key in keys}
    result = engine.evaluate(pathway, case)
    if result.complete:
        assert result.missing == ()
    else:
        assert result.outcome is None
        assert result.missing and all(key not in case for key in result.missing)
        assert result.current == result.path[-1]
