"""Admin forms as a browser posts them: every page an editor can open saves, and no content row of a
draft can be linked to a row of another version."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib import admin as django_admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from pathways import authoring
from pathways.content_io import export_document
from pathways.models import (
    CONTENT_MODELS,
    Edge,
    EdgeCondition,
    Node,
    NodeField,
    Pathway,
    PathwayVersion,
    Recommendation,
    RecommendationCondition,
    Reference,
    SafetyRule,
    SafetyRuleCondition,
    Variable,
    Walk,
)
from tests.test_admin import change_url

pytestmark = pytest.mark.django_db

IGNORED_INPUTS = {"submit", "button", "image", "reset", "file"}


class AdminFormParser(HTMLParser):
    """The fields a browser would post from the admin's main form (``id="…_form"``)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: list[tuple[str, str]] = []
        self.submits: set[str] = set()
        self.kinds: dict[str, str] = {}
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
            self.kinds[name] = kind
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
def draft(pnet_version: PathwayVersion) -> PathwayVersion:
    return authoring.new_draft(pnet_version)


def rows_of(model: type, draft: PathwayVersion, superuser: Any) -> list[Any]:
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
        return [superuser]
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


def main_fields(form: AdminFormParser) -> list[tuple[str, str]]:
    """The fields of the edited object itself, without its inlines' rows and management fields."""
    return [(name, value) for name, value in form.fields if "-" not in name]


DATE = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")


def copy_of(source: AdminFormParser) -> list[tuple[str, str]]:
    """A row's own fields, with text and numbers changed so that the copy is unique in its version."""
    copied = []
    for name, value in main_fields(source):
        kind = source.kinds.get(name)
        if kind == "text" and value and not DATE.fullmatch(value):
            value = f"{value}-2"
        elif kind == "number" and value:
            value = str(int(value) + 100) if value.isdigit() else str(float(value) + 100)
        copied.append((name, value))
    return copied


ADDABLE = [model for model in admin_models() if model._meta.app_label == "pathways"]


@pytest.mark.parametrize("persona", ["superuser", "editor"])
@pytest.mark.parametrize("model", ADDABLE, ids=lambda model: model._meta.label)
def test_every_add_form_saves_a_copy_of_a_draft_row(
    request: pytest.FixtureRequest, persona: str, model: type, draft: PathwayVersion, superuser: Any
) -> None:
    client = request.getfixturevalue(f"{persona}_client")
    url = reverse(f"admin:pathways_{model._meta.model_name}_add")
    if model in CONTENT_MODELS:
        url += f"?version={draft.pk}"
    page = client.get(url)
    if page.status_code == 403:  # no add page for this persona: nothing to save
        assert not django_admin.site._registry[model].has_add_permission(page.wsgi_request)
        return
    add = parse_form(page.content.decode())
    assert len(add.fields) <= settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    source_row = rows_of(model, draft, superuser)[-1]
    copied = copy_of(parse_form(client.get(change_url_of(model, source_row)).content.decode()))
    names = {name for name, _ in copied}
    fields = [(n, v) for n, v in add.fields if n not in names or n == "csrfmiddlewaretoken"] + copied
    # A field fixed on the row's change page (read-only there, e.g. a published pathway's slug) is
    # still asked on the add page: fill it from the row, made unique like the copied ones.
    fields = [
        (n, f"{getattr(source_row, n)}-2")
        if not v and add.kinds.get(n) == "text" and isinstance(getattr(source_row, n, None), str)
        else (n, v)
        for n, v in fields
    ]
    copied = [
        *copied,
        *((n, v) for n, v in fields if n not in names and n in {n for n, _ in main_fields(add)}),
    ]
    before = set(model.objects.values_list("pk", flat=True))
    response = client.post(url, as_post(fields))
    assert response.status_code == 302, (persona, model, response.status_code)
    (new_pk,) = set(model.objects.values_list("pk", flat=True)) - before
    saved = parse_form(client.get(change_url_of(model, model.objects.get(pk=new_pk))).content.decode())
    shown = {name for name, _ in main_fields(saved)}
    assert comparable(main_fields(saved)) == comparable([(n, v) for n, v in copied if n in shown])


@pytest.mark.parametrize("model", admin_models(), ids=lambda model: model._meta.label)
def test_every_change_form_saves_unchanged_and_loses_nothing(
    superuser_client: Client, editor_client: Client, model: type, draft: PathwayVersion, superuser: Any
) -> None:
    make_access_records()
    before = export_document(draft)
    rows = largest_rows(superuser_client, model, rows_of(model, draft, superuser))
    for persona, client in (("superuser", superuser_client), ("editor", editor_client)):
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


def test_the_draft_version_page_saves_a_changed_note(superuser_client: Client, draft: PathwayVersion) -> None:
    url = change_url(draft)
    fields = [(n, v) for n, v in parse_form(superuser_client.get(url).content.decode()).fields if n != "note"]
    response = superuser_client.post(url, as_post([*fields, ("note", "Ki-67 thresholds rechecked")]))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.note == "Ki-67 thresholds rechecked"


def test_the_draft_version_page_links_every_content_row(
    superuser_client: Client, draft: PathwayVersion
) -> None:
    page = superuser_client.get(change_url(draft)).content.decode()
    for model in (Variable, Node, Recommendation, Reference, SafetyRule):
        for row in model.objects.filter(version=draft):
            assert f'href="{change_url(row)}"' in page, row
        add = reverse(f"admin:pathways_{model._meta.model_name}_add")
        assert f'href="{add}?version={draft.pk}"' in page


# No cross-version links ------------------------------------------------------------------------


@pytest.fixture
def other_draft(draft: PathwayVersion, pnet_version: PathwayVersion) -> PathwayVersion:
    return authoring.new_draft(pnet_version)


def stored_rows() -> dict[str, int]:
    counts = {model._meta.label: model.objects.count() for model in CONTENT_MODELS}
    counts["nodes"] = Recommendation.nodes.through.objects.count()
    counts["citations"] = Recommendation.citations.through.objects.count()
    return counts


def errors_by_name(response: Any) -> dict[str, list[str]]:
    """Every form error on an admin page, by the posted name of its field ("__all__" when none)."""
    errors: dict[str, list[str]] = {}
    for name, messages in response.context["adminform"].form.errors.items():
        errors[name] = list(messages)
    for inline in response.context["inline_admin_formsets"]:
        for form in inline.formset.forms:
            for name, messages in form.errors.items():
                errors[f"{form.prefix}-{name}"] = list(messages)
    return errors


def post_form(client: Client, url: str, values: dict[str, Any]) -> Any:
    """Post a page's form as rendered, with ``values`` replacing or adding fields."""
    fields = as_post(parse_form(client.get(url).content.decode()).fields)
    for name, value in values.items():
        fields[name] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return client.post(url, fields)


def one_row(prefix: str, **fields: Any) -> dict[str, Any]:
    return {f"{prefix}-TOTAL_FORMS": 1, **{f"{prefix}-0-{name}": value for name, value in fields.items()}}


def add_url(model: type, version: PathwayVersion) -> str:
    return f"{reverse(f'admin:pathways_{model._meta.model_name}_add')}?version={version.pk}"


def node(version: PathwayVersion, slug: str = "ki67") -> Node:
    return Node.objects.get(version=version, slug=slug)


def variable(version: PathwayVersion, key: str = "ki67_percent") -> Variable:
    return Variable.objects.get(version=version, key=key)


def reference(version: PathwayVersion) -> Reference:
    return Reference.objects.filter(version=version).order_by("order").first()


def recommendation_fields(draft: PathwayVersion) -> dict[str, Any]:
    return {
        "version": draft.pk,
        "code": "nf.cross-version",
        "section": "general",
        "title": "A new recommendation",
        "text": "Text.",
        "citations": [reference(draft).pk],
    }


def node_fields(draft: PathwayVersion) -> dict[str, Any]:
    return {"version": draft.pk, "slug": "new-step", "kind": "question", "stage": "workup", "title": "New"}


def condition(other: PathwayVersion) -> dict[str, Any]:
    return one_row("conditions", variable=variable(other).pk, op="le", value="20")


CROSS_VERSION_ADDS = {
    "recommendation placed at another version's node": (
        Recommendation,
        lambda d, o: {**recommendation_fields(d), "nodes": [node(d).pk, node(o).pk]},
        "nodes",
    ),
    "recommendation citing another version's reference": (
        Recommendation,
        lambda d, o: {**recommendation_fields(d), "citations": [reference(o).pk]},
        "citations",
    ),
    "recommendation condition on another version's variable": (
        Recommendation,
        lambda d, o: {**recommendation_fields(d), **condition(o)},
        "conditions-0-variable",
    ),
    "node asking another version's variable": (
        Node,
        lambda d, o: {**node_fields(d), **one_row("node_fields", variable=variable(o).pk, order=1)},
        "node_fields-0-variable",
    ),
    "node with an edge to another version's node": (
        Node,
        lambda d, o: {**node_fields(d), **one_row("out_edges", target=node(o).pk, order=1)},
        "out_edges-0-target",
    ),
    "edge condition on another version's variable": (
        Edge,
        lambda d, o: (
            {"version": d.pk, "source": node(d, "syndrome").pk, "target": node(d).pk, "order": 9}
            | condition(o)
        ),
        "conditions-0-variable",
    ),
    "safety rule condition on another version's variable": (
        SafetyRule,
        lambda d, o: {"version": d.pk, "name": "new-rule", **condition(o)},
        "conditions-0-variable",
    ),
}


def assert_refused(response: Any, field: str, before: dict[str, int], admin: Client, draft: Any) -> None:
    assert response.status_code == 200, response.status_code
    errors = errors_by_name(response)
    assert field in errors, errors
    assert stored_rows() == before
    for name in ("change", "diagram", "diff"):
        url = reverse(f"admin:pathways_pathwayversion_{name}", args=[draft.pk])
        assert admin.get(url).status_code == 200, name


@pytest.mark.parametrize("opened", ["from the version page", "from the list"])
@pytest.mark.parametrize("other", ["published", "another draft"])
@pytest.mark.parametrize("case", sorted(CROSS_VERSION_ADDS))
def test_add_form_refuses_a_link_to_another_version(
    editor_client: Client,
    superuser_client: Client,
    case: str,
    other: str,
    opened: str,
    draft: PathwayVersion,
    other_draft: PathwayVersion,
    pnet_version: PathwayVersion,
) -> None:
    """Opened from the version page the add form knows its version; from the list it does not."""
    model, values, field = CROSS_VERSION_ADDS[case]
    before = stored_rows()
    target = pnet_version if other == "published" else other_draft
    url = add_url(model, draft)
    if opened == "from the list":
        url = url.partition("?")[0]
    response = post_form(editor_client, url, values(draft, target))
    assert_refused(response, field, before, superuser_client, draft)


def test_a_link_to_another_draft_is_refused_naming_that_draft(
    editor_client: Client, draft: PathwayVersion, other_draft: PathwayVersion
) -> None:
    values = {**recommendation_fields(draft), "nodes": [node(draft).pk, node(other_draft).pk]}
    response = post_form(editor_client, reverse("admin:pathways_recommendation_add"), values)
    assert errors_by_name(response)["nodes"] == [
        f"“{node(other_draft)}” of another version ({other_draft}): choose only nodes of this version."
    ]


@pytest.mark.parametrize("field", ["source", "target"])
def test_edge_add_form_refuses_a_node_of_another_draft(
    editor_client: Client,
    superuser_client: Client,
    field: str,
    draft: PathwayVersion,
    other_draft: PathwayVersion,
) -> None:
    values = {"version": draft.pk, "source": node(draft, "syndrome").pk, "target": node(draft).pk, "order": 9}
    values[field] = node(other_draft).pk
    before = stored_rows()
    assert_refused(
        post_form(editor_client, add_url(Edge, draft), values), field, before, superuser_client, draft
    )


def test_edge_change_form_refuses_a_target_in_another_draft(
    editor_client: Client, superuser_client: Client, draft: PathwayVersion, other_draft: PathwayVersion
) -> None:
    edge = Edge.objects.filter(version=draft).order_by("pk").first()
    before = stored_rows()
    response = post_form(editor_client, change_url(edge), {"target": node(other_draft).pk})
    assert_refused(response, "target", before, superuser_client, draft)
    assert Edge.objects.get(pk=edge.pk).target.version == draft


def test_add_forms_offer_only_rows_of_the_version_being_added_to(
    editor_client: Client, draft: PathwayVersion, other_draft: PathwayVersion
) -> None:
    offered = []
    for model in (Recommendation, Node, Edge, SafetyRule):
        response = editor_client.get(add_url(model, draft))
        forms = [response.context["adminform"].form]
        forms += [inline.formset.empty_form for inline in response.context["inline_admin_formsets"]]
        for form in forms:
            for field in form.fields.values():
                queryset = getattr(field, "queryset", None)
                if queryset is not None and queryset.model in (Node, Variable, Reference):
                    offered.append((model.__name__, queryset.model.__name__))
                    assert set(queryset.values_list("version", flat=True)) == {draft.pk}, offered[-1]
    assert ("Recommendation", "Node") in offered and ("Node", "Variable") in offered


def test_models_refuse_a_link_to_another_version(draft: PathwayVersion, other_draft: PathwayVersion) -> None:
    here, there = node(draft), node(other_draft)
    rows = {
        "target": Edge(version=draft, source=here, target=there, order=9),
        "source": Edge(version=draft, source=there, target=here, order=9),
        "variable": NodeField(node=here, variable=variable(other_draft), order=9),
    }
    edge = Edge.objects.filter(version=draft).first()
    rule = SafetyRule.objects.filter(version=draft).first()
    rec = Recommendation.objects.filter(version=draft).first()
    for model, parent in ((EdgeCondition, {"edge": edge}), (SafetyRuleCondition, {"rule": rule})):
        rows[model.__name__] = model(**parent, variable=variable(other_draft), op="eq", value=1)
    rows["rec"] = RecommendationCondition(
        recommendation=rec, variable=variable(other_draft), op="eq", value=1
    )
    for name, row in rows.items():
        with pytest.raises(ValidationError) as refused:
            row.full_clean()
        field = name if name in ("target", "source") else "variable"
        assert field in refused.value.message_dict, name
