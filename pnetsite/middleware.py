"""Site-wide middleware: no uploads, a static 503 when the database is down, no-store on admin
pages, and django-htmx's request details read straight from the WSGI environ."""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import unquote

import django_htmx.middleware
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from .errors import database_unavailable, upload_refused
from .uploads import FilePartRefused

logger = logging.getLogger("pnetsite.database")


class RefuseUploadsMiddleware:
    """Refuse multipart bodies that hold a file or exceed the body limit, before a view runs.

    Django counts only form fields against ``DATA_UPLOAD_MAX_MEMORY_SIZE`` and would read file parts
    to the end, so a multipart body is judged by its Content-Length before any of it is read, and
    then parsed here with ``RefuseFilesUploadHandler``, which stops at the first file part.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.content_type == "multipart/form-data":
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                return upload_refused(request, 413)
            try:
                request.POST  # noqa: B018 - parse now, so a file part is refused before any view
            except FilePartRefused:
                return upload_refused(request, 400)
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """Answer a view's database connection failure with a static 503 and ``Retry-After``.

    Failures raised outside views (in other middleware) reach ``handler500``, which gives the same
    answer; either way the visitor never sees a traceback.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError | InterfaceError):
            logger.error("Database unavailable: %s", type(exception).__name__, exc_info=exception)
            return database_unavailable(request)
        return None


class NoStoreAdminMiddleware:
    """Keep admin pages out of browser and proxy caches (shared workstations)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/admin/"):
            add_never_cache_headers(response)
        return response


class HtmxDetails(django_htmx.middleware.HtmxDetails):
    """django-htmx's ``request.htmx``, reading its headers from ``request.META``.

    ``request.headers`` is built from every ``HTTP_*`` key of ``META`` on first use, which costs a
    wizard step more than the rest of what it asks of htmx; ``META`` holds the same values under
    the CGI names (``HX-Request`` is ``HTTP_HX_REQUEST``).
    """

    def _get_header_value(self, name: str) -> str | None:
        meta = self.request.META
        key = "HTTP_" + name.upper().replace("-", "_")
        value = meta.get(key) or None
        if value and meta.get(f"{key}_URI_AUTOENCODED") == "true":
            value = unquote(value)
        return value


class HtmxMiddleware(django_htmx.middleware.HtmxMiddleware):
    """django-htmx's middleware with :class:`HtmxDetails` (synchronous only, as the site is)."""

    async_capable = False

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.htmx = HtmxDetails(request)  # type: ignore[attr-defined]
        return self.get_response(request)  # type: ignore[return-value]
