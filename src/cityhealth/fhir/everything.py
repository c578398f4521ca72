"""`Patient/{id}/$everything`: the Patient, every resource of their compartment, and the
resources those point to that belong to no one (Organization, Practitioner, Location, …).

The compartment is the `person` column set at write time, so the page is one indexed query
on it (under the caller's consent filter, the one search applies) and one query for the
page's references per level. Resources travel as the JSON text the database stores: their
references are found by a pattern over that text and the Bundle is assembled around it, so
no resource is parsed or re-encoded on the way. A merged person answers with the
survivor, and the compartment is the survivor's together with every record merged into it.
Paging is by keyset on the row id (`_cursor`), never OFFSET.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple
from urllib.parse import urlencode

from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast

from cityhealth.core.errors import InvalidInput
from cityhealth.people.models import Person
from cityhealth.people.selectors import merged_family, read_patient_resource, survivor_of
from cityhealth.records import errors
from cityhealth.records.consent import Accessor, access_predicate
from cityhealth.records.models import Resource
from cityhealth.records.types import SUPPORTED_TYPES

DEFAULT_COUNT = 500
MAX_COUNT = 5000
# How far references are followed from the compartment (a PractitionerRole names its
# Organization and Location): enough for the usual chains, bounded whatever the data.
REFERENCE_LEVELS = 3


class Row(NamedTuple):
    """A current resource as stored: its JSON text is put into the Bundle as it is."""

    pk: int
    resource_type: str
    logical_id: str
    text: str


def everything(
    *,
    principal: object,
    accessor: Accessor,
    person_id: int,
    base: str,
    since: dt.datetime | None = None,
    types: frozenset[str] | None = None,
    count: int = DEFAULT_COUNT,
    cursor: int = 0,
    source_ip: str = "",
) -> str:
    """One page of the searchset Bundle, as JSON text (the Patient first, on the first page).

    The Patient is the store's projection of the registry's person (`Patient/{id}`), under
    consent like the rest; only when the person has not been projected yet is it rendered
    from the registry, read as `GET Patient/{id}` reads it."""
    survivor = survivor_id(person_id)
    rows = compartment_rows(persons=merged_family(survivor), accessor=accessor)
    if types is not None:
        rows = rows.filter(resource_type__in=types)
    if since is not None:
        rows = rows.filter(last_updated__gt=since)
    own = Q(resource_type="Patient", logical_id=str(survivor))
    page = as_rows(rows.filter(pk__gt=cursor).order_by("pk")[: count + 1])
    more = len(page) > count
    page = page[:count]
    last = page[-1].pk if page else cursor
    # A result that fits on its first page counts itself; otherwise one COUNT.
    total = len(page) if cursor == 0 and not more else rows.count()
    # The Patient leads the first page, wherever its row sits in the id order.
    projected = [r for r in page if r.resource_type == "Patient" and r.logical_id == str(survivor)]
    page = [r for r in page if r not in projected]
    entries: list[str] = []
    if types is None or "Patient" in types:
        if cursor == 0 and not projected and more:
            projected = as_rows(rows.filter(own))
        if cursor == 0 and projected:
            entries.append(_entry(base, "Patient", str(survivor), projected[0].text, "match"))
        elif not projected and not Resource.objects.filter(own).exists():  # not projected yet
            total += 1
            if cursor == 0:
                patient = read_patient_resource(
                    principal=principal, person_id=survivor, source_ip=source_ip
                )
                entries.append(_entry(base, "Patient", str(survivor), json.dumps(patient), "match"))
    entries.extend(_entry(base, r.resource_type, r.logical_id, r.text, "match") for r in page)
    entries.extend(
        _entry(base, r.resource_type, r.logical_id, r.text, "include")
        for r in referenced_rows(page, types=types)
    )

    def link(after: int) -> str:
        query: dict[str, str | int] = {"_count": count}
        if since is not None:
            query["_since"] = since.isoformat()
        if types is not None:
            query["_type"] = ",".join(sorted(types))
        if after:
            query["_cursor"] = after
        return f"{base}/Patient/{survivor}/$everything?{urlencode(query)}"

    links = [{"relation": "self", "url": link(cursor)}]
    if more:
        links.append({"relation": "next", "url": link(last)})
    head = json.dumps(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": total,
            "link": links,
        },
        ensure_ascii=False,
    )
    return f'{head[:-1]},"entry":[{",".join(entries)}]}}'


def as_rows(rows: QuerySet[Resource]) -> list[Row]:
    """The rows with their JSON as the database stores it (never parsed here)."""
    fetched = rows.annotate(text=Cast("body", TextField())).values_list(
        "pk", "resource_type", "logical_id", "text"
    )
    return [Row(*values) for values in fetched]


def survivor_id(person_id: int) -> int:
    """The person a record id answers for now (the survivor of any merge); NotFound if the
    registry has no such person."""
    person = Person.objects.filter(pk=person_id).only("pk", "merged_into").first()
    if person is None:
        raise errors.resource_not_found("Patient", str(person_id))
    return int(survivor_of(person).pk)


def compartment_rows(*, persons: list[int], accessor: Accessor) -> QuerySet[Resource]:
    """Current resources of these persons' compartments that the caller may see."""
    rows = Resource.objects.filter(person_id__in=persons, deleted=False)
    return consented(rows, accessor=accessor)


def consented(rows: QuerySet[Resource], *, accessor: Accessor) -> QuerySet[Resource]:
    """`rows` narrowed to what the accessor's consent allows, in the same SQL (so paging and
    totals stay right): the one place `$everything` and `$export` apply consent."""
    condition, params = access_predicate(
        accessor,
        person_column=f'"{Resource._meta.db_table}"."person_id"',
        type_column=f'"{Resource._meta.db_table}"."resource_type"',
    )
    # Bound parameters; the SQL is the consent module's own (no caller text in it).
    return rows.extra(where=[condition], params=params)  # noqa: S610


def referenced_rows(page: Iterable[Row], *, types: frozenset[str] | None) -> list[Row]:
    """Resources outside any compartment that `page` points to, followed REFERENCE_LEVELS
    deep; each once, in the order first met."""
    found: dict[tuple[str, str], Row] = {}
    sources = list(page)
    for _ in range(REFERENCE_LEVELS):
        wanted = {ref for row in sources for ref in references_in(row.text)} - found.keys()
        if not wanted:
            break
        by_type: dict[str, list[str]] = {}
        for resource_type, logical_id in wanted:
            by_type.setdefault(resource_type, []).append(logical_id)
        match = Q()
        for resource_type, ids in by_type.items():
            match |= Q(resource_type=resource_type, logical_id__in=ids)
        sources = as_rows(
            Resource.objects.filter(match, person__isnull=True, deleted=False).order_by("pk")
        )
        for row in sources:
            found[(row.resource_type, row.logical_id)] = row
    return [r for r in found.values() if types is None or r.resource_type in types]


# A literal reference in stored JSON (PostgreSQL writes `"reference": "…"`, SQLite without
# the space); an escaped quote cannot be part of a type/id reference, so [^"\\] suffices.
_REFERENCE = re.compile(r'"reference":\s*"([^"\\]+)"')


def references_in(text: str) -> Iterator[tuple[str, str]]:
    """("Type", "id") of every literal reference in a resource's JSON, relative or absolute."""
    for reference in _REFERENCE.findall(text):
        parts = reference.split("/_history/")[0].rstrip("/").split("/")
        if len(parts) >= 2 and parts[-2] in SUPPORTED_TYPES:
            yield parts[-2], parts[-1]


def parse_types(raw: str | None) -> frozenset[str] | None:
    """`_type=Observation,Condition` → those types; an unknown one is refused."""
    if not raw:
        return None
    types = frozenset(t.strip() for t in raw.split(",") if t.strip())
    unknown = sorted(types - set(SUPPORTED_TYPES))
    if unknown:
        raise InvalidInput(
            "search.unknown_type",
            vi=f"_type có loại tài nguyên máy chủ không có: {', '.join(unknown)[:200]}.",
            en=f"_type names types this server does not have: {', '.join(unknown)[:200]}.",
            field="_type",
        )
    return types


def parse_instant(raw: str | None, *, field: str) -> dt.datetime | None:
    """A FHIR instant (`2026-11-01T00:00:00Z`, `+07:00` offsets, or a date) as UTC."""
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        value = None
    if value is not None and value.tzinfo is None and len(raw) == 10:  # a date: its midnight
        value = value.replace(tzinfo=dt.UTC)
    if value is None or value.tzinfo is None:
        raise InvalidInput(
            "search.bad_instant",
            vi=f"{field} phải là thời điểm có múi giờ, ví dụ 2026-11-01T00:00:00Z.",
            en=f"{field} must be an instant with a time zone, e.g. 2026-11-01T00:00:00Z.",
            field=field,
        )
    return value.astimezone(dt.UTC)


def _entry(base: str, resource_type: str, logical_id: str, text: str, mode: str) -> str:
    url = json.dumps(f"{base}/{resource_type}/{logical_id}", ensure_ascii=False)
    return f'{{"fullUrl":{url},"resource":{text},"search":{{"mode":"{mode}"}}}}'
