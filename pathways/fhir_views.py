"""FHIR endpoints: a walk as a QuestionnaireResponse, and ``$apply`` of the published pathway."""

from __future__ import annotations

import uuid

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from . import api, engine, selectors
from .fhir import apply as fhir_apply
from .fhir import response as fhir_response


def _fhir(resource: dict[str, object], status: int = 200) -> HttpResponse:
    return HttpResponse(fhir_apply.dumps(resource), status=status, content_type=fhir_apply.FHIR_JSON)


@require_safe
def walk_response(request: HttpRequest, slug: str, walk_id: uuid.UUID) -> HttpResponse:
    walk = selectors.walk_for(walk_id, slug)
    if walk.is_preview and not (request.user.is_authenticated and request.user.is_staff):
        raise Http404("No such walk.")
    snapshot = selectors.snapshot_for(walk.version)
    result = engine.evaluate(snapshot, walk.answers)
    resource = fhir_response.questionnaire_response(
        snapshot, walk.answers, complete=result.complete, identifier=str(walk.pk)
    )
    return _fhir(resource)


@csrf_exempt
def apply(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method != "POST":
        response = _fhir(fhir_apply.outcome({"method": "Only POST is allowed here."}, "not-supported"), 405)
        response["Allow"] = "POST"
        return response
    try:
        version = selectors.published_version(slug)
    except Http404:
        return _fhir(
            fhir_apply.outcome({"pathway": f"No published pathway named {slug[:60]!r}."}, "not-found"), 404
        )
    try:
        raw = request.body
    except RequestDataTooBig:
        return _fhir(fhir_apply.outcome({"QuestionnaireResponse": api.TOO_LARGE}, "too-costly"), 400)
    status, resource = fhir_apply.apply(selectors.snapshot_for(version), raw)
    return _fhir(resource, status)
