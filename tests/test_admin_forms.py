"""Admin forms as a browser posts them: every page an editor can open saves, and no content row of a
draft can be linked to a row of another version."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib import admin as django_admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from pathways import authoring
from pathways.content_io import export_document
from pathways.models import (
    CONTENT_MODELS,
    Node,
    Pathway,
    PathwayVersion,
    Recommendation,
    Reference,
    SafetyRule,
    Variable,
    Walk,
)
from tests.test_admin import change_url, client_for, user_in

pytestmark = pytest.mark.django_db

IGNORED_INPUTS = {"submit", "button", "image", "reset", "file"}


class AdminFormParser(HTMLParser):
    """The fields a browser would post from the admin's main form (``id="…_form"``)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: list[tuple[str, str]] = []
        self.submits: set[str] = set()
        self.found = False
        self._in_form = False
        self._select: dict[str, Any] | None = None
        self._option: dict[str, Any] | None = None
        self._textarea: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value if value is not None else "" for key, value in attrs}
        if tag == "form" and attr.get("id", "").endswith("_form"):
            self._in_form = self.found = True
        if not self._in_form:
            return
        disabled = "disabled" in attr
        if tag == "input":
            kind = attr.get("type", "text").lower()
            name = attr.get("name")
            if kind in IGNORED_INPUTS:
                if kind == "submit" and name:
                    self.submits.add(name)
                return
            if not name or disabled:
                return
            if kind in ("checkbox", "radio"):
                if "checked" in attr:
                    self.fields.append((name, attr.get("value", "on")))
            else:
                self.fields.append((name, attr.get("value", "")))
        elif tag == "select" and attr.get("name") and not disabled:
            self._select = {"name": attr["name"], "multiple": "multiple" in attr, "options": []}
        elif tag == "option" and self._select is not None:
            self._option = {"value": attr.get("value"), "selected": "selected" in attr, "text": ""}
            self._select["options"].append(self._option)
        elif tag == "textarea" and attr.get("name") and not disabled:
            self._textarea = {"name": attr["name"], "text": ""}

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea["text"] += data
        elif self._option is not None:
            self._option["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form = False
        elif tag == "option":
            self._option = None
        elif tag == "textarea" and self._textarea is not None:
            text = self._textarea["text"]
            # A browser drops the newline that directly follows <textarea>.
            if text.startswith("\r\n"):
                text = text[2:]
            elif text.startswith("\n"):
                text = text[1:]
            self.fields.append((self._textarea["name"], text))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            options = self._select["options"]
            chosen = [o for o in options if o["selected"]]
            if not chosen and options and not self._select["multiple"]:
                chosen = options[:1]
            for option in chosen:
                value = option["value"] if option["value"] is not None else option["text"].strip()
                self.fields.append((self._select["name"], value))
            self._select = None


def parse_form(html: str) -> AdminFormParser:
    parser = AdminFormParser()
    parser.feed(html)
    parser.close()
    assert parser.found, "no admin form on the page"
    return parser


def as_post(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    return data


def comparable(fields: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The fields that must survive a save unchanged (the revision counter moves on every save)."""
    return sorted(
        (name, value)
        for name, value in fields
        if name != "csrfmiddlewaretoken" and not name.endswith("edit_revision")
    )


# Personas and rows ------------------------------------------------------------------------------


@pytest.fixture
def root(db: Any) -> Any:
    return get_user_model().objects.create_superuser("root", "root@example.org", "a-long-password-1")


@pytest.fixture
def superuser(root: Any) -> Client:
    return client_for(root)


@pytest.fixture
def editor(db: Any) -> Client:
    return client_for(user_in("Pathway editors", "editor"))


@pytest.fixture
def draft(pnet_version: PathwayVersion) -> PathwayVersion:
    return authoring.new_draft(pnet_version)


def rows_of(model: type, draft: PathwayVersion, root: Any) -> list[Any]:
    """Rows of ``model`` to open: every content row of the draft, or the draft's own rows."""
    if model in CONTENT_MODELS:
        path = getattr(model, "version_path", "version")
        return list(model.objects.filter(**{path: draft}).order_by("pk"))
    if model is PathwayVersion:
        return [draft]
    if model is Pathway:
        return [draft.pathway]
    if model is Walk:
        return [authoring.start_preview(draft)]
    if model is get_user_model():
        return [root]
    rows = list(model.objects.order_by("pk")[:1])
    assert rows, f"no {model._meta.label} row to open"
    return rows


def admin_models() -> list[type]:
    return sorted(django_admin.site._registry, key=lambda model: model._meta.label)


def make_access_records() -> None:
    """One row of each sign-in record, so the lockout admin has rows to open."""
    seen = {"user_agent": "test", "ip_address": "127.0.0.1", "username": "nobody", "path_info": "/"}
    AccessAttempt.objects.create(**seen, failures_since_start=1)
    AccessLog.objects.create(**seen)
    AccessFailureLog.objects.create(**seen)


def fields_of(client: Client, url: str) -> AdminFormParser | None:
    page = client.get(url)
    return parse_form(page.content.decode()) if page.status_code == 200 else None


def largest_rows(client: Client, model: type, rows: list[Any]) -> list[Any]:
    """The first row and the one whose change form posts the most fields; every form fits the limit."""
    sizes = []
    for row in rows:
        form = fields_of(client, change_url_of(model, row))
        assert form is not None, row
        assert len(form.fields) <= settings.DATA_UPLOAD_MAX_NUMBER_FIELDS, (row, len(form.fields))
        sizes.append(len(form.fields))
    largest = rows[sizes.index(max(sizes))]
    return [rows[0]] if largest == rows[0] else [rows[0], largest]


def change_url_of(model: type, row: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[row.pk])


@pytest.mark.parametrize("model", admin_models(), ids=lambda model: model._meta.label)
def test_every_change_form_saves_unchanged_and_loses_nothing(
    superuser: Client, editor: Client, model: type, draft: PathwayVersion, root: Any
) -> None:
    make_access_records()
    before = export_document(draft)
    rows = largest_rows(superuser, model, rows_of(model, draft, root))
    for persona, client in (("superuser", superuser), ("editor", editor)):
        saved = 0
        for row in rows:
            url = change_url_of(model, row)
            form = fields_of(client, url)
            if form is None or "_save" not in form.submits:
                continue  # the persona may not open or change this row: nothing to save
            response = client.post(url, as_post(form.fields))
            assert response.status_code == 302, (persona, url, response.status_code)
            saved += 1
            after = fields_of(client, url)
            assert after is not None and comparable(after.fields) == comparable(form.fields), (persona, url)
        assert export_document(draft) == before
        if model in (*CONTENT_MODELS, PathwayVersion, Pathway) or persona == "superuser":
            assert saved or model is Walk or model._meta.app_label == "axes", (persona, model)


def test_the_draft_version_page_saves_a_changed_note(superuser: Client, draft: PathwayVersion) -> None:
    url = change_url(draft)
    fields = [(n, v) for n, v in parse_form(superuser.get(url).content.decode()).fields if n != "note"]
    response = superuser.post(url, as_post([*fields, ("note", "Ki-67 thresholds rechecked")]))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.note == "Ki-67 thresholds rechecked"


def test_the_draft_version_page_links_every_content_row(superuser: Client, draft: PathwayVersion) -> None:
    page = superuser.get(change_url(draft)).content.decode()
    for model in (Variable, Node, Recommendation, Reference, SafetyRule):
        for row in model.objects.filter(version=draft):
            assert f'href="{change_url(row)}"' in page, row
        add = reverse(f"admin:pathways_{model._meta.model_name}_add")
        assert f'href="{add}?version={draft.pk}"' in page
