"""Site-wide middleware: a static 503 when the database is down, and no-store on admin pages."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from .errors import database_unavailable

logger = logging.getLogger("pnetsite.database")


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
