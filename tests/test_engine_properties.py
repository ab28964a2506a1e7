"""Property tests: any valid complete case reaches one outcome and keeps the safety invariants."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pathways import engine
from tests.conftest import CONTENT
from tests.invariants import violations

SNAPSHOT = engine.snapshot_from_document(json.loads(CONTENT.read_text(encoding="utf-8")))


def value_strategy(variable: engine.Variable) -> st.SearchStrategy[Any]:
    if variable.kind == engine.CHOICE:
        return st.sampled_from(variable.choice_values)
    if variable.kind == engine.BOOLEAN:
        return st.booleans()
    low = variable.minimum if variable.minimum is not None else 0.0
    high = variable.maximum if variable.maximum is not None else 1e6
    edges = [low, high, *engine.thresholds(SNAPSHOT).get(variable.key, [])]
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


FULL_CASE = st.fixed_dictionaries({key: value_strategy(v) for key, v in SNAPSHOT.variables.items()})


@settings(max_examples=400, deadline=None)
@given(FULL_CASE)
def test_any_full_case_reaches_exactly_one_outcome_safely(case: dict[str, Any]) -> None:
    answers, errors = engine.validate_case(SNAPSHOT, case)
    assert errors == {}
    result = engine.evaluate(SNAPSHOT, answers)
    assert result.complete
    assert result.missing == ()
    assert violations(SNAPSHOT, case, result) == []
    # Optional laboratory values are recorded, never ignored.
    assert not any(SNAPSHOT.variables[key].optional for key in result.ignored)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_partial_cases_stop_at_the_first_unanswered_question(data: st.DataObject) -> None:
    keys = data.draw(st.sets(st.sampled_from(sorted(SNAPSHOT.variables))))
    case = {key: data.draw(value_strategy(SNAPSHOT.variables[key])) for key in keys}
    result = engine.evaluate(SNAPSHOT, case)
    if result.complete:
        assert result.missing == ()
    else:
        assert result.outcome is None
        assert result.missing and all(key not in case for key in result.missing)
        assert result.current == result.path[-1]
