"""Engine messages: unchanged English for the API, translatable on the web pages."""

from __future__ import annotations

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
