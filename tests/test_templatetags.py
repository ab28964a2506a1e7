"""The recommendation tag renders ``_rec.html`` once per distinct recommendation view."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.template import engines

from pathways import engine
from pathways.presentation import RecView, TraceStep
from pathways.templatetags import pathway_tags


@pytest.fixture
def rec() -> RecView:
    reference = engine.Reference(label="S", citation="Source <summary>")
    return RecView(
        code="surgery.resect",
        section="surgery",
        title="Resect <the> tumour",
        text="Offer **surgery**.",
        note="",
        citations=(reference,),
        decisions=(TraceStep("Size", ("Size ≥ 2 cm",), "Surgery", ""),),
        given_at="Surgery",
        conditions=("Grade = G1",),
    )


def _render(source: str, rec: RecView) -> str:
    return engines["django"].from_string("{% load pathway_tags %}" + source).render({"rec": rec})


def test_tag_renders_exactly_what_the_include_renders(rec: RecView) -> None:
    included = _render('{% include "pathways/_rec.html" %}', rec)
    assert _render("{% recommendation rec %}", rec) == included
    assert "Resect &lt;the&gt; tumour" in included


def test_same_recommendation_is_rendered_once(rec: RecView) -> None:
    pathway_tags._rendered_recommendation.cache_clear()
    for _ in range(3):
        _render("{% recommendation rec %}", rec)
    info = pathway_tags._rendered_recommendation.cache_info()
    assert (info.misses, info.hits) == (1, 2)


def test_a_changed_recommendation_renders_anew(rec: RecView) -> None:
    first = _render("{% recommendation rec %}", rec)
    changed = _render("{% recommendation rec %}", replace(rec, given_at="Imaging"))
    assert first != changed
    assert "Imaging" in changed
