"""Walk-independent pieces of a step page, rendered once per pathway snapshot and language.

A snapshot is built once per version and content hash (``selectors.snapshot_for``; a draft's hash
changes on every edit, so an edited draft gets a new snapshot), so a cache that lives with the
snapshot object can never serve one version's or one draft state's markup for another. What is
cached holds no walk, request or answer: the step form is cached unbound and empty, and the
walk's revision and current answers are put in afterwards (escaped), or the form is rendered
plainly when they cannot be placed exactly.

``uncached()`` switches the caches off for the current thread (the render-equality test renders
every step both ways); ``DEBUG`` switches them off too, since templates reload while developing.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from html import escape as html_escape
from typing import Any

from crispy_forms.utils import render_crispy_form
from django import forms
from django.conf import settings
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from . import engine, presentation, stencil
from .messages import current_language, translated

# A revision no walk reaches: its hidden input is the one place the cached form carries it.
REVISION_MARK = 2_147_483_647
_WHITESPACE = re.compile(r"[ \t\r\f\v]*\n\s*")
# Whitespace between two tags holding a line break, unless it is that line break alone.
_BETWEEN_TAGS = re.compile(rb">(?:[ \t\r\f\v]+\n\s*|\n\s+)<")
_BETWEEN_TAGS_TEXT = re.compile(_BETWEEN_TAGS.pattern.decode(), re.ASCII)
_lock = threading.Lock()
_caches: dict[int, tuple[weakref.ref[engine.Snapshot], dict[Hashable, Any]]] = {}


class _Switch(threading.local):
    off = False  # a class default: a miss on a thread's own local would build an AttributeError


_local = _Switch()


@contextmanager
def uncached() -> Iterator[None]:
    """Render everything plainly on this thread while the block runs."""
    before = _local.off
    _local.off = True
    try:
        yield
    finally:
        _local.off = before


def caching() -> bool:
    return not settings.DEBUG and not _local.off


def cached(snapshot: engine.Snapshot, key: Hashable, build: Callable[[], Any], *, bound: bool = False) -> Any:
    """``build()``, computed once per snapshot, ``key`` and language (without caching: each time).

    ``bound``: one of many keys (one per path, say), kept among the snapshot's last ``BOUND`` used.
    """
    if not caching():
        return build()
    store = _store(snapshot)
    full_key = (key, current_language())
    if bound:
        store = store.setdefault(_RECENT, OrderedDict())
    try:
        value = store[full_key]
    except KeyError:
        value = build()
        with _lock:
            store[full_key] = value
            if bound and len(store) > BOUND:
                store.popitem(last=False)  # type: ignore[call-arg]
        return value
    if bound:
        with _lock:
            if full_key in store:
                store.move_to_end(full_key)  # type: ignore[attr-defined]
    return value


BOUND = 2048
_RECENT = object()  # the key of a snapshot's store of bounded entries


def _store(snapshot: engine.Snapshot) -> dict[Hashable, Any]:
    ident = id(snapshot)
    entry = _caches.get(ident)
    if entry is not None and entry[0]() is snapshot:
        return entry[1]
    with _lock:
        entry = _caches.get(ident)
        if entry is not None and entry[0]() is snapshot:
            return entry[1]
        store: dict[Hashable, Any] = {}

        # The entry goes with its snapshot (an edited draft's old one, a cleared cache).
        def gone(reference: weakref.ref[engine.Snapshot]) -> None:
            _forget(ident, reference)

        reference = weakref.ref(snapshot, gone)
        _caches[ident] = (reference, store)
        return store


def _forget(ident: int, reference: weakref.ref[engine.Snapshot]) -> None:
    with _lock:
        entry = _caches.get(ident)
        if entry is not None and entry[0] is reference:
            del _caches[ident]


def tidy(html: str) -> SafeString:
    """``html`` with each run of whitespace that holds a line break reduced to that line break.

    The step's markup has no ``<pre>``, ``<textarea>`` or multi-line attribute, so a browser
    shows the same page; crispy's templates indent deeply, and the swap is smaller without it.
    """
    return mark_safe(_WHITESPACE.sub("\n", html))  # noqa: S308 - only whitespace removed from safe HTML


def tidy_page(content: bytes) -> bytes:
    """A rendered step page with each run of whitespace between two tags that holds a line break
    reduced to that line break: the templates' indentation, invisible to the page (a step has no
    ``<pre>`` or ``<textarea>``), is a tenth of the swap."""
    return _BETWEEN_TAGS.sub(b">\n<", content)


def tidy_text(html: str) -> str:
    """:func:`tidy_page` of a piece of a page: pieces tidied first leave the page little to do
    (a run between two tags is either inside one piece or spans a joint the page tidies)."""
    return _BETWEEN_TAGS_TEXT.sub(">\n<", html)


def plain_form(form: forms.Form) -> SafeString:
    """The step form as crispy renders it with the form's helper (whitespace tidied)."""
    return tidy(render_crispy_form(form, helper=form.helper))  # type: ignore[attr-defined]


def step_form(form: Any) -> SafeString:
    """The step form: an unbound one from the snapshot's cache with the walk's values put in.

    A bound form (errors, a confirmation box) is always rendered plainly.
    """
    if form.is_bound or not caching():
        return plain_form(form)
    values = {key: form[key].value() for key in form.node.fields}
    filled = _fill(_empty_form(form.snapshot, form.node), values, form["revision"].value())
    return filled if filled is not None else plain_form(form)


def step_form_in(context: Any) -> SafeString:
    """The form of a step page's context: its bound ``form``, or the node's form showing the
    walk's answers (from the cache when it can be, without building a form)."""
    form = context.get("form")
    if form is not None:
        return step_form(form)
    snapshot, node, walk = context["snapshot"], context["node"], context["walk"]
    if caching():
        values = {key: _initial(walk.answers[key]) for key in node.fields if key in walk.answers}
        filled = _fill(_empty_form(snapshot, node), values, walk.revision)
        if filled is not None:
            return filled
    from .forms import StepForm  # forms build on fragments' callers, not the reverse

    return plain_form(StepForm(snapshot, node, answers=walk.answers, revision=walk.revision))


def _initial(value: Any) -> Any:
    """An answer as the step form's initial value (as :class:`pathways.forms.StepForm` gives it)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


@dataclass(frozen=True)
class EmptyForm:
    """A node's unbound form rendered with no answers, and how to put each field's value in."""

    html: str
    # Per field: the radio choices' values in order, or None for a text input; a field of any
    # other widget is missing, and a value for it makes the form render plainly.
    fields: dict[str, tuple[str, ...] | None]


def _empty_form(snapshot: engine.Snapshot, node: engine.Node) -> EmptyForm:
    def build() -> EmptyForm:
        from .forms import StepForm

        form = StepForm(snapshot, node, answers={}, revision=REVISION_MARK)
        fields: dict[str, tuple[str, ...] | None] = {}
        for key in node.fields:
            widget = form.fields[key].widget
            if isinstance(widget, forms.RadioSelect):
                fields[key] = tuple(str(choice) for choice, _label in widget.choices)
            elif isinstance(widget, forms.TextInput):
                fields[key] = None
        return EmptyForm(plain_form(form), fields)

    entry: EmptyForm = cached(snapshot, ("step-form", node.slug), build)
    return entry


def _fill(empty: EmptyForm, values: dict[str, Any], revision: Any) -> SafeString | None:
    """``empty`` with the revision and each field's value (as its bound field gives it), or None
    where one cannot be placed exactly."""
    html = _replace_once(
        empty.html,
        f'name="revision" value="{REVISION_MARK}"',
        f'name="revision" value="{_escape(revision)}"',
    )
    for key, value in values.items():
        if html is None:
            return None
        if value is None or value == "":
            continue
        if key not in empty.fields:
            return None
        choices = empty.fields[key]
        if choices is not None:  # radio buttons: RadioSelect.format_value gives [str(value)]
            chosen = {str(item) for item in value} if isinstance(value, (list, tuple)) else {str(value)}
            for index, choice in enumerate(choices):
                if choice in chosen and html is not None:
                    anchor = f'name="{key}" value="{_escape(choice)}"  id="id_{key}_{index}"'
                    html = _add_to_tag(html, anchor, " checked")
        else:  # a text input: TextInput.format_value gives str(value)
            anchor = f'<input type="text" name="{key}"'
            html = _replace_once(html, anchor, f'{anchor} value="{_escape(value)}"')
    # What mark_safe makes of text: the values were escaped above.
    return SafeString(html) if html is not None else None


def _escape(value: Any) -> str:
    """``django.utils.html.escape(value)``, as text, without its wrapper for lazy strings."""
    return html_escape(str(value))


def _replace_once(html: str, old: str, new: str) -> str | None:
    if html.count(old) != 1:
        return None
    return html.replace(old, new)


def _add_to_tag(html: str, anchor: str, attribute: str) -> str | None:
    """``attribute`` added at the end of the one tag that holds ``anchor``."""
    if html.count(anchor) != 1:
        return None
    end = html.index(">", html.index(anchor) + len(anchor))
    return html[:end] + attribute + html[end:]


def trail_items(trail: presentation.Trail, *, tidied: bool = False) -> SafeString:
    """The answers given so far, one ``pathways/_trail_item.html`` each (from a stencil);
    ``tidied``: as :func:`tidy_text` leaves them (a step's swap, which is tidied)."""
    if not caching():
        return mark_safe("".join(render_to_string(TRAIL_ITEM, {"item": item}) for item in trail))  # noqa: S308 - templates' output
    language = current_language()
    if not tidied:
        return mark_safe("".join([_trail_item(item, language) for item in trail]))  # noqa: S308 - templates' output, values escaped
    prefix = trail.url.prefix
    if prefix is None:
        joined = join_tidied([_tidied_trail_item(item, language) for item in trail])
        return stencil.with_bytes(joined)
    # Each answer's item is cached without its link; every link of a walk starts with its prefix.
    parts_of = cached(trail.snapshot, "trail-item-parts", lambda: _trail_item_parts(trail.snapshot))
    escaped_prefix = _escape(prefix).encode()
    # Items that each meet the next plainly join as they are (a prefix holds no whitespace).
    plainly = bool(escaped_prefix) and _SPACE.isdisjoint(escaped_prefix)
    pieces = []
    for index, (node_slug, key) in enumerate(trail.entries):
        value = trail.answers[key]
        made = parts_of(node_slug, key, value, language) if type(value) in _CACHEABLE else None
        if made is None:
            pieces.append(_tidied_trail_item(trail.items[index], language))
            plainly = False
        else:
            pieces.append(escaped_prefix.join(made[1]))
            plainly = plainly and made[0]
    return stencil.with_bytes(b"".join(pieces) if plainly else join_tidied(pieces))


# The types of answer an item's markup is cached by (a list, say, is not hashable).
_CACHEABLE = frozenset((str, int, float, bool))


ItemParts = tuple[bool, tuple[bytes, ...]]


def _trail_item_parts(snapshot: engine.Snapshot) -> Callable[..., ItemParts | None]:
    """The tidied markup of a trail item, split where the walk's link prefix goes, by the
    step's node slug, the variable, its answer and the language (None without a stencil); and
    whether it meets another such item plainly (:func:`meets_plainly`, with any prefix that holds
    no whitespace)."""
    variables = snapshot.variables

    # Typed: 1, 1.0 and True are equal keys, and show differently.
    @lru_cache(maxsize=4096, typed=True)
    def parts(
        node_slug: str, key: str, value: Any, language: str | None
    ) -> tuple[bool, tuple[bytes, ...]] | None:
        variable = variables[key]
        shape = _trail_item_stencil(variable.optional, language)
        if shape is None or not presentation.StepUrls.appends(node_slug):
            return None
        values = {
            "key": key,
            "label": variable.label,
            "value": translated(variable.display(value)),
            "url": _PREFIX_MARK,
        }
        # A link escaped whole is its prefix and the rest escaped apart (escaping goes by character).
        first, *rest = tidy_page(shape.fill(values).encode()).split(_PREFIX_MARK.encode())
        after = _escape(f"{node_slug}/").encode()
        split = (first, *(after + part for part in rest))
        return meets_plainly(b"/".join(split)), split

    return parts


_PREFIX_MARK = stencil.mark("walk_prefix")  # holds no space or tag: tidying never reaches across it


@lru_cache(maxsize=4096)
def _tidied_trail_item(item: Any, language: str | None) -> bytes:
    return tidy_page(_trail_item(item, language).encode())


TRAIL_ITEM = "pathways/_trail_item.html"
TRAIL_ITEM_VALUES = ("key", "label", "value", "url")


@lru_cache(maxsize=4096)
def _trail_item(item: Any, language: str | None) -> str:
    """One answer of the trail (rendered in the active ``language``): each step of a walk lists
    the answers the step before it listed."""
    shape = _trail_item_stencil(item.optional, language)
    if shape is None:
        return render_to_string(TRAIL_ITEM, {"item": item})
    return shape.fill({name: getattr(item, name) for name in TRAIL_ITEM_VALUES})


@lru_cache(maxsize=64)
def _trail_item_stencil(optional: bool, language: str | None) -> stencil.Stencil | None:
    item = presentation.TrailItem(
        **{name: stencil.mark(name) for name in TRAIL_ITEM_VALUES}, node="", optional=optional
    )
    # Not tidied: the result page, which is not, lists the trail too.
    return stencil.build(TRAIL_ITEM, {"item": item}, values=TRAIL_ITEM_VALUES)


def _tidied(shape: stencil.Stencil | None) -> stencil.Stencil | None:
    return shape.tidied(tidy_text) if shape is not None else None


def recs_so_far(snapshot: engine.Snapshot, recommendations: tuple[engine.Recommendation, ...]) -> SafeString:
    """``pathways/_recs_so_far.html`` for the recommendations given so far, by section; with the
    caches, once per snapshot and distinct list of recommendations.

    A step's recommendations are shown without their "why" (:func:`presentation.rec_views`
    without a result), so each is the snapshot's recommendation of that code, and the list of
    codes says all they show.
    """

    def render() -> SafeString:
        sections = presentation.grouped(presentation.rec_views(snapshot, recommendations))
        return render_to_string(RECS_SO_FAR, {"sections": sections})

    if not caching():
        return render()
    key = ("recs-so-far", tuple(rec.code for rec in recommendations))
    return cached(snapshot, key, lambda: stencil.encoded(tidy_safe(render())), bound=True)


def tidy_safe(html: SafeString) -> SafeString:
    """:func:`tidy_text` of safe markup (only whitespace between tags goes)."""
    return mark_safe(tidy_text(html))  # noqa: S308 - only whitespace removed from safe HTML


RECS_SO_FAR = "pathways/_recs_so_far.html"


def notices(changes: list[str], conversions: list[str]) -> SafeString:
    """What the last answer changed and converted (``pathways/_changed.html``): nothing, most
    often; with the caches, from a stencil per number of each."""
    if not changes and not conversions:
        return SafeString()
    if not caching():
        return render_to_string(NOTICES, {"changes": changes, "conversions": conversions})
    shape = _notices_stencil(len(changes), len(conversions), current_language())
    if shape is None:
        return tidy_safe(render_to_string(NOTICES, {"changes": changes, "conversions": conversions}))
    values = {f"change_{index}": text for index, text in enumerate(changes)}
    values.update({f"conversion_{index}": text for index, text in enumerate(conversions)})
    # Tidied as the page is (the parts were; an escaped text holds no tag), and kept as bytes.
    return stencil.with_bytes(join_tidied(shape.encoded_pieces(values)))


NOTICES = "pathways/_changed.html"


@lru_cache(maxsize=64)
def _notices_stencil(changes: int, conversions: int, language: str | None) -> stencil.Stencil | None:
    change_names = [f"change_{index}" for index in range(changes)]
    conversion_names = [f"conversion_{index}" for index in range(conversions)]
    context = {
        "changes": [stencil.mark(name) for name in change_names],
        "conversions": [stencil.mark(name) for name in conversion_names],
    }
    return _tidied(stencil.build(NOTICES, context, values=(*change_names, *conversion_names)))


# The values of a step's #walk part that vary from walk to walk and that it prints as they are.
WALK_VALUES = ("action", "flowchart_url", "alert", "stage_label", "csrf_token")
WALK_TEMPLATE = "pathways/_step_walk.html"
# What the #walk part takes from a step page's context besides its holes: the same for every walk
# at the step, but for the flags, which are part of the stencil's key.
WALK_FIXED = ("partial", "node", "version", "pathway", "snapshot", "preview", "changing", "form")


def walk_swap(request: HttpRequest, context: dict[str, Any]) -> bytes:
    """:func:`walk_step` as an htmx swap (the part alone), encoded as UTF-8 and tidied as
    :func:`tidy_page` tidies it.

    With the caches, the stencil's parts and the cached pieces are encoded and tidied once; a
    swap then only needs tidying where two pieces meet (:func:`join_tidied`).
    """
    shape = _walk_stencil(context) if caching() else None
    if shape is None:
        return tidy_page(walk_step(request, context).encode())
    return join_tidied(shape.encoded_pieces_from(context, {name: context[name] for name in WALK_VALUES}))


_SPACE = frozenset(b" \t\n\r\f\v")  # what \s matches in bytes


def meets_plainly(piece: bytes) -> bool:
    """Whether ``piece``, tidy, leaves nothing to tidy where it meets another such piece: it starts
    with something other than whitespace, and ends so or with a line break after something else
    (the whitespace where two meet is then nothing or one line break)."""
    if not piece or piece[0] in _SPACE:
        return False
    return piece[-1] not in _SPACE or (piece[-1] == _NEWLINE and len(piece) > 1 and piece[-2] not in _SPACE)


_NEWLINE = ord("\n")


def join_tidied(pieces: list[bytes]) -> bytes:
    """``tidy_page(b"".join(pieces))`` for pieces that are each tidy already (``tidy_page(piece)
    == piece``).

    Tidying a piece leaves a run of whitespace at its start or end as it is (there is no tag
    beyond it), so only a run where pieces meet can be left (it may span pieces of whitespace
    only): it is reduced to a line break when a tag ends before it and one begins after it, and
    it holds a line break.
    """
    out: list[bytes] = []
    pending = b""  # pieces of whitespace only, since the last piece with something else
    for piece in pieces:
        if not piece:
            continue
        if piece[0] not in _SPACE and not pending and (not out or out[-1][-1] not in _SPACE):
            out.append(piece)
            continue
        right = piece.lstrip()
        if not right:
            pending += piece
            continue
        if out:
            left = out[-1].rstrip()
            run = out[-1][len(left) :] + pending + piece[: len(piece) - len(right)]
            if left[-1:] == b">" and right[:1] == b"<" and b"\n" in run and run != b"\n":
                out[-1] = left
                out.append(b"\n")
                out.append(right)
                pending = b""
                continue
        out.append(pending + piece)
        pending = b""
    out.append(pending)
    return b"".join(out)


def walk_step(request: HttpRequest, context: dict[str, Any]) -> SafeString:
    """The ``#walk`` part of a step page (``pathways/_step_walk.html``); with the caches, filled
    in from a stencil built once per snapshot, step, language and flags."""
    shape = _walk_stencil(context) if caching() else None
    if shape is None:
        return render_to_string(WALK_TEMPLATE, context, request)
    return shape.fill_from(context, {name: context[name] for name in WALK_VALUES})


def _walk_stencil(context: dict[str, Any]) -> stencil.Stencil | None:
    version, form = context["version"], context["form"]
    key = (
        "walk-step",
        context["node"].slug,
        context["partial"],
        context["preview"],
        context["changing"],
        bool(context["alert"]),
        bool(context["trail"]),
        bool(form is not None and form.errors),
        context["pathway"].slug,
        version.title,
        version.number,
        version.status,
    )

    def build() -> stencil.Stencil | None:
        fixed = {name: context[name] for name in WALK_FIXED}
        # Flags as flags: the walk's own values never reach the stencil.
        fixed["trail"] = bool(context["trail"])
        values = WALK_VALUES if context["alert"] else tuple(name for name in WALK_VALUES if name != "alert")
        return _tidied(stencil.build(WALK_TEMPLATE, {**fixed, "alert": ""}, values=values))

    shape: stencil.Stencil | None = cached(context["snapshot"], key, build)
    return shape
