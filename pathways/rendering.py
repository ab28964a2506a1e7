"""Admin-authored Markdown to sanitised HTML."""

from __future__ import annotations

from functools import lru_cache

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "b",
    "i",
    "ul",
    "ol",
    "li",
    "a",
    "code",
    "blockquote",
    "sub",
    "sup",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"scope"}}
# Absolute links must name one of these schemes; anything else (relative paths, protocol-relative
# "//host", "/\\host" that browsers read as "//host") is not a link. In-page anchors are allowed.
LINK_PREFIXES = ("https://", "mailto:", "#")


def safe_href(url: str | None) -> str:
    """``url`` if it may be a link in a page (https, mailto or an in-page anchor), else ``""``.

    Any whitespace or control character refuses the URL: browsers drop some of them silently,
    so what the check reads could differ from what the browser follows.
    """
    if not url or any(ord(char) <= 0x20 or 0x7F <= ord(char) <= 0x9F for char in url):
        return ""
    return url if url.lower().startswith(LINK_PREFIXES) else ""


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "href":
        return safe_href(value) or None
    return value


@lru_cache(maxsize=4096)
def render_markdown(text: str) -> SafeString:
    """Render Markdown and keep only a small allow-list of tags and links that :func:`safe_href` allows.

    Cached per text: pathway content changes only with a new version, so the cache stays small.
    """
    html = markdown.markdown(text or "", extensions=["tables"], output_format="html")
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"https", "mailto"},
        attribute_filter=_filter_attribute,
        link_rel="noopener noreferrer",
    )
    return mark_safe(cleaned)  # noqa: S308 - nh3 output is sanitised
