from __future__ import annotations

from django.urls import path

from . import views

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
    path("api/pathways/<slug:slug>/evaluate", views.api_evaluate, name="api_evaluate"),
]
