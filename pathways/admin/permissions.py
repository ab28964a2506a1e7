"""Who may change what in the admin: published and retired versions, and their content, are locked."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from ..models import PathwayVersion


def version_of(obj: Any) -> PathwayVersion | None:
    """The version an object (content row or version) belongs to."""
    if obj is None:
        return None
    if isinstance(obj, PathwayVersion):
        return obj
    for step in getattr(obj, "version_path", "version").split("__"):
        obj = getattr(obj, step, None)
        if obj is None:
            return None
    return obj


def is_locked(obj: Any) -> bool:
    version = version_of(obj)
    return version is not None and version.status != PathwayVersion.Status.DRAFT


class LockedUnlessDraft:
    """Change and delete a version or content row (or, in an inline, add one) only in a draft.

    ``obj`` is the row on a model admin and the row the inline belongs to on an inline.
    """

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and not is_locked(obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and not is_locked(obj)  # type: ignore[misc]


class InlineLockedUnlessDraft(LockedUnlessDraft):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_add_permission(request, obj) and not is_locked(obj)  # type: ignore[misc]
