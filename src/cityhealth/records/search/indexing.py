"""Keeping the index current: every write replaces a resource's index rows, a delete removes
them. Loaders hand many new rows at once (`index_resources`): one COPY per table on
PostgreSQL, multi-row INSERTs elsewhere."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection

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

# kind → (model, columns after resource_id, resource_type, param)
# The model classes differ only in their value columns; they are handled alike.
_IndexModel = Any
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
_BATCH = 2000


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
        found = getattr(entries, kind)
        if found:
            model.objects.bulk_create(
                [_instance(model, columns, row, entry) for entry in found], batch_size=_BATCH
            )


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
            width = 3 + len(columns)
            values = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(found))
            names = ", ".join(("resource_id", "resource_type", "param", *columns))
            parts.append(f"INSERT INTO {model._meta.db_table} ({names}) VALUES {values}")  # noqa: S608
            for entry in found:
                params.extend((row.pk, row.resource_type, *entry))
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
    live = [(row, extract(row.resource_type, row.body)) for row in rows if not row.deleted]
    for kind, (model, columns) in TABLES.items():
        if connection.vendor == "postgresql":
            _copy(model, columns, _lines(kind, live))
        else:
            model.objects.bulk_create(
                [
                    _instance(model, columns, row, entry)
                    for row, entries in live
                    for entry in getattr(entries, kind)
                ],
                batch_size=_BATCH,
            )


def remove_index(resource_ids: Sequence[int]) -> None:
    for model, _ in TABLES.values():
        model.objects.filter(resource_id__in=list(resource_ids)).delete()


def _instance(
    model: _IndexModel, columns: tuple[str, ...], row: Resource, entry: tuple[Any, ...]
) -> Any:
    values = dict(zip(columns, entry[1:], strict=True))
    return model(resource_id=row.pk, resource_type=row.resource_type, param=entry[0], **values)


def _lines(kind: str, live: list[tuple[Resource, Entries]]) -> Iterable[tuple[Any, ...]]:
    for row, entries in live:
        for entry in getattr(entries, kind):
            yield (row.pk, row.resource_type, *entry)


def _copy(model: _IndexModel, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> None:
    table = model._meta.db_table
    names = ", ".join(("resource_id", "resource_type", "param", *columns))
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
