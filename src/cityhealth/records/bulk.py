"""The store's bulk path: many new resources at once, for loaders (synthetic records, imports).

Each call writes one batch inside the caller's transaction (the caller opens one per batch,
so an interrupted load keeps what it committed): the current rows, their first versions and
their search index rows. On PostgreSQL the rows go in by `COPY … FROM STDIN` on the Django
connection, with ids taken from the table's sequence in one query; on SQLite by
`bulk_create`. Nothing is read back and nothing is kept after the call, so memory is bounded
by the batch.

Resources are validated once here, unless the caller vouches for them (`trusted`: a
generator whose output its own tests validate). Every resource must be new: an id that is
already taken fails the batch (IntegrityError) and the caller's transaction rolls it back.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from cityhealth.core import clock, exactjson
from cityhealth.records import errors, hooks
from cityhealth.records.models import Resource, ResourceVersion
from cityhealth.records.search.conditions import TABLE
from cityhealth.records.search.extract import Entries
from cityhealth.records.search.indexing import entries_of, write_entries
from cityhealth.records.validation import LOGICAL_ID, validate_resource

_COPY_CHUNK = 4 << 20  # characters per write to a COPY stream
_SQLITE_BATCH = 2000  # rows per INSERT on SQLite (its limit is on bound parameters)
_RESOURCE_COLUMNS = (
    "id", "resource_type", "logical_id", "version_id", "last_updated", "source", "person_id",
    "deleted", "body",
)  # fmt: skip
_VERSION_COLUMNS = (
    "resource_id", "resource_type", "logical_id", "version_id", "last_updated", "source",
    "method", "deleted", "body",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class NewResource:
    """A resource to create under its own id (`body["id"]`), in `person_id`'s compartment
    (None: in no patient's compartment, e.g. an Organization)."""

    body: dict[str, Any]
    person_id: int | None = None


@dataclass
class BulkResult:
    written: int = 0
    by_type: Counter[str] = field(default_factory=Counter)


def write_new_resources(
    *,
    resources: Sequence[NewResource],
    source: str,
    trusted: bool = False,
    at: dt.datetime | None = None,
) -> BulkResult:
    """Create every resource of `resources` as version 1, with its index rows. Runs inside
    the caller's transaction; InvalidResource (nothing written) if one is not valid FHIR."""
    if not connection.in_atomic_block:
        raise RuntimeError("write_new_resources must run inside a transaction")
    if not resources:
        return BulkResult()
    when = at or clock.now()
    source = source[:200]
    bodies = [_stamped(_checked(r.body, trusted), when=when, source=source) for r in resources]
    if connection.vendor == "postgresql":
        rows, entries = _copy_rows(resources, bodies, when=when, source=source)
    else:
        rows = _insert_rows(resources, bodies, when=when, source=source)
        entries = entries_of(rows)
    write_entries(entries)
    hooks.rows_written(rows)  # no save signal on this path: the listeners hear of it here
    return BulkResult(written=len(rows), by_type=Counter(row.resource_type for row in rows))


def existing_ids(*, resource_type: str, logical_ids: Collection[str]) -> set[str]:
    """Which of these ids of `resource_type` are already stored (deleted or not)."""
    found: set[str] = set()
    wanted = list(logical_ids)
    for start in range(0, len(wanted), 5000):
        found.update(
            Resource.objects.filter(
                resource_type=resource_type, logical_id__in=wanted[start : start + 5000]
            ).values_list("logical_id", flat=True)
        )
    return found


def persons_with_resources(*, person_ids: Collection[int], source: str) -> set[int]:
    """Which of these persons already have resources written from `source` (a loader's
    resume point: it writes a person's resources in one batch, so any means all)."""
    return set(
        Resource.objects.filter(person_id__in=list(person_ids), source=source[:200])
        .values_list("person_id", flat=True)
        .distinct()
    )


def _checked(body: dict[str, Any], trusted: bool) -> dict[str, Any]:
    logical_id = body.get("id")
    if not isinstance(logical_id, str) or not LOGICAL_ID.fullmatch(logical_id):
        raise errors.InvalidResource(issues=[("id", "a bulk write names each resource's id")])
    return body if trusted else validate_resource(body)


def _stamped(body: dict[str, Any], *, when: dt.datetime, source: str) -> dict[str, Any]:
    meta = dict(body.get("meta") or {})
    meta.update(versionId="1", lastUpdated=when.isoformat().replace("+00:00", "Z"))
    if source:
        meta["source"] = source
    return {**body, "meta": meta}


# --- PostgreSQL: COPY ------------------------------------------------------------------------


def _copy_rows(
    resources: Sequence[NewResource],
    bodies: list[dict[str, Any]],
    *,
    when: dt.datetime,
    source: str,
) -> tuple[list[Resource], list[tuple[Resource, Entries]]]:
    """The rows written, and their index entries: computed while PostgreSQL is still
    storing the versions sent (the two cores work at once instead of in turn)."""
    ids = _take_ids(len(bodies))
    stamp = when.isoformat()
    src = _copy_text(source)
    current: list[str] = []
    versions: list[str] = []
    rows: list[Resource] = []
    for pk, resource, body in zip(ids, resources, bodies, strict=True):
        resource_type = body["resourceType"]
        logical_id = body["id"]
        # Compact JSON never holds a raw tab or newline (JSON escapes them), so a backslash
        # is the only character COPY's text format needs escaped.
        text = exactjson.dumps(body).decode().replace("\\", "\\\\")
        person = "\\N" if resource.person_id is None else str(resource.person_id)
        current.append(
            f"{pk}\t{resource_type}\t{logical_id}\t1\t{stamp}\t{src}\t{person}\tf\t{text}\n"
        )
        versions.append(
            f"{pk}\t{resource_type}\t{logical_id}\t1\t{stamp}\t{src}\tPOST\tf\t{text}\n"
        )
        rows.append(
            Resource(
                id=pk,
                resource_type=resource_type,
                logical_id=logical_id,
                version_id=1,
                last_updated=when,
                source=source,
                person_id=resource.person_id,
                deleted=False,
                body=body,
            )
        )
    _copy("records_resources", _RESOURCE_COLUMNS, current)
    entries: list[tuple[Resource, Entries]] = []
    _copy(
        "records_resource_versions",
        _VERSION_COLUMNS,
        versions,
        meanwhile=lambda: entries.extend(entries_of(rows)),
    )
    return rows, entries


def _take_ids(count: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('records_resources', 'id')) "
            "FROM generate_series(1, %s)",
            [count],
        )
        return [int(row[0]) for row in cursor.fetchall()]


def _copy_text(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _copy(
    table: str,
    columns: tuple[str, ...],
    lines: Iterable[str],
    *,
    meanwhile: Callable[[], object] | None = None,
) -> None:
    """COPY `lines` into `table`; `meanwhile` runs once they are all sent, before waiting
    for the server to finish storing them."""
    quote = connection.ops.quote_name
    sql = f"COPY {table} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    # Django's error wrapper: a taken id is an IntegrityError here as on every other path.
    with connection.wrap_database_errors, connection.cursor() as cursor, cursor.copy(sql) as copy:
        pending: list[str] = []
        size = 0
        for line in lines:
            pending.append(line)
            size += len(line)
            if size >= _COPY_CHUNK:
                copy.write("".join(pending))
                pending.clear()
                size = 0
        if pending:
            copy.write("".join(pending))
        if meanwhile is not None:
            meanwhile()


# --- SQLite (and any other database): bulk_create ---------------------------------------------


def _insert_rows(
    resources: Sequence[NewResource],
    bodies: list[dict[str, Any]],
    *,
    when: dt.datetime,
    source: str,
) -> list[Resource]:
    rows = [
        Resource(
            resource_type=body["resourceType"],
            logical_id=body["id"],
            version_id=1,
            last_updated=when,
            source=source,
            person_id=resource.person_id,
            deleted=False,
            body=body,
        )
        for resource, body in zip(resources, bodies, strict=True)
    ]
    Resource.objects.bulk_create(rows, batch_size=_SQLITE_BATCH)
    ResourceVersion.objects.bulk_create(
        (
            ResourceVersion(
                resource_id=row.pk,
                resource_type=row.resource_type,
                logical_id=row.logical_id,
                version_id=1,
                last_updated=when,
                source=source,
                method="POST",
                deleted=False,
                body=row.body,
            )
            for row in rows
        ),
        batch_size=_SQLITE_BATCH,
    )
    return rows


def analyze_store() -> None:
    """Fresh planner statistics for the store's tables, after a large load. Until autovacuum
    gets to them the planner believes a bulk-loaded table nearly empty: a patient's
    observations by code and date then took 160 ms instead of 11 ms."""
    tables = [Resource._meta.db_table, ResourceVersion._meta.db_table, *TABLE.values()]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {', '.join(tables)}")
        else:
            cursor.execute("ANALYZE")
