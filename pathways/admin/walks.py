"""Walks in the admin: read-only, for support."""

from __future__ import annotations

from django.contrib import admin

from .content import VersionFilter


class WalkAdmin(admin.ModelAdmin):
    list_display = ("id", "version", "is_preview", "created_at", "updated_at", "completed_at")
    list_filter = ("is_preview", ("version", VersionFilter))
    readonly_fields = (
        "id",
        "version",
        "content_hash",
        "is_preview",
        "answers",
        "revision",
        "created_at",
        "updated_at",
        "completed_at",
    )

    def has_add_permission(self, request: object) -> bool:
        return False
