"""The two statements every wizard step runs: read the walk (with its version and pathway) and
record the step. They are the ORM's own statements, written once per database connection alias
instead of compiled afresh on every request.

The ORM compiles a ``select_related`` query on each call: about 1 ms here, where running it takes
0.1 ms, and a conditional ``UPDATE`` costs as much again. Rows still become models the way the ORM
makes them: every column goes through its field's converters (the backend's, then the field's
``from_db_value``), every row through ``Model.from_db``, and every parameter through the field's
``get_db_prep_value``/``get_db_prep_save``. The version's and pathway's columns are the same on
every step of every walk of a version: each distinct pair of rows is made into models once, and
each read gets copies of them (their own state, and their own object for any value that could be
changed in place), as ``from_db`` would have made them.

Parameters are named (``%(walk)s``): SQLite's backend turns a list's ``%s`` into ``?`` with a
regular expression run over the whole statement on every call (a fifth of what the read costs),
a mapping's names with one ``%`` formatting; PostgreSQL's driver takes either as it is.
"""

from __future__ import annotations

import threading
import uuid
from copy import deepcopy
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from django.core.signals import setting_changed
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.db.models.base import ModelState
from django.db.models.expressions import Col
from django.dispatch import receiver

from .models import Pathway, PathwayVersion, Walk

# The models one read returns, each joined to the one before it by its foreign key.
_JOINED = ((Walk, "version"), (PathwayVersion, "pathway"), (Pathway, None))
Converter = Any


@dataclass(frozen=True)
class _Model:
    model: type[Model]
    attnames: tuple[str, ...]  # its concrete fields', in the order of its columns
    start: int  # where its columns begin in the row
    # Per column that has any, by its place among the model's: the converters to apply in turn.
    converting: tuple[tuple[int, Col, tuple[Converter, ...]], ...]


@dataclass(frozen=True)
class _Read:
    sql: str
    models: tuple[_Model, ...]


@cache
def _read(alias: str) -> _Read:
    connection = connections[alias]
    quote = connection.ops.quote_name
    columns: list[str] = []
    models = []
    joins = []
    for index, (model, link) in enumerate(_JOINED):
        table = f"t{index}"
        fields = model._meta.concrete_fields
        start = len(columns)
        converting = []
        for offset, field in enumerate(fields):
            columns.append(f"{table}.{quote(field.column)}")
            col = field.get_col(table)
            converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if converters:
                converting.append((offset, col, tuple(converters)))
        models.append(_Model(model, tuple(field.attname for field in fields), start, tuple(converting)))
        if link is not None:
            foreign = model._meta.get_field(link)
            target = foreign.related_model._meta  # type: ignore[union-attr]
            joins.append(
                f"INNER JOIN {quote(target.db_table)} t{index + 1} "
                f"ON t{index + 1}.{quote(target.pk.column)} = {table}.{quote(foreign.column)}"  # type: ignore[union-attr,arg-type]
            )
    # Only quoted table and column names from the models go into the text; values are parameters.
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(Walk._meta.db_table)} t0 {' '.join(joins)} "  # noqa: S608
        f"WHERE t0.{quote(Walk._meta.pk.column)} = %(walk)s"  # type: ignore[union-attr]
    )
    return _Read(sql, tuple(models))


def read(walk_id: uuid.UUID) -> Walk | None:
    """The walk ``walk_id`` with its version and its version's pathway, in one query; or None."""
    alias = router.db_for_read(Walk)
    connection = connections[alias]
    query = _read(alias)
    with connection.cursor() as cursor:
        cursor.execute(query.sql, {"walk": _prep(Walk._meta.pk, walk_id, connection)})  # type: ignore[arg-type]
        row = cursor.fetchone()
    if row is None:
        return None
    walk_model, version_model, pathway_model = query.models
    walk = _made(walk_model, row, alias, connection)
    raw = row[version_model.start :]
    try:
        made = _joined.get((alias, raw))
    except TypeError:  # a value the driver gave as an unhashable object
        made, raw = None, None
    if made is None:
        made = (
            _Made.of(_made(version_model, row, alias, connection), version_model),
            _Made.of(_made(pathway_model, row, alias, connection), pathway_model),
        )
        if raw is not None:
            with _lock:
                _joined[(alias, raw)] = made
                if len(_joined) > JOINED_KEPT:
                    del _joined[next(iter(_joined))]
    version = made[0].copy(row, alias, connection)
    version.pathway = made[1].copy(row, alias, connection)
    walk.version = version
    return walk  # type: ignore[no-any-return]


def _made(read_model: _Model, row: tuple[Any, ...], alias: str, connection: BaseDatabaseWrapper) -> Any:
    """``read_model``'s instance of ``row``, as the ORM makes it (converters, then ``from_db``)."""
    start = read_model.start
    values = list(row[start : start + len(read_model.attnames)])
    for offset, col, converters in read_model.converting:
        value = values[offset]
        for converter in converters:
            value = converter(value, col, connection)
        values[offset] = value
    return read_model.model.from_db(alias, list(read_model.attnames), values)


@dataclass(frozen=True)
class _Made:
    """A model made from a row, to copy for each read of the same row."""

    instance: Any
    read_model: _Model
    # The columns whose value could be changed in place (a JSON field's), by their place among
    # the model's: each copy gets its own, converted afresh (or deep-copied, without converters).
    reconverted: tuple[tuple[int, Col, tuple[Converter, ...]], ...]
    deep_copied: tuple[str, ...]

    @classmethod
    def of(cls, instance: Any, read_model: _Model) -> _Made:
        names = read_model.attnames
        shared = {name for name in names if type(instance.__dict__[name]) in _IMMUTABLE}
        reconverted = tuple(item for item in read_model.converting if names[item[0]] not in shared)
        converted = {names[item[0]] for item in reconverted}
        deep = tuple(name for name in names if name not in shared and name not in converted)
        return cls(instance, read_model, reconverted, deep)

    def copy(self, row: tuple[Any, ...], alias: str, connection: BaseDatabaseWrapper) -> Any:
        """A new instance equal to the one made, as ``from_db`` would make it from the same row."""
        instance = self.instance
        copy = instance.__class__.__new__(instance.__class__)
        values = copy.__dict__
        values.update(instance.__dict__)
        copy._state = ModelState()
        copy._state.adding = False
        copy._state.db = alias
        start, attnames = self.read_model.start, self.read_model.attnames
        for offset, col, converters in self.reconverted:
            value = row[start + offset]
            for converter in converters:
                value = converter(value, col, connection)
            values[attnames[offset]] = value
        for name in self.deep_copied:
            values[name] = deepcopy(values[name])
        return copy


# The version and pathway of a step's read, by their columns as the database gave them (and the
# alias): made into models once, and copied for each read that finds the same row. A change to
# either row is another key; the oldest keys go first.
_joined: dict[tuple[str, tuple[Any, ...]], tuple[_Made, _Made]] = {}
JOINED_KEPT = 64
_lock = threading.Lock()
# What a converted value may be shared as: immutable.
_IMMUTABLE = frozenset((str, int, float, bool, type(None), bytes, datetime, date, Decimal, uuid.UUID))


@receiver(setting_changed)
def _forget_joined(*, setting: str, **kwargs: Any) -> None:
    """Converted values follow the time zone settings."""
    if setting in ("USE_TZ", "TIME_ZONE", "DATABASES"):
        with _lock:
            _joined.clear()


@cache
def _update(alias: str) -> str:
    quote = connections[alias].ops.quote_name
    meta = Walk._meta
    names = ("answers", "revision", "updated_at", "completed_at")
    column = {name: quote(str(getattr(meta.get_field(name), "column", name))) for name in names}
    # Quoted column names only; the values are parameters.
    return (
        f"UPDATE {quote(meta.db_table)} SET {column['answers']} = %(answers)s, "  # noqa: S608
        f"{column['revision']} = {column['revision']} + 1, {column['updated_at']} = %(updated_at)s, "
        f"{column['completed_at']} = %(completed_at)s "
        f"WHERE {quote(meta.pk.column)} = %(walk)s AND {column['revision']} = %(revision)s"  # type: ignore[union-attr]
    )


def record(
    walk_id: uuid.UUID,
    *,
    expected_revision: int,
    answers: dict[str, Any],
    updated_at: datetime,
    completed_at: datetime | None,
) -> bool:
    """Save a step as one conditional UPDATE; False if the walk is not at ``expected_revision``."""
    alias = router.db_for_write(Walk)
    connection = connections[alias]
    meta = Walk._meta
    params = {
        "answers": meta.get_field("answers").get_db_prep_save(answers, connection),  # type: ignore[union-attr]
        "updated_at": meta.get_field("updated_at").get_db_prep_save(updated_at, connection),  # type: ignore[union-attr]
        "completed_at": meta.get_field("completed_at").get_db_prep_save(completed_at, connection),  # type: ignore[union-attr]
        "walk": _prep(meta.pk, walk_id, connection),  # type: ignore[arg-type]
        "revision": meta.get_field("revision").get_db_prep_save(expected_revision, connection),  # type: ignore[union-attr]
    }
    with connection.cursor() as cursor:
        cursor.execute(_update(alias), params)
        return bool(cursor.rowcount == 1)


def _prep(field: Field[Any, Any], value: Any, connection: BaseDatabaseWrapper) -> Any:
    return field.get_db_prep_value(value, connection, prepared=False)
