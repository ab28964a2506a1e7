from __future__ import annotations

from typing import Any

from django import template

from ..admin.site import pathways_with_versions

register = template.Library()


@register.simple_tag(takes_context=True)
def pathway_versions(context: Any) -> list[dict[str, Any]]:
    """The pathways and their versions for the admin's front page."""
    return pathways_with_versions(context["request"])
