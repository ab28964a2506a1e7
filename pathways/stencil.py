"""Stencils: a template rendered once with marked holes, filled in per request.

A step page is mostly the same for every walk at that step: the question, its wording, the
references, the layout. A stencil is that template's output for one set of fixed inputs (the
snapshot's node, the language, a few flags), with a hole wherever a per-request value goes. Filling
it joins the fixed parts with each value escaped as ``{{ value }}`` escapes it, so it costs a few
string joins instead of a template render.

Two kinds of hole:

- a value hole is a context variable the template prints (``{{ action }}``): the stencil is built
  with a mark in its place;
- a tag hole is a template tag registered with :func:`hole`: while a stencil is built it prints its
  mark, and filling the stencil calls the same function the tag calls on a normal render.

The template must not branch on a value hole (a mark is always truthy) or filter one: whatever
it branches on goes into the stencil's key. A mark that a filter changed, or one that appears where
no hole was asked for, makes :func:`build` refuse (the caller renders plainly). Marks carry a
random token drawn once per process, so content cannot forge one.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django import template
from django.template.loader import get_template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, SafeString, mark_safe

# The context key that tells a hole tag a stencil is being built; its value maps names to marks.
BUILDING = "stencil_marks"
_TOKEN = secrets.token_hex(8)
_SEPARATOR = "\x1e"  # ASCII record separator: no template holds it and no escaping changes it
_MARK = re.compile(f"{_SEPARATOR}{_TOKEN}:([A-Za-z_][A-Za-z0-9_]*){_SEPARATOR}")

Renderer = Callable[[Mapping[str, Any]], SafeString]
TAG_HOLES: dict[str, Renderer] = {}


def mark(name: str) -> SafeString:
    return mark_safe(f"{_SEPARATOR}{_TOKEN}:{name}{_SEPARATOR}")  # noqa: S308 - no markup in it


@dataclass(frozen=True)
class Stencil:
    parts: tuple[str, ...]  # one more than holes: parts[0], hole 0, parts[1], hole 1, ...
    holes: tuple[str, ...]

    def fill(self, values: Mapping[str, Any]) -> SafeString:
        """The template's output with ``values`` in the holes (each escaped unless already safe)."""
        out = [self.parts[0]]
        for name, part in zip(self.holes, self.parts[1:], strict=True):
            out.append(escaped(values[name]))
            out.append(part)
        # What mark_safe makes of text: the parts are a template's output, the values escaped.
        return SafeString("".join(out))

    @cached_property
    def encoded_parts(self) -> tuple[bytes, ...]:
        return tuple(part.encode() for part in self.parts)

    def fill_bytes(self, values: Mapping[str, Any]) -> bytes:
        """``fill(values)`` encoded as UTF-8, each part and value encoded on its own.

        A page that holds one character beyond Latin-1 is a string of two bytes per character,
        slower to join and to encode as a whole; the parts are encoded once, and a value that
        :func:`encoded` made brings its own bytes.
        """
        return b"".join(self.encoded_pieces(values))

    def encoded_pieces(self, values: Mapping[str, Any]) -> list[bytes]:
        """What :meth:`fill_bytes` joins: each part and each value, encoded."""
        parts = self.encoded_parts
        out = [parts[0]]
        add = out.append
        for name, part in zip(self.holes, parts[1:], strict=True):
            value = values[name]
            kind = type(value)
            # utf8(escaped(value)), the two commonest kinds first: a cached piece, a plain string.
            if kind is EncodedSafeString:
                add(value.utf8)
            elif kind is str:
                add(html.escape(value).encode())
            else:
                add(utf8(escaped(value)))
            add(part)
        return out

    def tidied(self, tidy: Callable[[str], str]) -> Stencil:
        """This stencil with ``tidy`` applied to each fixed part (a change that keeps markup safe)."""
        return Stencil(tuple(tidy(part) for part in self.parts), self.holes)

    def fill_from(self, context: Mapping[str, Any], values: Mapping[str, Any]) -> SafeString:
        """:meth:`fill`, each tag hole rendered from ``context`` as its tag would render it."""
        return self.fill(self._with_tags(context, values))

    def encoded_pieces_from(self, context: Mapping[str, Any], values: Mapping[str, Any]) -> list[bytes]:
        """:meth:`encoded_pieces`, each tag hole rendered from ``context`` as its tag would render it."""
        return self.encoded_pieces(self._with_tags(context, values))

    def _with_tags(self, context: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
        filled = dict(values)
        for name in self.holes:
            if name not in filled:
                filled[name] = TAG_HOLES[name](context)
        return filled


class EncodedSafeString(SafeString):
    """Safe markup that keeps its UTF-8 bytes (a cached piece, encoded once)."""

    utf8: bytes


def encoded(html: SafeString) -> SafeString:
    """``html``, still safe markup, carrying its UTF-8 encoding for :meth:`Stencil.fill_bytes`."""
    if not isinstance(html, SafeData):
        raise TypeError("only markup already safe is kept encoded")
    piece = EncodedSafeString(html)
    piece.utf8 = html.encode()
    return piece


def with_bytes(utf8: bytes) -> SafeString:
    """Safe markup of the UTF-8 ``utf8`` (a template's output, its values escaped), keeping them."""
    piece = EncodedSafeString(utf8.decode())
    piece.utf8 = utf8
    return piece


def utf8(text: str) -> bytes:
    """``text.encode()``, from the bytes an :func:`encoded` piece carries."""
    if type(text) is EncodedSafeString:
        return text.utf8  # type: ignore[no-any-return]
    return text.encode()


def escaped(value: Any) -> str:
    """``conditional_escape(value)``, as ``{{ value }}`` prints a string, without its lazy wrapper
    for the common case of a plain string."""
    if type(value) is str:
        return html.escape(value)  # what django.utils.html.escape does to a string
    return conditional_escape(value)


def build(name: str, context: Mapping[str, Any], values: tuple[str, ...] = ()) -> Stencil | None:
    """The stencil of template ``name`` for ``context``, with holes for the variables ``values``
    and for every tag hole it uses; None if a mark did not come through intact.

    A value hole's mark is the context variable of that name; ``context`` may also hold marks
    of ``values`` deeper down (an object whose attributes are marks), filled in by that name.
    """
    loaded = get_template(name)  # loads the tag libraries, and with them the tag holes
    marks = {hole: mark(hole) for hole in (*TAG_HOLES, *values)}
    rendered = loaded.render({**context, **{hole: marks[hole] for hole in values}, BUILDING: marks})
    pieces = _MARK.split(rendered)
    parts, holes = tuple(pieces[0::2]), tuple(pieces[1::2])
    if any(_SEPARATOR in part for part in parts) or not set(holes) <= set(marks):
        return None
    return Stencil(parts, holes)


def hole(register: template.Library, name: str) -> Callable[[Renderer], Renderer]:
    """Register ``render(context)`` as the template tag ``{% name %}`` and as a tag hole."""

    def decorator(render: Renderer) -> Renderer:
        def tag(context: Any) -> SafeString:
            marks = context.get(BUILDING)
            if marks is not None:
                return marks[name]
            return render(context)

        register.simple_tag(tag, takes_context=True, name=name)
        TAG_HOLES[name] = render
        return render

    return decorator
