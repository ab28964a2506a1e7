"""The engine's messages in the user's language.

The engine has no Django import, so it marks its messages with a no-op ``gettext_noop`` and
returns :class:`engine.Message` strings: plain English for the API and the command line, and
rebuilt here, through the translation catalogue, for the web pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import translation

from . import engine

# The settings that change which catalogue a language reads (Django resets its own on them).
_CATALOGUE_SETTINGS = frozenset({"LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "INSTALLED_APPS"})
MEMO_SIZE = 4096
_memo: dict[tuple[str | None, str], str] = {}
_UNSET = object()
_language: ContextVar[Any] = ContextVar("pathways_language", default=_UNSET)
View = TypeVar("View", bound=Callable[..., Any])


@contextmanager
def language_read_once() -> Iterator[None]:
    """Within the block, :func:`current_language` is the language active when it began.

    Django keeps the active language in an asgiref ``Local``, and each read of it costs about as
    much as a cached fragment's lookup; a step page reads it a dozen times. Nothing in the block
    may activate another language (the walk views that use it never do).
    """
    token = _language.set(translation.get_language())
    try:
        yield
    finally:
        _language.reset(token)


def reads_language_once(view: View) -> View:
    """Run ``view`` within :func:`language_read_once`."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with language_read_once():
            return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def current_language() -> str | None:
    """``get_language()``, read once per :func:`language_read_once` block."""
    language = _language.get()
    return translation.get_language() if language is _UNSET else language  # type: ignore[no-any-return]


def gettext(message: str) -> str:
    """``django.utils.translation.gettext(message)``, remembered per active language.

    Django looks a message up in each catalogue of the language and of each fallback in turn, and
    a message without a translation (English, the source language) goes through all of them: about
    a twentieth of a wizard step. A step asks the same few messages each time, so each text is
    kept by language and message (a string of exactly ``str``: safe strings keep Django's path).
    With ``DEBUG`` on, catalogues reload while developing, so nothing is kept.
    """
    if type(message) is not str or settings.DEBUG:
        return translation.gettext(message)
    key = (current_language(), message)
    try:
        return _memo[key]
    except KeyError:
        text = translation.gettext(message)
        if len(_memo) < MEMO_SIZE:
            _memo[key] = text
        return text


@receiver(setting_changed)
def _forget_texts(*, setting: str, **kwargs: Any) -> None:
    if setting in _CATALOGUE_SETTINGS:
        _memo.clear()


def translated(message: Any) -> Any:
    """``message`` in the active language if it is an engine message; anything else unchanged."""
    if not isinstance(message, engine.Message):
        return message
    text = gettext(message.msgid)
    if not message.params:
        return text
    return text % {key: translated(value) for key, value in message.params.items()}
