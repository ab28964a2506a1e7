"""A version's change note as clinicians read it under "What's new in version N"."""

from __future__ import annotations

import re

from django import template

register = template.Library()


@register.filter
def change_note(note: str, number: int) -> str:
    """``note`` without a leading "What's new in version N:" (the heading says it already).

    Returns plain text: the template escapes it.
    """
    pattern = rf"^\s*what[’']?s\s+new\s+in\s+version\s+{int(number)}\s*[:.–—-]?\s*"
    return re.sub(pattern, "", note or "", count=1, flags=re.IGNORECASE)
