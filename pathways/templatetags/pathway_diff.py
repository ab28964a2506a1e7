"""A text change word by word: deleted words in ``<del>``, inserted ones in ``<ins>``, all escaped."""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .. import diff

register = template.Library()

_TAGS = {diff.DELETED: "del", diff.INSERTED: "ins"}


@register.filter
def word_diff(runs: Iterable[tuple[str, str]]) -> SafeString:
    """The runs of :func:`pathways.diff.word_diff` as HTML; every word of content is escaped."""
    return format_html_join("", "{}", ((_run(kind, text),) for kind, text in runs or ()))


def _run(kind: str, text: str) -> SafeString:
    tag = _TAGS.get(kind)
    if tag is None:
        return format_html("{}", text)
    return format_html("<{}>{}</{}>", tag, text, tag)
