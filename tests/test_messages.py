"""Engine messages: unchanged English for the API, translatable on the web pages."""

from __future__ import annotations

from typing import Any

import pytest

from pathways import engine, messages


@pytest.fixture
def size(snapshot: engine.Snapshot) -> engine.Variable:
    return snapshot.variables["tumor_size_cm"]


def test_engine_messages_are_the_same_plain_english_strings(size: engine.Variable) -> None:
    assert size.check(31) == "Enter a number more than 0 and at most 30 cm."
    assert size.bounds_text() == "more than 0 and at most 30 cm"
    assert (
        size.parse_text("1e3")[1]
        == "Enter a plain number with digits and an optional decimal point, e.g. 1.5."
    )
    assert engine.Variable("x", "X", engine.BOOLEAN).display(True) == "Yes"
    assert isinstance(size.check(31), str) and str(size.check(31)) == size.check(31)


def test_without_a_catalogue_the_translation_is_the_english(size: engine.Variable) -> None:
    message = size.check(31)
    assert messages.translated(message) == message
    assert messages.translated("plain text") == "plain text"


def test_translation_rebuilds_the_message_and_its_parts(
    size: engine.Variable, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalogue = {
        "Enter a number %(bounds)s.": "Saisissez un nombre %(bounds)s.",
        "%(low)s and %(high)s": "%(low)s et %(high)s",
        "more than %(number)s": "plus de %(number)s",
        "at most %(number)s": "au plus %(number)s",
    }
    monkeypatch.setattr(messages, "gettext", lambda msgid: catalogue.get(msgid, msgid))
    assert messages.translated(size.check(31)) == "Saisissez un nombre plus de 0 et au plus 30 cm."


def test_unknown_variable_message_of_the_api_is_unchanged(snapshot: engine.Snapshot) -> None:
    _, errors = engine.validate_case(snapshot, {"nope": 1})
    assert errors == {"nope": "Unknown variable: this pathway has no such case variable."}


def test_remembered_texts_are_djangos_in_each_language(settings: Any) -> None:
    """The remembered lookup gives what Django's gives, per language, and keeps nothing for a
    safe string or with DEBUG on; a change of catalogue settings forgets what it kept."""
    from django.utils import translation
    from django.utils.safestring import SafeString, mark_safe

    settings.DEBUG = False
    settings.LANGUAGES = [("en-gb", "English"), ("de", "German"), ("fr", "French")]
    said = {}
    for language in ("en-gb", "de", "fr", "de", None):
        with translation.override(language):
            for message in ("Yes", "No", ":", "This field is required.", "not a message at all"):
                ours = messages.gettext(message)
                assert ours == translation.gettext(message), (language, message)
                said[language, message] = ours
    assert said["de", "Yes"] == "Ja" and said["fr", ":"] == "\u00a0:" and said[None, "Yes"] == "Yes"
    assert ("de", "Yes") in messages._memo
    safe = messages.gettext(mark_safe("Yes"))
    assert isinstance(safe, SafeString)
    settings.LOCALE_PATHS = []
    assert not messages._memo
    settings.DEBUG = True
    messages.gettext("Yes")
    assert not messages._memo


def test_the_language_is_read_once_per_block_and_followed_outside_it(settings: Any) -> None:
    from django.utils import translation

    settings.DEBUG = False
    settings.LANGUAGES = [("en-gb", "English"), ("de", "German")]
    with translation.override("de"):
        assert messages.current_language() == "de"
        with messages.language_read_once():
            assert messages.current_language() == "de" and messages.gettext("Yes") == "Ja"
        with translation.override("en-gb"):
            assert messages.current_language() == "en-gb" and messages.gettext("Yes") == "Yes"

    @messages.reads_language_once
    def view(expected: str) -> str:
        assert messages.current_language() == expected
        return messages.gettext("No")

    with translation.override("de"):
        assert view("de") == "Nein"
    assert view(translation.get_language()) == "No"
