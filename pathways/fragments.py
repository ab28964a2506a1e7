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
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any

from crispy_forms.utils import render_crispy_form
from django import forms
from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from . import engine

# A revision no walk reaches: its hidden input is the one place the cached form carries it.
REVISION_MARK = 2_147_483_647
_WHITESPACE = re.compile(r"[ \t\r\f\v]*\n\s*")
_BETWEEN_TAGS = re.compile(rb">[ \t\r\f\v]*\n\s*<")
_lock = threading.Lock()
_caches: dict[int, tuple[weakref.ref[engine.Snapshot], dict[Hashable, Any]]] = {}
_local = threading.local()


@contextmanager
def uncached() -> Iterator[None]:
    """Render everything plainly on this thread while the block runs."""
    before = getattr(_local, "off", False)
    _local.off = True
    try:
        yield
    finally:
        _local.off = before


def caching() -> bool:
    return not settings.DEBUG and not getattr(_local, "off", False)


def cached(snapshot: engine.Snapshot, key: Hashable, build: Callable[[], Any]) -> Any:
    """``build()``, computed once per snapshot, ``key`` and language (without caching: each time)."""
    if not caching():
        return build()
    store = _store(snapshot)
    full_key = (key, get_language())
    try:
        return store[full_key]
    except KeyError:
        value = build()
        store[full_key] = value
        return value


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


def plain_form(form: forms.Form) -> SafeString:
    """The step form as crispy renders it with the form's helper (whitespace tidied)."""
    return tidy(render_crispy_form(form, helper=form.helper))  # type: ignore[attr-defined]


def step_form(form: Any) -> SafeString:
    """The step form: an unbound one from the snapshot's cache with the walk's values put in.

    A bound form (errors, a confirmation box) is always rendered plainly.
    """
    if form.is_bound or not caching():
        return plain_form(form)
    snapshot, node = form.snapshot, form.node
    empty = cached(
        snapshot,
        ("step-form", node.slug),
        lambda: plain_form(type(form)(snapshot, node, answers={}, revision=REVISION_MARK)),
    )
    filled = _fill(empty, form)
    return filled if filled is not None else plain_form(form)


def _fill(empty: str, form: Any) -> SafeString | None:
    """``empty`` with ``form``'s revision and initial answers, or None where one cannot be placed."""
    html = _replace_once(
        empty,
        f'name="revision" value="{REVISION_MARK}"',
        f'name="revision" value="{escape(form["revision"].value())}"',
    )
    for key in form.node.fields:
        if html is None:
            return None
        bound = form[key]
        widget = bound.field.widget
        value = bound.value()
        if value is None or value == "":
            continue
        if isinstance(widget, forms.RadioSelect):
            chosen = set(widget.format_value(value))
            for index, (choice, _label) in enumerate(widget.choices):
                if str(choice) in chosen and html is not None:
                    anchor = f'name="{key}" value="{escape(choice)}"  id="id_{key}_{index}"'
                    html = _add_to_tag(html, anchor, " checked")
        elif isinstance(widget, forms.TextInput):
            shown = widget.format_value(value)
            if shown is not None:
                anchor = f'<input type="text" name="{key}"'
                html = _replace_once(html, anchor, f'{anchor} value="{escape(shown)}"')
        else:
            return None
    return mark_safe(html) if html is not None else None  # noqa: S308 - values escaped above


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
