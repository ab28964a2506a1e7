"""The project's URLs plus a bare view, for the benchmark server only."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import include, path
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "POST"])
def bare(request: HttpRequest) -> HttpResponse:
    """The floor: a trivial template through the same middleware (CSRF-checked on POST)."""
    return render(request, "bench/bare.html", {"method": request.method})


urlpatterns = [
    path("bench/bare/", bare, name="bench_bare"),
    path("", include("pnetsite.urls")),
]
