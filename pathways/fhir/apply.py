"""``$apply``: a QuestionnaireResponse in, the engine's decision out as an R4B RequestGroup."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pathways import engine

from . import export
from . import response as qr

FHIR_JSON = "application/fhir+json"


def outcome(problems: Mapping[str, str], code: str = "invalid") -> dict[str, Any]:
    """An OperationOutcome with one issue per problem, each naming its item in ``expression``."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "error", "code": code, "diagnostics": str(message), "expression": [key]}
            for key, message in sorted(problems.items())
        ],
    }


def parse(raw: bytes | str) -> tuple[Any, dict[str, str]]:
    """The JSON body, or the problem with it (the API's strict rules: no repeated keys, no NaN)."""
    from pathways import api

    case, errors = api.parse_case(raw)
    if case is None:
        return None, {"QuestionnaireResponse": next(iter(errors.values()))} if "case" in errors else errors
    return case, {}


def request_group(snapshot: engine.Snapshot, answers: Mapping[str, Any]) -> dict[str, Any]:
    """What the engine recommends for ``answers``: one action per recommendation and note."""
    result = engine.evaluate(snapshot, answers)
    notes = engine.newer_guidance(snapshot, result, answers)
    actions = [
        _action(snapshot, rec.code, rec.title, rec.text or rec.title, _citations(snapshot, rec))
        for rec in result.recommendations
    ]
    for note in notes:
        cited: dict[str, Any] = {"type": "citation", "label": note.code, "citation": note.source or note.code}
        if note.source_url:
            cited["url"] = note.source_url
        actions.append(
            {"prefix": export.NEWER, **_action(snapshot, note.code, note.code, note.text, [cited])}
        )
    group: dict[str, Any] = {
        "resourceType": "RequestGroup",
        "instantiatesCanonical": [export.versioned("PlanDefinition", snapshot)],
        "status": "active" if result.complete else "draft",
        "intent": "proposal",
    }
    if not result.complete:
        group["note"] = [{"text": "The case is incomplete; the next step asks: " + ", ".join(result.missing)}]
    if actions:
        group["action"] = actions
    return group


def _citations(snapshot: engine.Snapshot, rec: engine.Recommendation) -> list[dict[str, Any]]:
    return [
        export.citation(snapshot.references[label]) for label in rec.citations if label in snapshot.references
    ]


def _action(
    snapshot: engine.Snapshot, code: str, title: str, text: str, cited: list[dict[str, Any]]
) -> dict[str, Any]:
    action: dict[str, Any] = {
        "title": title,
        "description": text or title,
        "code": [{"coding": [{"system": export.code_system_url(snapshot.pathway), "code": code}]}],
    }
    if cited:
        action["documentation"] = cited
    return action


def apply(snapshot: engine.Snapshot, raw: bytes | str) -> tuple[int, dict[str, Any]]:
    """(HTTP status, FHIR resource) for a raw QuestionnaireResponse body."""
    body, problems = parse(raw)
    if body is None:
        return 400, outcome(problems)
    answers, problems = qr.answers_from_response(snapshot, body)
    if answers is None:
        return 400, outcome(problems)
    return 200, export.validated(request_group(snapshot, answers))


def dumps(resource: Mapping[str, Any]) -> str:
    return json.dumps(resource, ensure_ascii=False)
