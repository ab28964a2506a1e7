"""Wizard and API views: parse input, call the engine and services, render."""

from __future__ import annotations

import re
import time
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe
from django_htmx.middleware import HtmxDetails

from . import api, engine, fragments, presentation, selectors, services
from .forms import StepForm
from .messages import reads_language_once
from .models import Walk

WALK_COOKIE_SALT = "pathways.walk"
# The start page never reopens a walk by itself (on a shared workstation the next clinician must
# not land in someone else's case): it offers it. A walk opened by its URL after this long a pause
# says so, with when it began.
PAUSE = timedelta(minutes=30)
CHANGED_TAG = "walk-changed"
CONVERTED_TAG = "walk-converted"


class HtmxHttpRequest(HttpRequest):
    """A request that has been through django-htmx's middleware."""

    htmx: HtmxDetails


def _walk_cookie(slug: str) -> str:
    return f"walk_{slug}"


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "pathways/home.html", {"versions": selectors.published_pathways()})


@require_http_methods(["GET", "HEAD", "POST"])
@reads_language_once
def pathway_start(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    version = selectors.published_version(slug)
    if request.method == "POST":
        walk = services.start_walk(version)
        snapshot = selectors.snapshot_for(version)
        response = _after_change(request, walk, snapshot, engine.evaluate(snapshot, {}))
        # A browser-session cookie: it goes when the browser closes (shared workstations).
        response.set_signed_cookie(
            _walk_cookie(slug),
            str(walk.pk),
            salt=WALK_COOKIE_SALT,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
        return response
    unfinished = None if "new" in request.GET else _unfinished_walk(request, slug)
    context = {"version": version, "pathway": version.pathway, "unfinished": unfinished}
    response = render(request, "pathways/intro.html", context)
    add_never_cache_headers(response)
    return response


def _unfinished_walk(request: HttpRequest, slug: str) -> Walk | None:
    """This browser's last walk of the pathway, if it is not finished."""
    walk_id = request.get_signed_cookie(_walk_cookie(slug), default=None, salt=WALK_COOKIE_SALT)
    if not walk_id or not _is_uuid(walk_id):
        return None
    return Walk.objects.filter(
        pk=walk_id, completed_at__isnull=True, is_preview=False, version__pathway__slug=slug
    ).first()


@require_safe
@reads_language_once
def walk_detail(request: HtmxHttpRequest, slug: str, walk_id: uuid.UUID) -> HttpResponse:
    walk = _walk(request, walk_id, slug)
    snapshot = selectors.snapshot_for(walk.version)
    result = engine.recall(snapshot, walk.answers)
    if not result.complete:
        assert result.current is not None  # an unfinished walk stops at a step
        return redirect(presentation.step_url(slug, walk.pk, result.current))
    return _render_walk(request, walk, snapshot, result)


@require_http_methods(["GET", "HEAD", "POST"])
@reads_language_once
def walk_step(request: HtmxHttpRequest, slug: str, walk_id: uuid.UUID, node: str) -> HttpResponse:
    walk = _walk(request, walk_id, slug)
    snapshot = selectors.snapshot_for(walk.version)
    result = engine.recall(snapshot, walk.answers)
    if not engine.askable(snapshot, result, node):
        if request.method != "POST":
            return redirect("pathways:walk_detail", slug=slug, walk_id=walk.pk)
        alert = _("That question is not part of this walk's path now. Nothing was changed.")
        return _render_walk(request, walk, snapshot, result, alert=alert, status=409)
    if request.method != "POST":
        return _render_walk(request, walk, snapshot, result, node=node)

    form = StepForm(
        snapshot, snapshot.nodes[node], answers=walk.answers, revision=walk.revision, data=request.POST
    )
    if not form.is_valid():
        return _render_walk(request, walk, snapshot, result, node=node, form=form, status=422)
    given, forget = form.answers()
    old_answers = dict(walk.answers)
    try:
        if form.cleaned_data["revision"] != walk.revision:
            raise services.StaleWalk
        new_result = services.record_step(
            walk, snapshot, given=given, forget=forget, expected_revision=form.cleaned_data["revision"]
        )
    except services.StaleWalk:
        walk.refresh_from_db()
        result = engine.recall(snapshot, walk.answers)
        alert = _(
            "This walk changed since this page was loaded (another tab, or the form was sent twice). "
            "Nothing was changed; here is its current state."
        )
        return _render_walk(request, walk, snapshot, result, alert=alert, status=409)
    changed = presentation.what_changed(snapshot, result, new_result, old_answers, walk.answers)
    notices = {"changes": [changed] if changed else [], "conversions": form.conversions()}
    return _after_change(request, walk, snapshot, new_result, notices=notices)


@require_safe
def walk_flowchart(request: HtmxHttpRequest, slug: str, walk_id: uuid.UUID) -> HttpResponse:
    """The pathway's flowchart with this walk's path: loaded into a step page when its panel is
    opened (htmx), or a page of its own (no JavaScript, or a link opened on its own)."""
    walk = _walk(request, walk_id, slug)
    snapshot = selectors.snapshot_for(walk.version)
    result = engine.recall(snapshot, walk.answers)
    step = request.GET.get("step", "")
    showing = step if engine.askable(snapshot, result, step) else result.current
    context = {
        "walk": walk,
        "pathway": walk.version.pathway,
        "version": walk.version,
        "flowchart": presentation.walk_flowchart(snapshot, result, walk.answers, slug, walk.pk, showing),
        "back_url": presentation.step_url(slug, walk.pk, showing)
        if showing
        else presentation.walk_url("pathways:walk_detail", slug, walk.pk),
    }
    template = "pathways/flowchart.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#chart"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    _no_store(response)
    return response


@csrf_exempt
@api.require_post
def api_evaluate(request: HttpRequest, slug: str) -> JsonResponse:
    try:
        raw = request.body
    except RequestDataTooBig:
        return JsonResponse({"errors": {"case": api.TOO_LARGE}}, status=400)
    status, body = api.evaluate_case(slug, raw)
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def _walk(request: HttpRequest, walk_id: uuid.UUID, slug: str) -> Walk:
    """The walk, if this request may see it: a draft's preview walk is for staff only."""
    walk = selectors.walk_for(walk_id, slug)
    if walk.is_preview and not (request.user.is_authenticated and request.user.is_staff):
        raise Http404("No such walk.")
    return walk


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _after_change(
    request: HtmxHttpRequest,
    walk: Walk,
    snapshot: engine.Snapshot,
    result: engine.Evaluation,
    *,
    notices: dict[str, list[str]] | None = None,
) -> HttpResponse:
    """The page an answer (or the start) leads to: swapped in for htmx, else a redirect to it.

    ``notices`` (what the answer changed and converted) are shown once, on that page: in the
    swap, or kept as messages for the page the redirect opens.
    """
    slug = walk.version.pathway.slug
    step_urls = presentation.step_urls(slug, walk.pk)
    if result.complete:
        url = presentation.walk_url("pathways:walk_detail", slug, walk.pk)
    else:
        assert result.current is not None  # an unfinished walk stops at a step
        url = step_urls(result.current)
    if not request.htmx:
        for text in (notices or {}).get("changes", []):
            messages.info(request, text, extra_tags=CHANGED_TAG)
        for text in (notices or {}).get("conversions", []):
            messages.info(request, text, extra_tags=CONVERTED_TAG)
        return _see_other(url)
    response = _render_walk(request, walk, snapshot, result, step_urls=step_urls, notices=notices)
    response["HX-Push-Url"] = url
    return response


def _notices(request: HttpRequest) -> dict[str, list[str]]:
    """What the last answer did, shown once on the page it leads to: what changed, what was converted."""
    notices: dict[str, list[str]] = {"changes": [], "conversions": []}
    for message in messages.get_messages(request):
        if CHANGED_TAG in message.tags:
            notices["changes"].append(message.message)
        elif CONVERTED_TAG in message.tags:
            notices["conversions"].append(message.message)
    return notices


# Django's never-cache headers of the current second: (the second, Expires, Cache-Control).
_never_cache: tuple[int, str, str] = (-1, "", "")


def _no_store(response: HttpResponse) -> None:
    """``add_never_cache_headers(response)``, for every walk page: Django's headers, worked out
    once a second (their Expires is the current second) and put on a response that has none."""
    global _never_cache
    if response.has_header("Expires") or response.has_header("Cache-Control"):
        add_never_cache_headers(response)
        return
    second = int(time.time())
    headers = _never_cache
    if headers[0] != second:
        probe = HttpResponse()
        add_never_cache_headers(probe)
        headers = _never_cache = (second, probe["Expires"], probe["Cache-Control"])
    response["Expires"] = headers[1]
    response["Cache-Control"] = headers[2]


def _see_other(url: str) -> HttpResponse:
    response = HttpResponse(status=303)
    response["Location"] = url
    return response


def _render_walk(
    request: HtmxHttpRequest,
    walk: Walk,
    snapshot: engine.Snapshot,
    result: engine.Evaluation,
    *,
    node: str | None = None,
    form: StepForm | None = None,
    alert: str = "",
    status: int = 200,
    step_urls: presentation.StepUrls | None = None,
    notices: dict[str, list[str]] | None = None,
) -> HttpResponse:
    slug = walk.version.pathway.slug
    showing = node or result.current
    step_urls = step_urls or presentation.step_urls(slug, walk.pk)
    context: dict[str, Any] = {
        "walk": walk,
        "preview": walk.is_preview,
        "version": walk.version,
        "pathway": walk.version.pathway,
        "snapshot": snapshot,
        "result": result,
        "alert": alert,
        "trail": presentation.trail(snapshot, result, walk.answers, slug, walk.pk, step_urls),
        "references": list(snapshot.references.values()),
        "stages": presentation.stages(snapshot, result, showing),
        # Reopened after a pause (by its URL, a bookmark, the browser's history): say whose it may be.
        "resumed": request.method != "POST" and timezone.now() - walk.updated_at > PAUSE,
        # What the last answer did: given by the answer's own request, else left as messages.
        **(notices if notices is not None else _notices(request)),
    }
    if showing is None:
        assert result.outcome is not None  # no step to show: the walk reached its outcome
        template = "pathways/result.html"
        # Only the result explains each recommendation; steps stay light to swap.
        recs = presentation.rec_views(snapshot, result.recommendations, result)
        context.update(
            recommendations=recs,
            outcome=snapshot.nodes[result.outcome],
            plan=presentation.plan(snapshot, result),
            key_inputs=presentation.key_inputs(snapshot, result),
            cautions=[rec for rec in recs if rec.section == "caution"],
            sections=presentation.grouped(recs, include_cautions=False, include_folded=False),
            done_along_the_way=presentation.done_along_the_way(recs),
            cited={ref.label for ref in presentation.cited_references(snapshot, recs)},
            trace=presentation.trace_steps(snapshot, result),
            notes=presentation.interpretation_notes(snapshot, result),
            newer=presentation.newer_guidance(snapshot, result, walk.answers),
            flowchart=presentation.walk_flowchart(snapshot, result, walk.answers, slug, walk.pk, None),
            walk_url=request.build_absolute_uri(presentation.walk_url("pathways:walk_detail", slug, walk.pk)),
        )
        context["report_text"] = presentation.report_text(
            snapshot=snapshot,
            result=result,
            recs=recs,
            version=walk.version,
            changed_at=walk.updated_at,
            newer=context["newer"],
        )
        context["report_time"] = presentation.local_time_text(walk.updated_at)
        # An htmx swap gets the #walk partial, which then carries its own <title> for the tab.
        context["partial"] = bool(request.htmx and not request.htmx.history_restore_request)
        if context["partial"]:
            template += "#walk"
        response = render(request, template, context, status=status)
    else:
        step_node = snapshot.nodes[showing]
        context.update(
            node=step_node,
            changing=showing != result.current,
            action=step_urls(showing),
            flowchart_url=presentation.walk_url("pathways:walk_flowchart", slug, walk.pk),
            stage_label=presentation.current_stage_label(context["stages"]),
            csrf_token=_form_token(request),
            # Without a bound form (errors to show), the form shows the walk's answers.
            form=form,
            recommendations=result.recommendations,
            partial=bool(request.htmx and not request.htmx.history_restore_request),
        )
        # An htmx swap gets the #walk part alone, which then carries its own <title> for the tab.
        if context["partial"]:
            response = HttpResponse(fragments.walk_swap(request, context), status=status)
        else:
            page = {**context, "walk_html": fragments.walk_step(request, context)}
            response = render(request, "pathways/step.html", page, status=status)
            response.content = fragments.tidy_page(response.content)
    patch_vary_headers(response, ("HX-Request",))
    _no_store(response)
    return response


# A masked CSRF token, as ``get_token`` makes them (the 32-character secret is never echoed).
_MASKED_TOKEN = re.compile(r"[a-zA-Z0-9]{64}")


def _form_token(request: HttpRequest) -> str:
    """The CSRF token of the step form in a response to ``request``.

    An answer's post carried a masked token that the CSRF middleware has just checked: the page it
    leads to carries that one back (as the form it came from did). It names the same secret as a
    fresh one would, and only a request that already held it can see it again. Any other request
    gets a freshly masked token (``get_token``).
    """
    if (
        request.method == "POST"
        and getattr(request, "csrf_processing_done", False)
        and not getattr(request, "_dont_enforce_csrf_checks", False)
    ):
        # The token the middleware checked: the form's field, else the header.
        sent = request.POST.get("csrfmiddlewaretoken", "") or request.META.get(settings.CSRF_HEADER_NAME, "")
        if _MASKED_TOKEN.fullmatch(sent):
            return sent
    return get_token(request)
