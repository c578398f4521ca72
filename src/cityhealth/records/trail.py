"""The access trail of the shared record: one row per access, written with a single INSERT.

Every FHIR request leaves a row (who, for which facility, what, whose record, why, from where,
with what outcome, break-glass or not). The rows are never updated or deleted by the
platform; they are served as AuditEvent resources (`fhir.trail`) straight from this table
(decision 0006), so writing one costs one narrow insert instead of a stored, indexed resource.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

from django.conf import settings
from django.db import connection
from django.db.models import Q

from cityhealth.db import prepared_cursor
from cityhealth.records.models import AccessEvent


@dataclass(frozen=True)
class AccessRow:
    occurred_at: dt.datetime
    actor: str
    actor_label: str
    organization: str
    interaction: str
    resource_type: str
    logical_id: str
    version_id: int | None
    query: str
    person_id: int | None
    purpose: str
    break_glass: bool
    reason: str
    source_ip: str
    status: int


_COLUMNS = [f.name for f in fields(AccessRow)]
_INSERT = (
    f"INSERT INTO {AccessEvent._meta.db_table} ({', '.join(_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join(['%s'] * len(_COLUMNS))})"
)


# Evaluated before the statement's transaction commits, so that commit is asynchronous.
_ASYNC_COMMIT = " RETURNING (SELECT set_config('synchronous_commit', 'off', true))"


def record_access(row: AccessRow) -> None:
    """Append one row: one INSERT statement, no ORM instance (it runs on every request).

    Called outside the request's transaction, it commits on its own. On PostgreSQL that
    commit would wait for the WAL flush (more than the read it records costs); with
    `CITYHEALTH_ACCESS_TRAIL_ASYNC_COMMIT` (default on) the statement itself turns
    `synchronous_commit` off for its own one-statement transaction, so it returns before the
    flush, in one round trip. A database crash may then lose the last fraction of a second of
    rows (never corrupt or reorder them); writes and break-glass are also in the audit chain,
    committed durably. Inside a caller's transaction it is a plain insert."""
    # Not `astuple`: it deep-copies every field, a measurable cost on every request.
    values = [getattr(row, name) for name in _COLUMNS]
    values[0] = connection.ops.adapt_datetimefield_value(row.occurred_at)
    relaxed = (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and getattr(settings, "CITYHEALTH_ACCESS_TRAIL_ASYNC_COMMIT", True)
    )
    with prepared_cursor() as cursor:
        cursor.execute(_INSERT + _ASYNC_COMMIT if relaxed else _INSERT, values)


def find_access_events(
    *,
    person_id: int | None = None,
    actors: list[str] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    resource: tuple[str, str] | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[AccessEvent]:
    """Rows matching every criterion given, newest first; `before_id` continues after that
    row (keyset paging over the (time, id) order the indexes serve)."""
    rows = AccessEvent.objects.all()
    if person_id is not None:
        rows = rows.filter(person_id=person_id)
    if actors:
        rows = rows.filter(actor__in=actors)
    if since is not None:
        rows = rows.filter(occurred_at__gte=since)
    if until is not None:
        rows = rows.filter(occurred_at__lt=until)
    if resource is not None:
        rows = rows.filter(resource_type=resource[0], logical_id=resource[1])
    if before_id is not None:
        last = AccessEvent.objects.filter(pk=before_id).values_list("occurred_at", flat=True)
        if last:
            rows = rows.filter(
                Q(occurred_at__lt=last[0]) | Q(occurred_at=last[0], id__lt=before_id)
            )
    return list(rows.order_by("-occurred_at", "-id")[:limit])
