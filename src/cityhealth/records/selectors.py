"""Reads of the shared record: read, vread and history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Exists, F, OuterRef
from django.db.models.expressions import RawSQL

from cityhealth.db import prepared_cursor
from cityhealth.records import consent, errors, search
from cityhealth.records.models import Resource, ResourceVersion


def read_resource(*, resource_type: str, logical_id: str) -> Resource:
    """The current version; NotFound if it never existed, ResourceGone if it was deleted."""
    found = Resource.objects.filter(resource_type=resource_type, logical_id=logical_id).first()
    if found is None:
        raise errors.resource_not_found(resource_type, logical_id)
    if found.deleted:
        raise errors.resource_gone(resource_type, logical_id)
    return found


@dataclass(frozen=True)
class StoredText:
    """A current resource with its body as the JSON text the database keeps."""

    resource_type: str
    logical_id: str
    version_id: int
    last_updated: dt.datetime
    person_id: int | None
    body: str
    visible: bool | None  # whether the accessor asked about may see it (None: not asked)


_READ_TEXT = (
    "SELECT version_id, last_updated, person_id, deleted, body, {visible} "  # noqa: S608
    f"FROM {Resource._meta.db_table} r WHERE resource_type = %s AND logical_id = %s"
)


def read_resource_text(
    *, resource_type: str, logical_id: str, accessor: consent.Accessor | None = None
) -> StoredText:
    """`read_resource` for a read: one statement written once (building the ORM's query
    for every request cost more than the read itself) and the body as its stored text.
    With an `accessor` whose consent needs the database, the same statement answers whether
    they may see it (`consent.access_predicate`), saving the check its own round trip."""
    visible, params = "NULL", list[Any]()
    if accessor is not None and not accessor.break_glass and accessor.person_id is None:
        condition, params = consent.access_predicate(accessor, person_column="r.person_id")
        visible = f"CASE WHEN {condition} THEN 1 ELSE 0 END"
    with prepared_cursor() as cursor:
        cursor.execute(_READ_TEXT.format(visible=visible), [*params, resource_type, logical_id])
        row = cursor.fetchone()
    if row is None:
        raise errors.resource_not_found(resource_type, logical_id)
    version_id, last_updated, person_id, deleted, body, allowed = row
    if deleted:
        raise errors.resource_gone(resource_type, logical_id)
    if isinstance(last_updated, str):  # SQLite: naive UTC text
        last_updated = dt.datetime.fromisoformat(last_updated)
    if last_updated.tzinfo is None:
        last_updated = last_updated.replace(tzinfo=dt.UTC)
    return StoredText(
        resource_type=resource_type,
        logical_id=logical_id,
        version_id=int(version_id),
        last_updated=last_updated,
        person_id=person_id,
        body=body if isinstance(body, str) else body.decode(),
        visible=None if allowed is None else bool(allowed),
    )


def stored_resource(*, resource_type: str, logical_id: str) -> Resource:
    """The current row, deleted or not (its history is still there); NotFound if it never
    existed."""
    found = Resource.objects.filter(resource_type=resource_type, logical_id=logical_id).first()
    if found is None:
        raise errors.resource_not_found(resource_type, logical_id)
    return found


def read_version(*, resource_type: str, logical_id: str, version_id: int) -> ResourceVersion:
    found = ResourceVersion.objects.filter(
        resource_type=resource_type, logical_id=logical_id, version_id=version_id
    ).first()
    if found is None:
        raise errors.resource_not_found(resource_type, f"{logical_id}/_history/{version_id}")
    if found.deleted:
        raise errors.resource_gone(resource_type, f"{logical_id}/_history/{version_id}")
    return found


def resource_history(*, resource_type: str, logical_id: str) -> list[ResourceVersion]:
    """Every version, newest first (deletions included, as FHIR's history shows them)."""
    versions = list(
        ResourceVersion.objects.filter(resource_type=resource_type, logical_id=logical_id).order_by(
            "-version_id"
        )
    )
    if not versions:
        raise errors.resource_not_found(resource_type, logical_id)
    return versions


# The compartment person of a version row (its resource's), for consent conditions.
_VERSION_PERSON = (
    '(SELECT r.person_id FROM records_resources r WHERE r.id = "records_resource_versions".'
    '"resource_id")'
)
_VERSION_TYPE = '"records_resource_versions"."resource_type"'


@dataclass(frozen=True)
class HistoryPage:
    versions: list[ResourceVersion]
    more: bool  # whether a next page exists


def history_page(
    *,
    count: int,
    resource_type: str | None = None,
    logical_id: str | None = None,
    since: dt.datetime | None = None,
    at: tuple[dt.datetime, dt.datetime] | None = None,
    before: tuple[dt.datetime, int] | None = None,
    without_types: Collection[str] = (),
    accessor: consent.Accessor | None = None,
) -> HistoryPage:
    """One page of the history of a resource, a type or the whole store, newest first.

    `since`: versions written at or after it. `at` (a period [start, end)): versions that were
    the current one at some moment of it. `before`: the (time, row id) of the last version of
    the previous page: paging by key, so a page costs the same however deep it is.
    With `accessor`, only the versions of resources it may see under consent."""
    rows = ResourceVersion.objects.all()
    if resource_type is not None:
        rows = rows.filter(resource_type=resource_type)
    if logical_id is not None:
        rows = rows.filter(logical_id=logical_id)
    if without_types:
        rows = rows.exclude(resource_type__in=list(without_types))
    if since is not None:
        rows = rows.filter(last_updated__gte=since)
    if at is not None:
        start, end = at
        replaced_before_start = ResourceVersion.objects.filter(
            resource_type=OuterRef("resource_type"),
            logical_id=OuterRef("logical_id"),
            version_id=OuterRef("version_id") + 1,
            last_updated__lte=start,
        )
        rows = rows.filter(last_updated__lt=end).exclude(Exists(replaced_before_start))
    if accessor is not None:
        condition, params = consent.access_predicate(
            accessor, person_column=_VERSION_PERSON, type_column=_VERSION_TYPE
        )
        # The condition is the consent module's SQL, its values passed as parameters.
        rows = rows.filter(RawSQL(condition, params, output_field=BooleanField()))  # noqa: S611
    if before is not None:
        # A row comparison, which the (…, last_updated, id) indexes answer by seeking to
        # the key (an OR of its parts would scan every newer version).
        rows = rows.filter(
            RawSQL(
                '("records_resource_versions"."last_updated", "records_resource_versions"."id")'
                " < (%s, %s)",
                [connection.ops.adapt_datetimefield_value(before[0]), before[1]],
                output_field=BooleanField(),
            )
        )
    found = list(rows.order_by(F("last_updated").desc(), F("pk").desc())[: count + 1])
    if not found and resource_type is not None and logical_id is not None and before is None:
        known = Resource.objects.filter(resource_type=resource_type, logical_id=logical_id)
        if not known.exists():
            raise errors.resource_not_found(resource_type, logical_id)
    return HistoryPage(versions=found[:count], more=len(found) > count)


def find_by_criteria(*, resource_type: str, query: str, limit: int = 2) -> list[Resource]:
    """Current resources matching a FHIR search query string, at most `limit` (the search
    engine's, for conditional interactions in other apps)."""
    return search.find_by_criteria(resource_type=resource_type, query=query, limit=limit)


# The search engine (`records.search`) for other apps: a FHIR search and what is searchable.
SearchResult = search.SearchResult


def search_resources(
    *,
    resource_type: str,
    params: Sequence[tuple[str, str]],
    lenient: bool = False,
    accessor: consent.Accessor | None = None,
    text: bool = False,
) -> SearchResult:
    """A FHIR search of the store (see `records.search.search`, also for `text`), showing
    only what `accessor` may see under consent (None: everything, for the server's own use)."""
    return search.search(
        resource_type=resource_type,
        params=params,
        lenient=lenient,
        access=_access_filter(accessor),
        text=text,
    )


def search_condition(
    *, resource_type: str, alias: str, query: str, accessor: consent.Accessor | None = None
) -> tuple[str, list[Any]]:
    """A FHIR query string as an SQL condition on `alias` (a records_resources row of
    `resource_type`), for reads that filter by search parameters (`_typeFilter`); its chains
    and `_has` pass only through what `accessor` may see (None: everything)."""
    return search.query_condition(
        resource_type=resource_type, alias=alias, query=query, access=_access_filter(accessor)
    )


def _access_filter(accessor: consent.Accessor | None) -> search.AccessFilter | None:
    if accessor is None:
        return None

    def may_see(person_column: str, type_column: str) -> tuple[str, list[Any]]:
        return consent.access_predicate(
            accessor, person_column=person_column, type_column=type_column
        )

    return may_see


def searchable(resource_type: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """code → (parameter type, modifiers served) of every parameter of `resource_type`."""
    return {
        code: (p.kind, search.modifiers_of(p))
        for code, p in search.params_for(resource_type).items()
    }


def not_searchable(resource_type: str) -> list[str]:
    """The R4 parameters of `resource_type` not served, each as "code (reason)"."""
    return sorted(
        f"{u['code']} ({u['reason']})"
        for u in search.unsupported()
        if resource_type in u["base"] or "Resource" in u["base"]
    )
