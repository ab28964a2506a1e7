"""What the wizard shows beside the engine's answer: why each recommendation was given, the
plain-text report, and the flowchart on the walk pages."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from pathways import engine, presentation
from pathways.document import snapshot_from_document
from pathways.models import Walk
from tests import cases

INSULINOMA_BODY = cases.INSULINOMA_BODY_SSTR_NEGATIVE_1_8CM


def views_of(snapshot: engine.Snapshot, answers: dict[str, Any]) -> dict[str, presentation.RecView]:
    result = engine.evaluate(snapshot, answers)
    return {rec.code: rec for rec in presentation.rec_views(snapshot, result.recommendations, result)}


def test_a_recommendation_says_which_decisions_led_to_it_with_the_answers(snapshot: engine.Snapshot) -> None:
    recs = views_of(snapshot, INSULINOMA_BODY)
    vaccination = recs["special.splenectomy_vaccination"]
    assert vaccination.given_at == snapshot.nodes["surgery_body_tail"].title
    reasons = [reason for step in vaccination.decisions for reason in step.reasons]
    assert any("Tumour location" in r and "(answer: Pancreatic body" in r for r in reasons), reasons
    assert vaccination.decisions[-1].target_title == vaccination.given_at

    first = recs["general.multidisciplinary"]
    assert first.decisions == () and first.given_at == snapshot.nodes["syndrome"].title


def test_a_recommendation_does_not_show_decisions_taken_at_or_after_the_step_that_gave_it(
    snapshot: engine.Snapshot,
) -> None:
    answers = {
        "suspected_syndrome": "none",
        "functional_status": "nonfunctioning",
        "disease_extent": "localized",
        "tumor_size_cm": 1.75,
        "tumor_location": "duodenum",
    }
    recs = views_of(snapshot, answers)
    caution = recs["caution.lymph_node_sampling"]
    assert caution.given_at == snapshot.nodes["location"].title
    assert [step.node_title for step in caution.decisions] == [
        snapshot.nodes[slug].title for slug in ("syndrome", "imaging", "extent", "size")
    ]
    imaging = recs["imaging.ct_mri"]
    assert [step.node_title for step in imaging.decisions] == [snapshot.nodes["syndrome"].title]


def test_every_recommendation_of_every_class_shows_the_decisions_before_its_step(
    snapshot: engine.Snapshot,
) -> None:
    for answers, result in engine.enumerate_cases(snapshot):
        for rec in presentation.rec_views(snapshot, result.recommendations, result):
            given_at = next(
                index
                for index, slug in enumerate(result.path)
                if rec.code in {placed.code for placed in snapshot.nodes[slug].recommendations}
            )
            before = set(result.path[:given_at])
            # Steps that lead on unconditionally decide nothing and are not shown.
            expected = [
                (snapshot.nodes[d.node].title, snapshot.nodes[d.edge.target].title)
                for d in result.trace
                if d.node in before and d.fired
            ]
            shown = [(step.node_title, step.target_title) for step in rec.decisions]
            assert shown == expected, (answers, rec.code)
            assert rec.given_at == snapshot.nodes[result.path[given_at]].title


def test_a_recommendation_with_its_own_conditions_shows_them_with_the_answers(
    snapshot: engine.Snapshot,
) -> None:
    caution = views_of(snapshot, INSULINOMA_BODY)["caution.ssa_insulinoma_sstr_negative"]
    assert caution.caution
    # An "is" condition already names the answer; other comparisons add it.
    assert any(c == "SSTR imaging is Negative" for c in caution.conditions), caution.conditions


def test_without_the_walk_recommendations_have_no_why(snapshot: engine.Snapshot) -> None:
    result = engine.evaluate(snapshot, INSULINOMA_BODY)
    rec = presentation.rec_views(snapshot, result.recommendations)[0]
    assert rec.decisions == () and rec.given_at == "" and rec.conditions == ()


VERSION = SimpleNamespace(number=3, published_at=datetime(2026, 1, 5, tzinfo=UTC))
CHANGED_AT = datetime(2026, 2, 1, 9, 30, tzinfo=UTC)
MAX_NOTE_LINES = 25


def note_of(
    snapshot: engine.Snapshot, answers: dict[str, Any], result: engine.Evaluation | None = None
) -> str:
    result = result or engine.evaluate(snapshot, answers)
    return presentation.report_text(
        snapshot=snapshot,
        result=result,
        recs=presentation.rec_views(snapshot, result.recommendations, result),
        version=VERSION,
        changed_at=CHANGED_AT,
        newer=presentation.newer_guidance(snapshot, result, answers),
    )


@override_settings(TIME_ZONE="Europe/Berlin")
def test_the_note_has_the_plan_inputs_with_units_cautions_management_version_and_local_time(
    snapshot: engine.Snapshot,
) -> None:
    text = note_of(snapshot, INSULINOMA_BODY)
    lines = text.splitlines()
    assert lines[0] == f"{snapshot.title}, pathway version 3 (published 5 January 2026)"
    assert lines[1] == "Walk last changed 1 February 2026, 10:30 CET"  # TIME_ZONE, not UTC
    assert lines[2].startswith("Plan: ")
    inputs = next(line for line in lines if line.startswith("Inputs: "))
    assert "Tumour size 1.8 cm" in inputs and "Tumour location Pancreatic body" in inputs
    cautions = text.split("CAUTIONS:\n")[1].split("\nManagement:")[0].splitlines()
    assert len(cautions) == 3 and all(line.startswith("- ") for line in cautions)
    assert f"Management: {snapshot.nodes['surgery_body_tail'].title}" in text
    assert "\n- Surgery: Resect regardless of size [2][4]; Location-appropriate resection [4]\n" in text
    assert re.search(r"^Workup done along the way: Baseline markers \[1\]; Insulinoma tests", text, re.M)
    assert "\n[3] Neuroendocrine pancreatic tumors: guidelines for management and update." in text
    assert (
        "\n[4] Reference 4 of the source summary. (The source cites reference 4 but does not list it" in text
    )
    # No routing trace, no link, no markup.
    assert "->" not in text and "Why" not in text and "http" not in text and "/walks/" not in text
    assert "<" not in text and "data-code" not in text and "UTC" not in text


def note_size(snapshot: engine.Snapshot, answers: dict[str, Any], result: engine.Evaluation) -> int:
    """How many lines a class's note can take beyond its fixed ones: a line per caution, per
    management section and per cited reference, and one for newer guidance."""
    recs = result.recommendations
    folded = presentation.FOLDED_SECTIONS
    return (
        sum(1 for rec in recs if rec.section == "caution")
        + len({rec.section for rec in recs if rec.section != "caution" and rec.section not in folded})
        + len({label for rec in recs for label in rec.citations})
        + bool(engine.newer_guidance(snapshot, result, answers))
    )


@pytest.mark.parametrize("document", ["pnet_document", "pnet_v2_document"])
def test_every_outcome_gives_a_note_of_at_most_25_lines_with_its_parts(
    request: pytest.FixtureRequest, document: str
) -> None:
    """For each outcome, the note of its longest class of case (and so of every class)."""
    snapshot = snapshot_from_document(request.getfixturevalue(document))
    longest: dict[str, tuple[int, dict[str, Any], engine.Evaluation]] = {}
    for answers, result in engine.enumerate_cases(snapshot):
        assert result.outcome is not None
        size = note_size(snapshot, answers, result)
        if result.outcome not in longest or size > longest[result.outcome][0]:
            longest[result.outcome] = (size, answers, result)
    assert set(longest) == {slug for slug, node in snapshot.nodes.items() if node.kind == "outcome"}
    for outcome, (size, answers, result) in longest.items():
        text = note_of(snapshot, answers, result)
        lines = text.splitlines()
        assert len(lines) <= MAX_NOTE_LINES, (outcome, len(lines), text)
        assert len(lines) > size, text  # each counted part has its own line
        assert lines[0].startswith(f"{snapshot.title}, pathway version 3")
        assert lines[1].startswith("Walk last changed ")
        assert f"Plan: {presentation.plan(snapshot, result)}" in lines
        assert f"Management: {snapshot.nodes[outcome].title}" in lines
        for item in presentation.key_inputs(snapshot, result):
            assert f"{item.label} {item.value}" in text, item
        for rec in result.recommendations:
            assert rec.title in text, rec.code
            for label in rec.citations:
                assert f"\n[{label}] {snapshot.references[label].citation}" in text, label
        assert "->" not in text and "http" not in text and "/walks/" not in text


@pytest.mark.parametrize("document", ["pnet_document", "pnet_v2_document"])
def test_the_folded_workup_is_what_every_walk_gets_before_its_plan(
    request: pytest.FixtureRequest, document: str
) -> None:
    """The result folds the workup and imaging sections: over every class of case, that is each
    recommendation every complete walk gets except the multidisciplinary review, and only
    recommendations given at a workup or imaging step (done before the plan)."""
    snapshot = snapshot_from_document(request.getfixturevalue(document))
    folded_sections = presentation.FOLDED_SECTIONS
    every: set[str] | None = None
    for _answers, result in engine.enumerate_cases(snapshot):
        for rec in result.recommendations:
            if rec.section in folded_sections:
                assert snapshot.nodes[result.why[rec.code].node].stage in ("workup", "imaging"), rec.code
        codes = set(result.codes)
        every = codes if every is None else every & codes
    assert every is not None
    folded = {code for code in every if snapshot.recommendations[code].section in folded_sections}
    assert every - folded == {"general.multidisciplinary"}
    assert folded == {"workup.cga_5hiaa", "imaging.ct_mri", "imaging.sstr_pet", "imaging.eus"}
    # The result's fold holds exactly those sections, in section order, and the sections do not.
    result = engine.evaluate(snapshot, INSULINOMA_BODY)
    recs = presentation.rec_views(snapshot, result.recommendations, result)
    done = [rec.code for rec in presentation.done_along_the_way(recs)]
    assert done == [
        "workup.cga_5hiaa",
        "workup.insulinoma_panel",
        "imaging.ct_mri",
        "imaging.sstr_pet",
        "imaging.eus",
    ]
    shown = presentation.grouped(recs, include_cautions=False, include_folded=False)
    assert {rec.code for _, group in shown for rec in group}.isdisjoint(done)


@pytest.mark.django_db
def test_walk_pages_show_the_flowchart_and_the_result_the_report_text(
    client: Client, pnet_version: Any
) -> None:
    client.post(reverse("pathways:pathway_start", args=["pnet"]))
    walk = Walk.objects.latest("created_at")
    step = client.get(reverse("pathways:walk_step", args=["pnet", walk.pk, "syndrome"])).content.decode()
    chart_url = reverse("pathways:walk_flowchart", args=["pnet", walk.pk])
    assert "<svg" not in step, "the step's flowchart loads when its panel is opened"
    assert (
        f'hx-get="{chart_url}?step=syndrome"' in step
        and f'href="{chart_url}?step=syndrome#fc-current"' in step
    )

    walk.answers = {**INSULINOMA_BODY}
    walk.save()
    html = client.get(reverse("pathways:walk_detail", args=["pnet", walk.pk])).content.decode()
    assert html.count("<svg") == 1
    assert re.search(r'<g class="[^"]*\bon-path\b[^"]*" data-node="location"', html)
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert "data-code" not in svg
    codes = re.findall(r'data-code="([^"]+)"', html)
    assert len(codes) == len(set(codes))
    assert 'id="report-text"' in html and "Tumour size 1.8 cm" in html
    assert f"/pathways/pnet/walks/{walk.pk}/" in html
    assert "Why this was recommended" in html


@pytest.mark.django_db
def test_flowchart_view_full_page_partial_current_step_and_wrong_method(
    client: Client, pnet_version: Any
) -> None:
    client.post(reverse("pathways:pathway_start", args=["pnet"]))
    walk = Walk.objects.latest("created_at")
    walk.answers = {"suspected_syndrome": "none", "functional_status": "nonfunctioning"}
    walk.save()
    url = reverse("pathways:walk_flowchart", args=["pnet", walk.pk])

    full = client.get(url)
    assert full.status_code == 200 and "<html" in full.content.decode()
    assert "HX-Request" in full["Vary"]
    assert re.search(r'<g class="[^"]*\bcurrent\b[^"]*"[^>]* data-node="extent"', full.content.decode())
    assert reverse("pathways:walk_step", args=["pnet", walk.pk, "extent"]) in full.content.decode()

    partial = client.get(url, {"step": "syndrome"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and partial.count("<svg") == 1
    assert re.search(r'<g class="[^"]*\bcurrent\b[^"]*"[^>]* data-node="syndrome"', partial)
    assert "data-code" not in partial

    not_on_path = client.get(url, {"step": "ki67"}).content.decode()
    assert re.search(r'<g class="[^"]*\bcurrent\b[^"]*"[^>]* data-node="extent"', not_on_path)
    assert client.post(url).status_code == 405
    assert client.get(reverse("pathways:walk_flowchart", args=["pnet", uuid.uuid4()])).status_code == 404


def test_every_class_of_case_has_a_plan_naming_its_management_and_its_deciding_inputs(
    v2_snapshot: engine.Snapshot,
) -> None:
    for answers, result in engine.enumerate_cases(v2_snapshot):
        plan = presentation.plan(v2_snapshot, result)
        managed = [r.title for r in result.recommendations if r.section in presentation.PLAN_SECTIONS]
        assert plan and plan.endswith(".")
        assert plan.lower().startswith(managed[0].lower()) if managed else plan, (answers, plan)
        shown = {item.key: item.value for item in presentation.key_inputs(v2_snapshot, result)}
        # Every answer a route decision tested is shown, with its unit where it has one.
        tested = {
            c.variable
            for d in result.trace
            for e in v2_snapshot.nodes[d.node].edges
            for c in e.conditions
            if c.variable in answers
        }
        assert set(shown) == tested, answers
        if "tumor_size_cm" in shown:
            assert shown["tumor_size_cm"].endswith(" cm")


def test_the_plan_of_progressive_advanced_disease_names_both_treatments(v2_snapshot: engine.Snapshot) -> None:
    case = {
        "suspected_syndrome": "none",
        "functional_status": "nonfunctioning",
        "disease_extent": "locally_advanced",
        "ki67_percent": 5,
        "progressive": True,
        "sstr_status": "positive",
    }
    result = engine.evaluate(v2_snapshot, case)
    assert result.outcome == "advanced_g12_progressive", (result.current, result.missing)
    assert presentation.plan(v2_snapshot, result) == "Somatostatin analogue; everolimus or sunitinib."
