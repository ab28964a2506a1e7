"""A step renders the same HTML from the fragment caches as rendered plainly, for every step.

Every class of walk of the published PNET version is cut into the states its walk passes through;
each step a clinician can see in them (the current question, and every earlier question opened to
change it, with its answer filled in) is rendered as the htmx swap with the caches and without,
and the two must be the same, byte for byte, but for the per-request CSRF token.
"""

from __future__ import annotations

import copy
import dataclasses
import random
import re
import uuid
from typing import Any

import pytest
from django import forms as django_forms
from django.contrib.auth.models import AnonymousUser
from django.template import engines
from django.test import RequestFactory
from django.urls import reverse, set_script_prefix
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django_htmx.middleware import HtmxDetails

from pathways import engine, fragments, presentation, selectors, stencil, views
from pathways import forms as forms_module
from pathways.forms import StepForm
from pathways.models import PathwayVersion, Walk
from tests import cases

pytestmark = pytest.mark.django_db
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
# The result page says when it was made (for the printed report).
NOW = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d\.\d+\+00:00")


def make_walk(version: PathwayVersion, answers: dict[str, Any], revision: int | None = None) -> Walk:
    now = timezone.now()
    revision = len(answers) if revision is None else revision
    return Walk(version=version, answers=answers, revision=revision, created_at=now, updated_at=now)


def render(
    walk: Walk,
    snapshot: engine.Snapshot,
    node: str | None,
    *,
    htmx: bool = True,
    form: StepForm | None = None,
) -> str:
    """The step page (or the result page, ``node`` None on a complete walk) as the view renders it."""
    request = RequestFactory().get("/", **({"HTTP_HX_REQUEST": "true"} if htmx else {}))
    request.user = AnonymousUser()
    request.htmx = HtmxDetails(request)  # type: ignore[attr-defined]
    result = engine.evaluate(snapshot, walk.answers)
    response = views._render_walk(request, walk, snapshot, result, node=node, form=form)  # type: ignore[arg-type]
    return NOW.sub("-", CSRF.sub('name="csrfmiddlewaretoken" value="-"', response.content.decode()))


def both(walk: Walk, snapshot: engine.Snapshot, node: str | None, **kwargs: Any) -> tuple[str, str]:
    """The page with the caches, and rendered plainly."""
    fast = render(walk, snapshot, node, **kwargs)
    with fragments.uncached():
        plain = render(walk, snapshot, node, **kwargs)
    return fast, plain


def step_states(snapshot: engine.Snapshot) -> dict[tuple[Any, ...], tuple[dict[str, Any], str]]:
    """Every step page of every class of walk, once per what the page is made of: the question
    shown, its answers, the path (the trail, the stages, the recommendations so far)."""
    states: dict[tuple[Any, ...], tuple[dict[str, Any], str]] = {}
    for answers, complete in engine.enumerate_cases(snapshot):
        keys = list(complete.asked)
        for count in range(len(keys)):
            prefix = {key: answers[key] for key in keys[:count] if key in answers}
            result = engine.evaluate(snapshot, prefix)
            if result.current is None:
                continue
            for node in (slug for slug in result.path if engine.askable(snapshot, result, slug)):
                values = tuple(prefix.get(key) for key in snapshot.nodes[node].fields)
                states.setdefault((node, values, result.path), (prefix, node))
    return states


@pytest.fixture
def placed_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail where the cached form could not take the walk's values (and fell back to crispy)."""
    fill = fragments._fill

    def placed(empty: fragments.EmptyForm, values: dict[str, Any], revision: Any) -> Any:
        filled = fill(empty, values, revision)
        assert filled is not None, f"the cached form for {sorted(values)} fell back to a plain rendering"
        return filled

    monkeypatch.setattr(fragments, "_fill", placed)


@pytest.mark.usefixtures("placed_exactly")
def test_every_step_of_every_case_class_renders_the_same_with_the_caches(pnet_version: Any) -> None:
    snapshot = selectors.snapshot_for(pnet_version)
    states = step_states(snapshot)
    assert len(states) > 1000
    filled = 0
    for prefix, node in states.values():
        fast, plain = both(make_walk(pnet_version, prefix), snapshot, node)
        assert fast == plain, (node, prefix)
        filled += " checked>" in fast or re.search(r'<input type="text" name="\w+" value=', fast) is not None
    assert filled > 100  # the change pages, with their answers in the form


@pytest.mark.parametrize("name", sorted(cases.EXPECTED))
def test_the_full_pages_of_each_named_case_render_the_same_with_the_caches(
    pnet_version: Any, name: str
) -> None:
    snapshot = selectors.snapshot_for(pnet_version)
    case = cases.EXPECTED[name][0]
    answers, errors = engine.validate_case(snapshot, case)
    assert not errors
    result = engine.evaluate(snapshot, answers)
    walk = make_walk(pnet_version, answers)
    for node in [slug for slug in result.path if engine.askable(snapshot, result, slug)] + [None]:
        fast, plain = both(walk, snapshot, node, htmx=False)
        assert fast == plain, node
        assert "<html" in fast


@pytest.mark.usefixtures("placed_exactly")
def test_a_number_answer_is_filled_in_escaped_and_the_revision_is_the_walks(pnet_version: Any) -> None:
    snapshot = selectors.snapshot_for(pnet_version)
    answers, _ = engine.validate_case(snapshot, cases.GASTRINOMA_HEAD_DEEP_1_8CM)
    node = next(slug for slug, item in snapshot.nodes.items() if "tumor_size_cm" in item.fields)
    fast, plain = both(make_walk(pnet_version, answers, revision=41), snapshot, node)
    assert fast == plain
    assert 'name="tumor_size_cm" value="1.8"' in fast
    assert 'name="revision" value="41"' in fast
    assert str(fragments.REVISION_MARK) not in fast


@pytest.mark.parametrize(
    ("key", "typed"), [("tumor_size_cm", "15 mm"), ("tumor_size_cm", "25"), ("suspected_syndrome", "<b>")]
)
def test_a_bound_form_with_errors_renders_plainly_and_shows_them(
    pnet_version: Any, key: str, typed: str
) -> None:
    snapshot = selectors.snapshot_for(pnet_version)
    answers, _ = engine.validate_case(snapshot, cases.GASTRINOMA_HEAD_DEEP_1_8CM)
    node = next(slug for slug, item in snapshot.nodes.items() if key in item.fields)
    walk = make_walk(pnet_version, answers, revision=3)
    data = {"revision": "3", **{field: "" for field in snapshot.nodes[node].fields}, key: typed}
    form = StepForm(snapshot, snapshot.nodes[node], answers=answers, revision=3, data=data)
    assert not form.is_valid()
    fast, plain = both(walk, snapshot, node, form=form)
    assert fast == plain
    assert "is-invalid" in fast
    assert "<b>" not in fast.split('class="step-fields"', 1)[1]


def test_the_form_cache_follows_the_snapshot_not_the_node_slug(pnet_version: Any) -> None:
    """An edited draft is a new snapshot: its changed wording shows at once, never the old one."""
    snapshot = selectors.snapshot_for(pnet_version)
    variable = snapshot.variables["suspected_syndrome"]
    edited = dataclasses.replace(
        snapshot,
        variables={
            **snapshot.variables,
            "suspected_syndrome": dataclasses.replace(variable, label="Edited <label>"),
        },
    )
    walk = make_walk(pnet_version, {})
    first = render(walk, snapshot, None)
    second = render(walk, edited, None)
    assert "Edited &lt;label&gt;" in second
    assert "Edited" not in first
    assert variable.label in first


@pytest.mark.usefixtures("placed_exactly")
def test_the_plain_form_is_what_the_crispy_tag_renders_for_every_question(pnet_version: Any) -> None:
    snapshot = selectors.snapshot_for(pnet_version)
    answers, _ = engine.validate_case(snapshot, cases.INSULINOMA_BODY_SSTR_NEGATIVE_1_8CM)
    # The laboratory values too (optional fields, which no class of walk needs).
    labs = {key: 12.5 for key, variable in snapshot.variables.items() if variable.optional}
    assert labs
    answers = {**answers, **labs}
    tag = engines["django"].from_string("{% load crispy_forms_tags %}{% crispy form %}")
    questions = [node for node in snapshot.nodes.values() if node.kind == engine.QUESTION]
    for node in questions:
        for given in (answers, {}):
            form = StepForm(snapshot, node, answers=given, revision=3)
            crispy = fragments.tidy(tag.render({"form": form}, RequestFactory().get("/")))
            assert fragments.plain_form(form) == crispy, node.slug
            assert fragments.step_form(form) == crispy, node.slug


@pytest.mark.parametrize("script_prefix", ["/", "/clinic/pathways/"])
def test_walk_links_built_from_one_reversed_url_are_what_reverse_gives(
    snapshot: engine.Snapshot, script_prefix: str
) -> None:
    set_script_prefix(script_prefix)
    try:
        for walk_id in (uuid.uuid4(), uuid.uuid4()):
            for pathway in ("pnet", "other-pathway_2"):
                url = presentation.step_urls(pathway, walk_id)
                for slug in [*snapshot.nodes, "a-b_c9"]:
                    assert url(slug) == presentation.step_url(pathway, walk_id, slug)
                    assert url(slug).startswith(script_prefix)
                for name in ("pathways:walk_detail", "pathways:walk_flowchart"):
                    expected = reverse(name, kwargs={"slug": pathway, "walk_id": walk_id})
                    assert presentation.walk_url(name, pathway, walk_id) == expected
    finally:
        set_script_prefix("/")


@pytest.mark.parametrize(("changes", "conversions"), [(1, 0), (0, 1), (2, 1), (1, 2)])
def test_the_notices_come_from_their_stencil_and_read_as_rendered_plainly(
    changes: int, conversions: int
) -> None:
    said = [f'<b onclick="x()">change {index} & "more"</b>' for index in range(changes)]
    converted = [f"<i>{index}</i> mmol/L is 43.24 mg/dL" for index in range(conversions)]
    assert fragments._notices_stencil(changes, conversions, "en") is not None
    fast = fragments.notices(said, converted)
    with fragments.uncached():
        plain = fragments.notices(said, converted)
    assert fast == plain
    assert fast.count("data-changed") == changes and fast.count("data-converted") == conversions
    assert "<b" not in fast and "<i>" not in fast


def test_tidying_skips_lone_line_breaks_and_tidies_as_before() -> None:
    """The page's tidying matches only runs it changes, and gives what the first rule gave:
    each run of whitespace between two tags that holds a line break becomes that line break."""
    first_rule = re.compile(rb">[ \t\r\f\v]*\n\s*<")
    generator = random.Random(15)  # noqa: S311 - test data, not secrets
    for _ in range(20_000):
        page = bytes(generator.choice(b"<>  \n\t\rx") for _ in range(generator.randint(0, 24)))
        expected = first_rule.sub(b">\n<", page)
        assert fragments.tidy_page(page) == expected, page
        assert fragments.tidy_text(page.decode()) == expected.decode(), page
        pieces = page.split(b"x")
        tidied_first = b"x".join(fragments.tidy_text(piece.decode()).encode() for piece in pieces)
        assert fragments.tidy_page(tidied_first) == expected, page
    assert fragments.tidy_text("<a>\u2028\n<b>") == "<a>\u2028\n<b>"  # ASCII whitespace only, as in bytes


def test_a_stencil_filled_as_bytes_is_its_filled_text_encoded() -> None:
    """The swap is joined from parts and pieces encoded on their own: the bytes are the UTF-8 of
    the filled text, whether a value brings its bytes (a cached piece), is safe, or is escaped."""
    shape = stencil.Stencil(("<p>“", "</p><div>", "</div>µ", ""), ("name", "piece", "tail"))
    piece = stencil.encoded(mark_safe("<b>⚠ cached</b>"))
    for values in (
        {"name": '<script>"x" & ‘y’</script>', "piece": piece, "tail": ""},
        {"name": "plain", "piece": mark_safe("<i>safe ✓</i>"), "tail": 3},
    ):
        assert shape.fill_bytes(values) == shape.fill(values).encode()
    assert stencil.utf8(piece) is piece.utf8 and piece == "<b>⚠ cached</b>"
    assert isinstance(piece, SafeString) and conditional_escape(piece) == piece
    with pytest.raises(TypeError):
        stencil.encoded("<b>not marked safe</b>")  # type: ignore[arg-type]


def test_a_step_field_is_cloned_as_deepcopy_would_copy_it(pnet_version: Any) -> None:
    """Each form gets its own fields, as Django's deepcopy of declared fields gives them: the same
    state, and nothing a form changes (widget attributes, choices, errors) reaches another."""
    snapshot = selectors.snapshot_for(pnet_version)
    fields = [forms_module.build_field(variable, required=True) for variable in snapshot.variables.values()]
    fields.append(forms_module._REVISION)
    kinds = set()
    for field in fields:
        clone, copied = forms_module.clone_field(field), copy.deepcopy(field)
        kinds.add(type(clone.widget).__name__)
        assert type(clone) is type(copied) and type(clone.widget) is type(copied.widget)
        assert set(vars(clone)) == set(vars(copied))
        for name, value in vars(copied).items():
            if name != "widget":
                assert getattr(clone, name) == value, name
        assert vars(clone.widget) == vars(copied.widget)
        for shared in ("widget", "error_messages", "validators"):
            assert getattr(clone, shared) is not getattr(field, shared)
        assert clone.widget.attrs is not field.widget.attrs
        clone.widget.attrs["class"] = "changed"
        assert "class" not in field.widget.attrs or field.widget.attrs["class"] != "changed"
        if isinstance(field.widget, django_forms.RadioSelect):
            assert clone.widget.choices == field.widget.choices
            assert clone.widget.choices is not field.widget.choices
    assert {"RadioSelect", "TextInput", "HiddenInput"} <= kinds


def random_tidy_pieces(generator: random.Random) -> list[bytes]:
    """Up to seven short tidy pieces of tags, spaces, line breaks and text."""
    return [
        fragments.tidy_page(bytes(generator.choice(b"<>  \n\t\rx") for _ in range(generator.randint(0, 9))))
        for _ in range(generator.randint(0, 7))
    ]


def test_tidy_pieces_joined_and_tidied_where_they_meet_are_the_tidied_page() -> None:
    """Joining pieces that are each tidy and tidying only where they meet (runs across pieces of
    whitespace only too) gives what tidying the whole page gives."""
    generator = random.Random(7)  # noqa: S311 - test data, not secrets
    changed = 0
    for _ in range(30_000):
        pieces = random_tidy_pieces(generator)
        whole = fragments.tidy_page(b"".join(pieces))
        assert fragments.join_tidied(pieces) == whole, pieces
        changed += whole != b"".join(pieces)
    assert changed > 1_000  # the joints had something to tidy


def test_tidy_pieces_that_meet_plainly_join_as_they_are() -> None:
    generator = random.Random(11)  # noqa: S311 - test data, not secrets
    plain = 0
    for _ in range(30_000):
        pieces = random_tidy_pieces(generator)
        if all(fragments.meets_plainly(piece) for piece in pieces):
            plain += 1
            assert b"".join(pieces) == fragments.join_tidied(pieces) == fragments.tidy_page(b"".join(pieces))
    assert plain > 1_000
    # What does not meet plainly: whitespace first, or more than one line break's worth last.
    for piece in (b"", b" <a>", b"\n<a>", b"<a> ", b"<a>\n ", b"<a> \n", b"\n"):
        assert not fragments.meets_plainly(piece), piece
    for piece in (b"<a>", b"<a>\n", b"x", b"x\n"):
        assert fragments.meets_plainly(piece), piece


def test_a_step_swap_is_tidied_where_its_pieces_meet_not_as_a_whole(
    pnet_version: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the caches, the swap is not scanned whole: every piece comes tidy."""
    snapshot = selectors.snapshot_for(pnet_version)
    result = engine.evaluate(snapshot, {})
    walk = make_walk(pnet_version, {})
    render(walk, snapshot, result.current)  # the stencils built (and tidied) once
    scanned: list[int] = []
    tidy_page = fragments.tidy_page
    monkeypatch.setattr(fragments, "tidy_page", lambda page: scanned.append(len(page)) or tidy_page(page))
    render(walk, snapshot, result.current)
    assert scanned == []
