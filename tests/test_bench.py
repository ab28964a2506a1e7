"""The benchmark's pieces: the generated pathway and the request plan (counts, never timings)."""

from __future__ import annotations

from collections import deque
from typing import Any

import pytest

from bench import generate, run
from pathways import engine
from pathways.document import snapshot_from_document


@pytest.fixture(scope="module")
def large() -> dict[str, Any]:
    return generate.generate(10_000, 40)


@pytest.fixture(scope="module")
def large_snapshot(large: dict[str, Any]) -> engine.Snapshot:
    return snapshot_from_document(large)


def test_generated_pathway_has_10000_nodes_and_one_start(large: dict[str, Any]) -> None:
    assert len(large["nodes"]) == 10_000
    assert len({node["slug"] for node in large["nodes"]}) == 10_000
    assert sum(1 for node in large["nodes"] if node.get("start")) == 1


def test_every_generated_node_is_reachable_from_the_start(large_snapshot: engine.Snapshot) -> None:
    seen = {large_snapshot.start}
    queue = deque([large_snapshot.start])
    while queue:
        for edge in large_snapshot.nodes[queue.popleft()].edges:
            if edge.target not in seen:
                seen.add(edge.target)
                queue.append(edge.target)
    assert len(seen) == 10_000


def test_complete_case_walks_40_nodes_to_an_outcome(
    large: dict[str, Any], large_snapshot: engine.Snapshot
) -> None:
    for seed in range(4):
        result = engine.evaluate(large_snapshot, generate.complete_case(large, seed))
        assert result.complete
        assert len(result.path) == 40
        assert large_snapshot.nodes[result.outcome].kind == engine.OUTCOME
        assert result.recommendations


def test_generated_layers_fit_any_size_exactly() -> None:
    for nodes, depth in ((10_000, 40), (1_000, 40), (500, 12), (40, 40)):
        sizes = generate.layer_sizes(nodes, depth)
        assert len(sizes) == depth
        assert sum(sizes) == nodes


def test_small_generated_pathway_passes_the_publish_gate() -> None:
    validation = pytest.importorskip("pathways.validation")
    report = validation.check_document(generate.generate(600, 12))
    assert [str(problem) for problem in report.errors] == []


def test_step_plan_posts_every_question_of_the_deepest_pnet_walk(snapshot: engine.Snapshot) -> None:
    case = run.deepest_case(snapshot)
    steps = run.steps_for(snapshot, case)
    result = engine.evaluate(snapshot, case)
    assert result.complete
    assert [step.node for step in steps] == [
        slug for slug in result.path if snapshot.nodes[slug].kind == engine.QUESTION
    ]


def test_toggled_answers_both_leave_the_walk_at_its_last_question(snapshot: engine.Snapshot) -> None:
    case = run.deepest_case(snapshot)
    steps = run.steps_for(snapshot, case)
    last = steps[-1].node
    partial = {k: v for k, v in case.items() if k not in snapshot.nodes[last].fields}
    first, second = run.toggle_for(snapshot, case, steps)
    assert first.node == second.node != last
    assert first.data != second.data
    for step in (first, second):
        answers = dict(partial)
        for key, text in step.data.items():
            if text == "":  # an optional field left blank is forgotten
                answers.pop(key, None)
                continue
            value, error = snapshot.variables[key].parse_text(text)
            assert error is None
            answers[key] = value
        _, result = engine.prune(snapshot, answers)
        assert result.current == last


def test_report_prints_one_line_per_named_figure_then_a_table() -> None:
    report = run.Report()
    for name, _ in run.NAMES:
        report.set(name, 1.0)
    report.set("validate_ms_10k", "n/a")
    lines = run.render(report).splitlines()
    names = [name for name, _ in run.NAMES]
    assert [line.split()[0] for line in lines[: len(names)]] == names
    assert all(len(line.split()) == 3 for line in lines[: len(names)])
    assert lines[len(names) - 1] == "validate_ms_10k n/a ms"
    assert lines[len(names)] == ""
    assert lines[len(names) + 1].split()[0] == "figure"


def test_profile_times_the_http_measurements_request(pnet_version: Any) -> None:
    # CSRF checked as on the server: a request without the token the last form carried is refused.
    output = run.profile_steps(4)
    assert "pathways/views.py" in output and "(walk_step)" in output
    assert "multipartparser" not in output  # form-encoded, as htmx sends it
