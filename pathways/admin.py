from __future__ import annotations

from django.contrib import admin

from .models import (
    Edge,
    EdgeCondition,
    Node,
    NodeField,
    Pathway,
    PathwayVersion,
    Recommendation,
    RecommendationCondition,
    Reference,
    Variable,
    Walk,
)


class VersionInline(admin.TabularInline):
    model = PathwayVersion
    fields = ("number", "status", "published_at", "note")
    readonly_fields = ("published_at",)
    extra = 0
    show_change_link = True


@admin.register(Pathway)
class PathwayAdmin(admin.ModelAdmin):
    list_display = ("title", "slug")
    search_fields = ("title", "slug")
    inlines = [VersionInline]


class VariableInline(admin.TabularInline):
    model = Variable
    fields = ("order", "key", "label", "kind", "unit", "minimum", "maximum", "optional")
    extra = 0
    show_change_link = True


class ReferenceInline(admin.TabularInline):
    model = Reference
    fields = ("order", "label", "citation", "url", "note")
    extra = 0


@admin.register(PathwayVersion)
class PathwayVersionAdmin(admin.ModelAdmin):
    list_display = ("pathway", "number", "status", "published_at", "created_at")
    list_filter = ("pathway", "status")
    readonly_fields = ("content_hash", "created_at", "published_at")
    inlines = [VariableInline, ReferenceInline]


@admin.register(Variable)
class VariableAdmin(admin.ModelAdmin):
    list_display = ("key", "label", "kind", "unit", "optional", "version")
    list_filter = ("version", "kind", "optional")
    search_fields = ("key", "label")


class NodeFieldInline(admin.TabularInline):
    model = NodeField
    extra = 0
    autocomplete_fields = ("variable",)


class OutEdgeInline(admin.TabularInline):
    model = Edge
    fk_name = "source"
    fields = ("order", "target", "note")
    extra = 0
    show_change_link = True


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "kind", "stage", "is_start", "version")
    list_filter = ("version", "kind", "stage")
    search_fields = ("slug", "title")
    inlines = [NodeFieldInline, OutEdgeInline]


class EdgeConditionInline(admin.TabularInline):
    model = EdgeCondition
    extra = 0
    autocomplete_fields = ("variable",)


@admin.register(Edge)
class EdgeAdmin(admin.ModelAdmin):
    list_display = ("__str__", "source", "target", "order", "version")
    list_filter = ("version",)
    search_fields = ("source__slug", "target__slug")
    inlines = [EdgeConditionInline]


class RecommendationConditionInline(admin.TabularInline):
    model = RecommendationCondition
    extra = 0
    autocomplete_fields = ("variable",)


@admin.register(Recommendation)
class RecommendationAdmin(admin.ModelAdmin):
    list_display = ("code", "title", "section", "version")
    list_filter = ("version", "section")
    search_fields = ("code", "title", "text")
    filter_horizontal = ("nodes", "citations")
    inlines = [RecommendationConditionInline]


@admin.register(Reference)
class ReferenceAdmin(admin.ModelAdmin):
    list_display = ("label", "citation", "version")
    list_filter = ("version",)
    search_fields = ("citation",)


@admin.register(Walk)
class WalkAdmin(admin.ModelAdmin):
    list_display = ("id", "version", "created_at", "updated_at", "completed_at")
    list_filter = ("version",)
    readonly_fields = ("id", "version", "answers", "revision", "created_at", "updated_at", "completed_at")

    def has_add_permission(self, request: object) -> bool:
        return False
