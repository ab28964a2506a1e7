"""Error answers that must not touch the database: they are served while it is down."""

from __future__ import annotations

import sys
from pathlib import Path

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views import defaults

RETRY_AFTER_SECONDS = 30
_PAGE_503 = (Path(__file__).resolve().parent / "pages" / "503.html").read_text(encoding="utf-8")
_PAGE_500 = (Path(__file__).resolve().parent / "pages" / "500.html").read_text(encoding="utf-8")
# Also served by nginx for bodies it refuses itself (deploy/nginx.conf).
_PAGE_413 = (Path(__file__).resolve().parent / "pages" / "413.html").read_text(encoding="utf-8")
_JSON_413 = (Path(__file__).resolve().parent / "pages" / "413.json").read_text(encoding="utf-8")


def database_unavailable(request: HttpRequest) -> HttpResponse:
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"errors": {"service": "The service is temporarily unavailable. Try again shortly."}},
            status=503,
        )
    else:
        response = HttpResponse(_PAGE_503, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    return response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _api_error(key: str, message: str, status: int) -> JsonResponse:
    response = JsonResponse({"errors": {key: message}}, status=status)
    add_never_cache_headers(response)
    return response


def upload_refused(request: HttpRequest, status: int) -> HttpResponse:
    """A body with a file part (400) or too large to read (413): nothing was read or saved."""
    if request.path.startswith("/api/"):
        response = HttpResponse(_JSON_413, status=status, content_type="application/json")
    else:
        response = HttpResponse(_PAGE_413, status=status, content_type="text/html; charset=utf-8")
    add_never_cache_headers(response)
    return response


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler400``: API clients get the API's JSON error shape, people get the page."""
    if _is_api(request):
        return _api_error("request", "The request was refused (bad request or host).", 400)
    return defaults.bad_request(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: an unknown URL under /api/ answers JSON, like every API error."""
    if _is_api(request):
        return _api_error("url", "No such API URL; see POST /api/pathways/<slug>/evaluate.", 404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a database failure anywhere in the request still answers 503."""
    exception = sys.exc_info()[1]
    if isinstance(exception, OperationalError | InterfaceError):
        return database_unavailable(request)
    if _is_api(request):
        return _api_error("service", "The server failed to answer this request.", 500)
    response = HttpResponseServerError(_PAGE_500, content_type="text/html; charset=utf-8")
    add_never_cache_headers(response)
    return response
