"""What the wizard shows beside the engine's answer: why each recommendation was given, the
plain-text report, and the flowchart on the walk pages."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from pathways import engine, presentation
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


def test_report_text_is_plain_and_has_inputs_with_units_cautions_why_and_references(
    snapshot: engine.Snapshot,
) -> None:
    result = engine.evaluate(snapshot, INSULINOMA_BODY)
    recs = presentation.rec_views(snapshot, result.recommendations, result)
    text = presentation.report_text(
        snapshot=snapshot,
        result=result,
        trail_items=presentation.trail(snapshot, result, INSULINOMA_BODY, "pnet", uuid.uuid4()),
        recs=recs,
        trace=presentation.trace_steps(snapshot, result),
        version=SimpleNamespace(number=3, published_at=datetime(2026, 1, 5, tzinfo=UTC)),
        changed_at=datetime(2026, 2, 1, 9, 30, tzinfo=UTC),
        walk_url="https://example.org/pathways/pnet/walks/x/",
    )
    assert "Pathway version 3, published 5 January 2026" in text
    assert "- Tumour size: 1.8 cm" in text
    assert f"Management: {snapshot.nodes['surgery_body_tail'].title}" in text
    cautions = text.split("CAUTIONS:\n")[1].split("\n\n")[0].splitlines()
    assert len(cautions) == 3 and all(line.startswith("- ") for line in cautions)
    assert re.search(r"^1\. Which functional syndrome is suspected\?: Suspected syndrome is ", text, re.M)
    assert "Biochemical result is not Nonfunctioning (answer: Insulinoma)" in text
    assert "\n[1] " in text and "https://example.org/pathways/pnet/walks/x/" in text
    assert "<" not in text and "data-code" not in text


@pytest.mark.django_db
def test_walk_pages_show_the_flowchart_and_the_result_the_report_text(
    client: Client, pnet_version: Any
) -> None:
    client.post(reverse("pathways:pathway_start", args=["pnet"]))
    walk = Walk.objects.latest("created_at")
    step = client.get(reverse("pathways:walk_step", args=["pnet", walk.pk, "syndrome"])).content.decode()
    chart_url = reverse("pathways:walk_flowchart", args=["pnet", walk.pk])
    assert "<svg" not in step, "the step's flowchart loads when its panel is opened"
    assert f'hx-get="{chart_url}?step=syndrome"' in step and f'href="{chart_url}?step=syndrome"' in step

    walk.answers = {**INSULINOMA_BODY}
    walk.save()
    html = client.get(reverse("pathways:walk_detail", args=["pnet", walk.pk])).content.decode()
    assert html.count("<svg") == 1
    assert re.search(r'<g class="[^"]*\bon-path\b[^"]*" data-node="location"', html)
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert "data-code" not in svg
    codes = re.findall(r'data-code="([^"]+)"', html)
    assert len(codes) == len(set(codes))
    assert 'id="report-text"' in html and "- Tumour size: 1.8 cm" in html
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
    assert re.search(r'<g class="[^"]*\bcurrent\b[^"]*" data-node="extent"', full.content.decode())
    assert reverse("pathways:walk_step", args=["pnet", walk.pk, "extent"]) in full.content.decode()

    partial = client.get(url, {"step": "syndrome"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and partial.count("<svg") == 1
    assert re.search(r'<g class="[^"]*\bcurrent\b[^"]*" data-node="syndrome"', partial)
    assert "data-code" not in partial

    not_on_path = client.get(url, {"step": "ki67"}).content.decode()
    assert re.search(r'<g class="[^"]*\bcurrent\b[^"]*" data-node="extent"', not_on_path)
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
