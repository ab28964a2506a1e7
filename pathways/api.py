"""The evaluation interface shared by the HTTP API and the command line (see the contract)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

from . import engine, selectors

MAX_BODY_BYTES = 64 * 1024
TOO_LARGE = f"The case is too large (over {MAX_BODY_BYTES // 1024} KB)."


def require_post(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Like ``require_POST``, but answer other methods in the API's JSON error shape."""

    @wraps(view)
    def post_only(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            response = JsonResponse({"errors": {"method": "Only POST is allowed here."}}, status=405)
            response["Allow"] = "POST"
            return response
        return view(request, *args, **kwargs)

    return post_only


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def parse_case(raw: bytes | str) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Parse a JSON case strictly: an object, no repeated keys, no NaN/Infinity."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_BODY_BYTES:
            return None, {"case": TOO_LARGE}
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None, {"case": "The case must be UTF-8 encoded JSON."}
    try:
        case = json.loads(raw, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except _DuplicateKey as error:
        return None, {str(error)[:80]: "This key appears more than once; give each variable once."}
    except (ValueError, RecursionError):
        return None, {"case": "The case is not valid JSON."}
    if not isinstance(case, dict):
        return None, {"case": "The case must be a JSON object of variable keys and values."}
    return case, {}


def evaluate_case(slug: str, raw: bytes | str) -> tuple[int, dict[str, Any]]:
    """Return (HTTP status, JSON body) for a raw case; 400 with errors for any bad input."""
    try:
        version = selectors.published_version(slug)
    except Http404:
        return 404, {"errors": {"pathway": f"No published pathway named {slug[:60]!r}."}}
    case, errors = parse_case(raw)
    if case is None:
        return 400, {"errors": errors}
    snapshot = selectors.snapshot_for(version)
    answers, errors = engine.validate_case(snapshot, case)
    if errors:
        return 400, {"errors": errors}
    return 200, answer(snapshot, engine.evaluate(snapshot, answers), answers)


def answer(snapshot: engine.Snapshot, result: engine.Evaluation, answers: dict[str, Any]) -> dict[str, Any]:
    notes = engine.newer_guidance(snapshot, result, answers)
    return {
        "pathway": snapshot.pathway,
        "version": snapshot.version,
        "complete": result.complete,
        "outcome": result.outcome,
        "recommendations": list(result.codes),
        "path": list(result.path),
        "missing": list(result.missing),
        "ignored": list(result.ignored),
        "newer_guidance": [note.code for note in notes],
    }
