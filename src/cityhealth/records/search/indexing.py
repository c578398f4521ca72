"""Keeping the index current: every write replaces a resource's index rows, a delete removes
them. Loaders hand many new rows at once (`index_resources`): one COPY per table on
PostgreSQL, one prepared INSERT run over all rows elsewhere."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, models

from cityhealth.records.models import (
    Resource,
    SearchDate,
    SearchNumber,
    SearchQuantity,
    SearchReference,
    SearchString,
    SearchToken,
    SearchUri,
)
from cityhealth.records.search.extract import Entries, extract

# kind → (model, the columns after `HEAD`)
# The model classes differ only in their value columns; they are handled alike.
_IndexModel = Any
# The columns every index row starts with: the resource's own, then the entry's (led by its
# parameter code).
HEAD = ("resource_id", "resource_type", "person_id", "param")
TABLES: dict[str, tuple[_IndexModel, tuple[str, ...]]] = {
    "token": (SearchToken, ("system", "code", "text")),
    "string": (SearchString, ("value", "exact")),
    "reference": (
        SearchReference,
        ("target_type", "target_id", "url", "identifier_system", "identifier_value"),
    ),
    "date": (SearchDate, ("low", "high")),
    "quantity": (SearchQuantity, ("low", "high", "system", "code", "unit")),
    "uri": (SearchUri, ("value",)),
    "number": (SearchNumber, ("value",)),
}


def index_resource(row: Resource) -> None:
    """Make the index rows of `row` those of its current body (none once it is deleted)."""
    stale = row.version_id > 1 or row.deleted
    entries = None if row.deleted else extract(row.resource_type, row.body)
    if connection.vendor == "postgresql":
        _replace_in_one_statement(row, stale=stale, entries=entries)
        return
    if stale:
        remove_index([row.pk])
    if entries is None:
        return
    for kind, (model, columns) in TABLES.items():
        if getattr(entries, kind):
            _insert_many(model, columns, _lines(kind, [(row, entries)]))


def _replace_in_one_statement(row: Resource, *, stale: bool, entries: Entries | None) -> None:
    """PostgreSQL: the deletes and inserts of one write in a single statement (data-modifying
    CTEs), one round trip instead of up to fourteen. The CTEs share one snapshot, so the
    deletes do not see the rows the inserts add."""
    parts: list[str] = []
    params: list[Any] = []
    if stale:
        for model, _ in TABLES.values():
            parts.append(f"DELETE FROM {model._meta.db_table} WHERE resource_id = %s")  # noqa: S608
            params.append(row.pk)
    if entries is not None:
        for kind, (model, columns) in TABLES.items():
            found = getattr(entries, kind)
            if not found:
                continue
            width = len(HEAD) + len(columns)
            values = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(found))
            names = ", ".join((*HEAD, *columns))
            parts.append(f"INSERT INTO {model._meta.db_table} ({names}) VALUES {values}")  # noqa: S608
            head = _head(row)
            for entry in found:
                params.extend((*head, *entry))
    if not parts:
        return
    *first, last = parts
    ctes = ", ".join(f"w{n} AS ({sql})" for n, sql in enumerate(first))
    with connection.cursor() as cursor:
        cursor.execute((f"WITH {ctes} " if ctes else "") + last, params)


def index_resources(rows: Sequence[Resource]) -> None:
    """The bulk form, for loaders: rows just written (new or not), indexed together."""
    stale = [row.pk for row in rows if row.version_id > 1 or row.deleted]
    if stale:
        remove_index(stale)
    write_entries(entries_of(rows))


def entries_of(rows: Sequence[Resource]) -> list[tuple[Resource, Entries]]:
    """The index entries of rows not deleted (pure Python: a bulk writer computes them
    while the database is still busy with its previous statement)."""
    return [(row, extract(row.resource_type, row.body)) for row in rows if not row.deleted]


def write_entries(live: list[tuple[Resource, Entries]]) -> None:
    """Add the index rows of `entries_of` (rows that have none yet)."""
    for kind, (model, columns) in TABLES.items():
        if not any(getattr(entries, kind) for _, entries in live):
            continue  # a round trip saved: most types fill three or four of the seven tables
        if connection.vendor == "postgresql":
            _copy(model, columns, _lines(kind, live))
        else:
            _insert_many(model, columns, _lines(kind, live))


def remove_index(resource_ids: Sequence[int]) -> None:
    for model, _ in TABLES.values():
        model.objects.filter(resource_id__in=list(resource_ids)).delete()


def _head(row: Resource) -> tuple[Any, ...]:
    """The resource's own leading columns of each of its index rows (`HEAD` up to `param`)."""
    return (row.pk, row.resource_type, row.person_id)


def _lines(kind: str, live: list[tuple[Resource, Entries]]) -> Iterable[tuple[Any, ...]]:
    for row, entries in live:
        head = _head(row)
        for entry in getattr(entries, kind):
            yield (*head, *entry)


def _insert_many(
    model: _IndexModel, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]
) -> None:
    """SQLite (and any other database): one prepared INSERT run over all rows, without
    building a model instance per row as `bulk_create` does."""
    names = ", ".join((*HEAD, *columns))
    marks = ", ".join(["%s"] * (len(HEAD) + len(columns)))
    adapt = _datetime_adapter(model, columns)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {model._meta.db_table} ({names}) VALUES ({marks})",  # noqa: S608
            [adapt(row) for row in rows] if adapt else list(rows),
        )


def _datetime_adapter(
    model: _IndexModel, columns: tuple[str, ...]
) -> Callable[[tuple[Any, ...]], tuple[Any, ...]] | None:
    """Datetimes as the backend stores them (SQLite: naive UTC text), which a raw
    `executemany` would not do; other values pass as they are."""
    positions = [
        len(HEAD) + n
        for n, column in enumerate(columns)
        if isinstance(model._meta.get_field(column), models.DateTimeField)
    ]
    if not positions:
        return None
    prepare = connection.ops.adapt_datetimefield_value

    def adapt(row: tuple[Any, ...]) -> tuple[Any, ...]:
        values = list(row)
        for position in positions:
            values[position] = prepare(values[position])
        return tuple(values)

    return adapt


def _copy_sql(model: _IndexModel, columns: tuple[str, ...]) -> str:
    names = ", ".join((*HEAD, *columns))
    return f"COPY {model._meta.db_table} ({names}) FROM STDIN"


def _copy(model: _IndexModel, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> None:
    with connection.cursor() as cursor, cursor.copy(_copy_sql(model, columns)) as copy:
        for row in rows:
            copy.write_row(row)
