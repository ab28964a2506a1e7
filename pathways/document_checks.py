"""Checks that a pathway document can be stored at all, before any row of it is written.

The clinical checks (graph, safety rules) live in :mod:`pathways.validation`; these are about the
values themselves: types and lengths that fit the model fields, finite numbers, text without NUL
characters or lone surrogates, and reference links that are plain web addresses.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from .engine import safe_text
from .jsonfields import MAX_DEPTH, text_problem

MAX_PROBLEMS = 50
MAX_INTEGER = 2**31 - 1  # the smallest integer column of the supported databases
URL_SCHEMES = ("http", "https")

# Document section: the models whose fields its keys name, in the order to look them up.
SECTIONS = {
    "pathway": ("Pathway", "PathwayVersion"),
    "version": ("PathwayVersion",),
    "variables": ("Variable",),
    "nodes": ("Node",),
    "edges": ("Edge",),
    "references": ("Reference",),
    "recommendations": ("Recommendation",),
    "safety_rules": ("SafetyRule",),
    "test_cases": ("PathwayTestCase",),
}
# Document keys stored under another field name.
ALIASES = {"help": "help_text", "start": "is_start"}
TEXT_FIELDS = (models.CharField, models.TextField)
INTEGER_FIELDS = (models.IntegerField,)  # covers the positive and small variants


class DocumentError(ValueError):
    """The document cannot be stored; ``problems`` says where and why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def check_document(document: Any) -> None:
    """Raise :class:`DocumentError` listing every problem, or return if there is none."""
    problems = document_problems(document)
    if problems:
        raise DocumentError(problems)


def document_problems(document: Any) -> list[str]:
    """Every value in ``document`` that could not be stored as it is, named by its place."""
    problems: dict[str, str] = {}  # place: the first problem found there
    _walk(document, "", problems, 0)
    if isinstance(document, dict):
        for section, model_names in SECTIONS.items():
            found = [apps.get_model("pathways", name) for name in model_names]
            items = document.get(section)
            if isinstance(items, dict):
                _check_item(items, section, found, problems)
            elif isinstance(items, list):
                for index, item in enumerate(items):
                    if isinstance(item, dict):
                        _check_item(item, f"{section}[{index}]", found, problems)
                        _check_conditions(item, f"{section}[{index}]", problems)
    lines = [f"{place or 'document'}: {problem}" for place, problem in problems.items()]
    if len(lines) > MAX_PROBLEMS:
        lines = [*lines[:MAX_PROBLEMS], f"… and {len(lines) - MAX_PROBLEMS} more problems."]
    return lines


def _field(found: list[Any], key: str) -> Any:
    for model in found:
        try:
            field = model._meta.get_field(ALIASES.get(key, key))
        except FieldDoesNotExist:
            continue
        if field.concrete and not field.is_relation:
            return field
    return None


def _check_conditions(item: dict[str, Any], where: str, problems: dict[str, str]) -> None:
    condition_model = apps.get_model("pathways", "EdgeCondition")
    conditions = item.get("conditions")
    if not isinstance(conditions, list):
        return
    for index, condition in enumerate(conditions):
        if isinstance(condition, dict):
            _check_item(condition, f"{where}.conditions[{index}]", [condition_model], problems)


def _check_item(item: dict[str, Any], where: str, found: list[Any], problems: dict[str, str]) -> None:
    for key, value in item.items():
        field = _field(found, key) if isinstance(key, str) else None
        if field is None:
            continue
        problem = _field_problem(field, value)
        if problem:
            problems.setdefault(_place(where, key), problem)


def _field_problem(field: Any, value: Any) -> str | None:
    if value is None:
        return None if field.null else "It must not be null."
    if isinstance(field, models.JSONField):
        return None  # the whole document is walked for values JSON columns cannot hold
    if isinstance(field, models.BooleanField):
        return None if isinstance(value, bool) else "It must be true or false."
    if isinstance(field, models.FloatField):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "It must be a number."
        return None
    if isinstance(field, INTEGER_FIELDS):
        if isinstance(value, bool) or not isinstance(value, int) or not -MAX_INTEGER <= value <= MAX_INTEGER:
            return f"It must be a whole number between {-MAX_INTEGER} and {MAX_INTEGER}."
        if isinstance(field, models.PositiveIntegerField) and value < 0:
            return "It must not be negative."
        return None
    if isinstance(field, TEXT_FIELDS):
        if not isinstance(value, str):
            return "It must be text."
        if field.max_length is not None and len(value) > field.max_length:
            return f"It is {len(value)} characters long; at most {field.max_length} fit."
        if isinstance(field, models.URLField):
            return url_problem(value)
    return None


def url_problem(url: str) -> str | None:
    """Why ``url`` is not an absolute http(s) web address (an empty one is fine), or None."""
    if not url:
        return None
    refused = f"“{safe_text(url, 60)}” is not a web address: give an absolute http(s):// URL, or none."
    if any(character.isspace() or not character.isprintable() for character in url):
        return refused
    try:
        parts = urlsplit(url)
    except ValueError:
        return refused
    if parts.scheme.lower() not in URL_SCHEMES or not parts.hostname:
        return refused
    return None


def _place(where: str, key: Any) -> str:
    key = safe_text(str(key), 40)
    return f"{where}.{key}" if where else key


def _walk(value: Any, where: str, problems: dict[str, str], depth: int) -> None:
    """Check every string and number, wherever it is in the document."""
    problem = None
    if depth > MAX_DEPTH:
        problem = f"It is nested more than {MAX_DEPTH} levels deep."
    elif isinstance(value, str):
        problem = text_problem(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        problem = _number_problem(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            place = _place(where, key)
            key_problem = text_problem(key) if isinstance(key, str) else "Keys must be text."
            if key_problem:
                problems.setdefault(place, f"The key: {key_problem}")
            _walk(item, place, problems, depth + 1)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _walk(item, f"{where}[{index}]", problems, depth + 1)
    if problem:
        problems.setdefault(where, problem)


def _number_problem(number: int | float) -> str | None:
    try:
        finite = math.isfinite(float(number))
    except OverflowError:
        finite = False
    return None if finite else "The number is too large or not finite (NaN, Infinity); give a finite number."
