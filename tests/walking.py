"""Helpers for tests that drive walks through the web views (not fixtures: plain functions)."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from pathways import engine, presentation, selectors
from pathways.models import PathwayVersion, Walk
from tests import cases

OBSERVATION_CASE = cases.NONFUNCTIONING_INCIDENTAL_0_9CM


def walk_with(version: PathwayVersion, case: dict[str, Any]) -> Walk:
    """A stored walk holding ``case`` (validated) as its answers."""
    snapshot = selectors.snapshot_for(version)
    answers, errors = engine.validate_case(snapshot, case)
    assert not errors, errors
    return Walk.objects.create(version=version, answers=answers)


def current_step(walk: Walk) -> str | None:
    snapshot = selectors.snapshot_for(walk.version)
    return engine.evaluate(snapshot, walk.answers).current


def step_url(walk: Walk, node: str | None = None) -> str:
    return presentation.step_url(walk.version.pathway.slug, walk.pk, node or current_step(walk))


def revision_of(html: str) -> int:
    match = re.search(r'name="revision" value="(\d+)"', html)
    assert match, "no revision field in the form"
    return int(match.group(1))


def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)
