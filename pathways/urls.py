from __future__ import annotations

from django.urls import path

from . import fhir_views, views

app_name = "pathways"

urlpatterns = [
    path("", views.home, name="home"),
    path("pathways/<slug:slug>/", views.pathway_start, name="pathway_start"),
    path("pathways/<slug:slug>/walks/<uuid:walk_id>/", views.walk_detail, name="walk_detail"),
    path(
        "pathways/<slug:slug>/walks/<uuid:walk_id>/steps/<slug:node>/",
        views.walk_step,
        name="walk_step",
    ),
    path(
        "pathways/<slug:slug>/walks/<uuid:walk_id>/flowchart/",
        views.walk_flowchart,
        name="walk_flowchart",
    ),
    path(
        "pathways/<slug:slug>/walks/<uuid:walk_id>/fhir",
        fhir_views.walk_response,
        name="walk_fhir",
    ),
    path("api/pathways/<slug:slug>/evaluate", views.api_evaluate, name="api_evaluate"),
    path("api/pathways/<slug:slug>/$apply", fhir_views.apply, name="api_fhir_apply"),
]
