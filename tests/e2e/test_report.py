"""The printed result fits on two A4 pages for every outcome of versions 1 and 3 of the pathway
(version 2 prints as version 3: they differ only in the units a laboratory value may be typed in);
the flowchart prints only when asked for, on a page of its own."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from pathways import engine, presentation, selectors
from pathways.models import PathwayVersion
from tests.walking import walk_with

pytestmark = pytest.mark.e2e

MAX_PAGES = 2
PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![A-Za-z])")
PAGE_COUNT = re.compile(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)|/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", re.S)


def pdf_pages(pdf: bytes) -> int:
    """The number of pages of a PDF: its page objects, which its page tree must also count."""
    assert pdf.startswith(b"%PDF"), pdf[:20]
    pages = len(PAGE_OBJECT.findall(pdf))
    counts = [int(a or b) for a, b in PAGE_COUNT.findall(pdf)]
    assert counts and max(counts) == pages, (counts, pages)
    return pages


def longest_per_outcome(snapshot: engine.Snapshot) -> Iterator[tuple[str, dict[str, Any]]]:
    """For each outcome, the class of case whose result shows the most: the most recommendations,
    newer-guidance notes and cited references (the longest printed report of that outcome)."""
    best: dict[str, tuple[tuple[int, int], dict[str, Any]]] = {}
    for answers, result in engine.enumerate_cases(snapshot):
        assert result.outcome is not None
        recs = presentation.rec_views(snapshot, result.recommendations)
        size = (
            len(recs) + len(engine.newer_guidance(snapshot, result, answers)),
            len(presentation.cited_references(snapshot, recs)) + sum(len(rec.text) for rec in recs) // 200,
        )
        if result.outcome not in best or size > best[result.outcome][0]:
            best[result.outcome] = (size, answers)
    for outcome in sorted(best):
        yield outcome, best[outcome][1]


def test_every_outcome_prints_on_at_most_two_a4_pages(page: Page) -> None:
    versions = PathwayVersion.objects.filter(pathway__slug="pnet", number__in=(1, 3)).order_by("number")
    assert [version.number for version in versions] == [1, 3]
    printed: dict[str, int] = {}
    for version in versions:
        snapshot = selectors.snapshot_for(version)
        outcomes = list(longest_per_outcome(snapshot))
        assert len(outcomes) == sum(1 for node in snapshot.nodes.values() if node.kind == "outcome")
        for outcome, answers in outcomes:
            walk = walk_with(version, answers)
            page.goto(f"/pathways/pnet/walks/{walk.pk}/")
            expect(page.locator("[data-outcome]")).to_have_attribute("data-outcome", outcome)
            printed[f"v{version.number} {outcome}"] = pdf_pages(page.pdf(format="A4"))
    too_long = {name: pages for name, pages in printed.items() if pages > MAX_PAGES}
    assert not too_long, too_long
    assert len(printed) == 24, sorted(printed)

    # The flowchart prints only when asked for, and then on a page of its own; the workup done
    # along the way prints as its titles.
    page.emulate_media(media="print")
    expect(page.locator(".flowchart-section")).to_be_hidden()
    expect(page.locator(".done-along .rec-fold > summary").first).to_be_visible()
    expect(page.locator(".done-along .rec-text").first).to_be_hidden()
    page.emulate_media(media="screen")
    page.get_by_role("button", name="Print with flowchart").wait_for()
    page.evaluate("() => document.documentElement.classList.add('print-flowchart')")
    page.emulate_media(media="print")
    expect(page.locator(".flowchart-section svg.flowchart")).to_be_visible()
    with_chart = pdf_pages(page.pdf(format="A4"))
    assert with_chart == printed[f"v3 {outcome}"] + 1, (with_chart, printed)
