"""A JSON model field that refuses, with a form error, what PostgreSQL's jsonb cannot store.

Python's json accepts ``NaN`` and ``Infinity``; jsonb refuses them, NUL characters and lone
surrogates with a ``DataError``. Refusing them at the field keeps every JSON column of the app
(and its admin forms) free of a 500.
"""

from __future__ import annotations

import math
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.fields import InvalidJSONInput

MAX_DEPTH = 32


def json_problem(value: Any, depth: int = 0) -> str | None:
    """Why ``value`` cannot be stored as JSON in every database we support, or None."""
    if depth > MAX_DEPTH:
        return f"It is nested more than {MAX_DEPTH} levels deep."
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN and Infinity are not JSON numbers."
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, dict):
        items: list[Any] = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        return None
    for item in items:
        problem = json_problem(item, depth + 1)
        if problem:
            return problem
    return None


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored (a NUL character or a lone surrogate), or None."""
    if "\x00" in text:
        return "It contains a NUL character (\\u0000)."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "It contains a lone surrogate (e.g. \\ud800), which is not text."
    return None


def validate_storable_json(value: Any) -> None:
    problem = json_problem(value)
    if problem:
        raise ValidationError(problem, code="unstorable")


class StrictJSONFormField(forms.JSONField):
    def to_python(self, value: Any) -> Any:
        try:
            converted = super().to_python(value)
        except RecursionError:
            raise ValidationError(
                f"It is nested more than {MAX_DEPTH} levels deep.", code="invalid"
            ) from None
        validate_storable_json(converted)
        return converted

    def bound_data(self, data: Any, initial: Any) -> Any:
        # Redisplay refused input as typed: a parsed lone surrogate could not be rendered as UTF-8.
        try:
            bound = super().bound_data(data, initial)
        except RecursionError:
            return InvalidJSONInput(data)
        if data is not None and not self.disabled and json_problem(bound):
            return InvalidJSONInput(data)
        return bound


class StrictJSONField(models.JSONField):
    default_validators = [validate_storable_json]

    def formfield(
        self,
        form_class: type[forms.Field] | None = None,
        choices_form_class: type[forms.ChoiceField] | None = None,
        **kwargs: Any,
    ) -> forms.Field | None:
        return super().formfield(
            form_class=form_class or StrictJSONFormField, choices_form_class=choices_form_class, **kwargs
        )

    def deconstruct(self) -> Any:
        # Stored exactly like JSONField: migrations need not know about the stricter checks.
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.JSONField", args, kwargs
