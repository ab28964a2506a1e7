"""Stored markup in admin-authored content never becomes markup in a page.

Each content field gets a payload (an htmx element that would post on load, an image with an
error handler, a script, ``javascript:`` and protocol-relative links); every page that shows the
field is parsed with ``html.parser`` and must hold none of it as an element or attribute, and on
the pages that load htmx the content must sit inside an ``hx-disable`` container.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from pathways import authoring, presentation, selectors
from pathways.content_io import import_document, load_bundled
from pathways.models import Node, PathwayVersion, Recommendation, Reference, Variable, Walk
from pathways.rendering import render_markdown
from tests.walking import OBSERVATION_CASE, walk_with

MARK = "pwned"
PAYLOAD = (
    f'<span hx-post="/{MARK}/publish/" hx-trigger="load" hx-vals=\'{{"note": "{MARK}"}}\'>{MARK}</span>'
    f'<img src=x onerror="{MARK}()">'
    f"<script>{MARK}()</script>"
    f'<a href="javascript:{MARK}()">{MARK}</a>'
    f"[{MARK}](javascript:{MARK}()) [{MARK}](//evil.example/{MARK})"
)
# Shorter payloads for fields whose column holds fewer characters than the full one.
SHORTER = (
    f'<span hx-get="/{MARK}/" hx-trigger="load">{MARK}</span><img src=x onerror="{MARK}()">',
    f"<b onclick={MARK}()>",
)
HOSTILE_URLS = (f"javascript:{MARK}()", f"//evil.example/{MARK}", f"/\\evil.example/{MARK}")
# Column sizes of the fields planted here (an import refuses anything longer).
LIMITS = {"label": 120, "unit": 20, "title": 200}


def _hostile(original: str, limit: int | None) -> str:
    """The original text with the payload after it, or the longest payload that fits the column."""
    for candidate in (f"{original} {PAYLOAD}", PAYLOAD, *SHORTER):
        if limit is None or len(candidate) <= limit:
            return candidate
    raise AssertionError(f"no payload fits in {limit} characters")


def _append(items: list[dict[str, Any]], name: str, where: Callable[[dict[str, Any]], bool] = bool) -> None:
    for item in items:
        if where(item):
            item[name] = _hostile(item.get(name) or "", LIMITS.get(name))


def _choice_labels(document: dict[str, Any]) -> None:
    for variable in document["variables"]:
        variable["choices"] = [[value, _hostile(label, None)] for value, label in variable.get("choices", [])]


def _pathway(name: str) -> Callable[[dict[str, Any]], None]:
    def plant(document: dict[str, Any]) -> None:
        document["pathway"][name] = _hostile(document["pathway"].get(name, ""), LIMITS.get(name))

    return plant


def _version_note(document: dict[str, Any]) -> None:
    document["version"] = {**(document.get("version") or {}), "note": PAYLOAD}


PLANTERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "variable label": lambda d: _append(d["variables"], "label"),
    "variable help text": lambda d: _append(d["variables"], "help"),
    "variable unit": lambda d: _append(d["variables"], "unit", lambda v: v["kind"] == "number"),
    "choice label": _choice_labels,
    "node title": lambda d: _append(d["nodes"], "title"),
    "node body": lambda d: _append(d["nodes"], "body"),
    "edge note": lambda d: _append(d["edges"], "note"),
    "recommendation title": lambda d: _append(d["recommendations"], "title"),
    "recommendation text": lambda d: _append(d["recommendations"], "text"),
    "recommendation note": lambda d: _append(d["recommendations"], "note"),
    "pathway title": _pathway("title"),
    "pathway summary": _pathway("summary"),
    "pathway intended use": _pathway("intended_use"),
    "pathway disclaimer": _pathway("disclaimer"),
    "pathway source": _pathway("source"),
    "reference citation": lambda d: _append(d["references"], "citation"),
    "reference note": lambda d: _append(d["references"], "note"),
    "version change note": _version_note,
}

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "hx-get", "hx-post"}


class Page(HTMLParser):
    """Every element of a page, and where the payload's marker shows (as text or in attributes)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.marked: list[tuple[str, bool]] = []  # (where, inside an hx-disable container)
        self.stack: list[tuple[str, bool]] = []
        self.feed(html)
        self.close()

    def _disabled(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.elements.append((tag, values))
        disabled = self._disabled() or "hx-disable" in values
        for name, value in values.items():
            if MARK in value:
                self.marked.append((f"<{tag} {name}>", disabled))
        if tag not in VOID:
            self.stack.append((tag, disabled))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if MARK in data:
            where = self.stack[-1][0] if self.stack else ""
            # An HTML <title> (the page's, or the one an htmx swap carries) holds text only, never
            # elements; everything else must sit in a disabled container.
            inside_title = where == "title" and not any(tag == "svg" for tag, _ in self.stack)
            self.marked.append((f"text in <{where}>", self._disabled() or inside_title))


def assert_no_markup_from_content(html: str, *, htmx_page: bool) -> Page:
    page = Page(html)
    for tag, attributes in page.elements:
        assert tag not in {"iframe", "object", "embed", "base"}, (tag, attributes)
        # The admin's own icons and data blocks; none is made from content.
        assert tag != "img" or attributes.get("src", "").startswith("/static/"), (tag, attributes)
        assert tag != "script" or "src" in attributes or attributes.get("type") == "application/json", (
            tag,
            attributes,
        )
        for name, value in attributes.items():
            assert not name.startswith("on"), (tag, name, value)
            bare = name.removeprefix("data-")
            if bare.startswith("hx-"):
                assert MARK not in value and bare != "hx-vals", (tag, name, value)
                assert not (bare == "hx-trigger" and "load" in value), (tag, name, value)
            if name in URL_ATTRIBUTES:
                url = value.strip().lower()
                assert MARK not in url, (tag, name, value)
                assert not url.startswith(("javascript:", "data:", "vbscript:", "//", "/\\")), (tag, value)
    if htmx_page:
        outside = [where for where, disabled in page.marked if not disabled]
        assert outside == [], outside
    return page


def hostile_document(field: str) -> dict[str, Any]:
    document = copy.deepcopy(load_bundled("pnet-v2"))
    PLANTERS[field](document)
    return document


@pytest.fixture
def staff(db: Any) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "pw-1-long-x"))
    return client


def walk_pages(client: Client, walk: Walk) -> dict[str, str]:
    """The step pages of the walk's path (full and htmx), a refused answer, the result and chart."""
    slug = walk.version.pathway.slug
    snapshot = selectors.snapshot_for(walk.version)
    pages: dict[str, str] = {}
    questions = [n for n in snapshot.nodes.values() if n.kind == "question"]
    on_path = [n.slug for n in questions if n.slug in _path(walk)]
    for node in on_path:
        url = presentation.step_url(slug, walk.pk, node)
        pages[f"step {node}"] = client.get(url).content.decode()
        pages[f"step {node} (htmx)"] = client.get(url, headers={"HX-Request": "true"}).content.decode()
    size_url = presentation.step_url(slug, walk.pk, "size")
    refused = client.post(size_url, {"revision": walk.revision, "tumor_size_cm": "-4"})
    assert refused.status_code == 422
    pages["refused answer"] = refused.content.decode()
    pages["result"] = client.get(reverse("pathways:walk_detail", args=[slug, walk.pk])).content.decode()
    chart = reverse("pathways:walk_flowchart", args=[slug, walk.pk])
    pages["flowchart"] = client.get(chart).content.decode()
    pages["flowchart (htmx)"] = client.get(chart, headers={"HX-Request": "true"}).content.decode()
    return pages


def _path(walk: Walk) -> tuple[str, ...]:
    from pathways import engine

    return engine.evaluate(selectors.snapshot_for(walk.version), walk.answers).path


def admin_pages(client: Client, draft: PathwayVersion) -> dict[str, str]:
    def get(name: str, *args: Any) -> str:
        response = client.get(reverse(f"admin:{name}", args=args))
        assert response.status_code == 200, name
        return response.content.decode()

    node = Node.objects.filter(version=draft, kind="question").first()
    return {
        "admin version": get("pathways_pathwayversion_change", draft.pk),
        "admin publish": get("pathways_pathwayversion_publish", draft.pk),
        "admin diagram": get("pathways_pathwayversion_diagram", draft.pk),
        "admin diff": get("pathways_pathwayversion_diff", draft.pk),
        "admin audit": get("pathways_pathwayversion_audit", draft.pk),
        "admin pathway": get("pathways_pathway_change", draft.pathway_id),
        "admin node": get("pathways_node_change", node.pk),
        "admin variables": get("pathways_variable_changelist"),
        "admin variable": get("pathways_variable_change", Variable.objects.filter(version=draft).first().pk),
        "admin recommendation": get(
            "pathways_recommendation_change", Recommendation.objects.filter(version=draft).first().pk
        ),
        "admin references": get("pathways_reference_changelist"),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("field", sorted(PLANTERS))
def test_stored_markup_in_content_is_inert_on_every_page(field: str, pnet_version: Any, staff: Client):
    published = import_document(hostile_document(field), status="published")
    clinician = Client()
    pages = {
        "home": clinician.get("/").content.decode(),
        "start": clinician.get(reverse("pathways:pathway_start", args=["pnet"])).content.decode(),
    }
    pages |= walk_pages(clinician, walk_with(published, OBSERVATION_CASE))
    draft = authoring.new_draft(published)
    preview = staff.post(reverse("admin:pathways_pathwayversion_preview", args=[draft.pk]))
    assert preview.status_code == 302
    walk = Walk.objects.get(version=draft, is_preview=True)
    walk.answers = walk_with(draft, OBSERVATION_CASE).answers
    walk.save()
    pages |= {f"preview {name}": html for name, html in walk_pages(staff, walk).items()}
    checked = {
        name: assert_no_markup_from_content(html, htmx_page=True).marked for name, html in pages.items()
    }
    checked |= {
        name: assert_no_markup_from_content(html, htmx_page=False).marked
        for name, html in admin_pages(staff, draft).items()
    }
    shown = sorted(name for name, marked in checked.items() if marked)
    assert shown, f"the planted {field} reached no page: the test would prove nothing"


@pytest.mark.django_db
def test_help_text_markup_is_shown_as_text_in_the_step_form(pnet_version: Any):
    published = import_document(hostile_document("variable help text"), status="published")
    walk = walk_with(published, {})
    html = Client().get(presentation.step_url("pnet", walk.pk, "syndrome")).content.decode()
    page = assert_no_markup_from_content(html, htmx_page=True)
    assert any(where == "text in <div>" for where, _ in page.marked), page.marked
    assert "&lt;span hx-post=" in html


@pytest.mark.parametrize("url", (*HOSTILE_URLS, "/relative/path", "http://example.org/"))
def test_markdown_link_that_is_not_https_mailto_or_an_anchor_is_not_a_link(url: str):
    rendered = str(render_markdown(f"[source]({url})"))
    assert "href" not in rendered, rendered


@pytest.mark.parametrize("url", ["https://example.org/a", "mailto:tumour-board@example.org", "#ref-1"])
def test_markdown_keeps_https_mailto_and_in_page_links(url: str):
    assert f'href="{url}"' in str(render_markdown(f"[source]({url})"))


@pytest.mark.django_db
@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_reference_with_an_unsafe_url_shows_it_as_text_not_a_link(url: str, pnet_version: Any):
    # An import refuses such URLs; a row stored before that rule (written here around the model's
    # guards) must still never render as a link.
    published = import_document(copy.deepcopy(load_bundled("pnet-v2")), status="published")
    Reference.objects.filter(version=published).update(url=url)
    selectors.clear_snapshot_cache()
    walk = walk_with(published, OBSERVATION_CASE)
    html = Client().get(reverse("pathways:walk_detail", args=["pnet", walk.pk])).content.decode()
    page = Page(html)
    hrefs = [a.get("href", "") for tag, a in page.elements if tag == "a"]
    assert not [h for h in hrefs if MARK in h], hrefs
    shown = [a for tag, a in page.elements if tag == "span" and a.get("class") == "ref-url"]
    assert shown, "the unsafe URL is not shown as text"
    assert Reference.objects.filter(version=published, url=url).exists()


@pytest.mark.django_db
def test_publish_is_refused_for_a_draft_with_a_right_to_left_override_in_a_label(pnet_version: Any):
    draft = authoring.new_draft(pnet_version)
    variable = Variable.objects.get(version=draft, key="tumor_size_cm")
    variable.label = "Tumour size \u202e2 >"
    variable.save()
    with pytest.raises(authoring.PublishRefused) as refused:
        authoring.publish(draft, note="Relabel the size")
    messages = [p.message for p in refused.value.problems if p.code == "unsafe-text"]
    assert messages == [
        "The variable tumor_size_cm: the label contains a right-to-left override (U+202E), "
        "which is invisible: remove it."
    ]
    draft.refresh_from_db()
    assert draft.status == PathwayVersion.Status.DRAFT
