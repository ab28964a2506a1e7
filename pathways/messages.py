"""The engine's messages in the user's language.

The engine has no Django import, so it marks its messages with a no-op ``gettext_noop`` and
returns :class:`engine.Message` strings: plain English for the API and the command line, and
rebuilt here, through the translation catalogue, for the web pages.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from . import engine


def translated(message: Any) -> Any:
    """``message`` in the active language if it is an engine message; anything else unchanged."""
    if not isinstance(message, engine.Message):
        return message
    text = gettext(message.msgid)
    if not message.params:
        return text
    return text % {key: translated(value) for key, value in message.params.items()}
