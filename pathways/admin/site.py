"""The admin's front page in an editor's order: the pathways and their versions first, then each
part of a version in the order it is authored, named in clinical words."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Prefetch
from django.http import HttpRequest
from django.urls import reverse

from ..models import (
    Edge,
    GuidanceNote,
    Node,
    Pathway,
    PathwayTestCase,
    PathwayVersion,
    Recommendation,
    Reference,
    SafetyRule,
    Variable,
    Walk,
)

INDEX_TEMPLATE = "admin/pathways/index.html"

# The order an editor works in, and the name each part goes by on the front page and the sidebar.
WORKFLOW: tuple[tuple[type, str], ...] = (
    (Pathway, "Pathways"),
    (PathwayVersion, "Versions (drafts, published, retired)"),
    (Node, "Steps: questions, information and outcomes"),
    (Edge, "Rules: which step follows an answer"),
    (Variable, "Questions' answers (what each step asks)"),
    (Recommendation, "Recommendations"),
    (Reference, "References"),
    (GuidanceNote, "Newer-guidance notes"),
    (SafetyRule, "Safety rules"),
    (PathwayTestCase, "Test cases"),
    (Walk, "Walks"),
)


def in_workflow_order(app_list: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pathways app first, its models in ``WORKFLOW`` order and words; other apps after it."""
    rank = {model: index for index, (model, _) in enumerate(WORKFLOW)}
    names = dict(WORKFLOW)
    for app in app_list:
        if app.get("app_label") != "pathways":
            continue
        for entry in app["models"]:
            entry["name"] = names.get(entry["model"], entry["name"])
        app["models"].sort(key=lambda entry: rank.get(entry["model"], len(rank)))
    app_list.sort(key=lambda app: app.get("app_label") != "pathways")
    return app_list


def install(site: admin.AdminSite) -> None:
    """Give ``site`` the front page and the sidebar in workflow order."""
    plain = site.get_app_list

    def get_app_list(request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        return in_workflow_order(plain(request, app_label))

    site.get_app_list = get_app_list  # type: ignore[method-assign]
    site.index_template = INDEX_TEMPLATE


def pathways_with_versions(request: HttpRequest) -> list[dict[str, Any]]:
    """Each pathway with its versions, newest first, linked to their pages (two queries)."""
    if not request.user.has_perm("pathways.view_pathwayversion"):
        return []
    versions = PathwayVersion.objects.order_by("-number").select_related("published_by")
    return [
        {
            "pathway": pathway,
            "title": next((v.title for v in pathway.versions.all()), pathway.slug),
            "versions": [
                {
                    "version": version,
                    "url": reverse("admin:pathways_pathwayversion_change", args=[version.pk]),
                }
                for version in pathway.versions.all()
            ],
        }
        for pathway in Pathway.objects.prefetch_related(Prefetch("versions", queryset=versions))
    ]
