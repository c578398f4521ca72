"""History Bundles of a resource, a type or the whole store (`_history`), with `_since`, `_at`,
`_count` and a `next` link that pages by key (`_cursor`), newest version first."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest

from cityhealth.core import clock
from cityhealth.core.errors import InvalidInput
from cityhealth.fhir.access import access_of
from cityhealth.records import selectors
from cityhealth.records.models import ResourceVersion

DEFAULT_COUNT = 100
MAX_COUNT = 1000
# A FHIR date, dateTime or instant, at any precision.
_DATE = re.compile(
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,9}))?)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})?)?)?)?"
)
_CURSOR = re.compile(r"(-?\d{1,20})\.(\d{1,20})")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def history_bundle(
    request: HttpRequest, *, resource_type: str | None = None, logical_id: str | None = None
) -> dict[str, Any]:
    """The history Bundle of what the URL names, for the page the query asks for."""
    query = request.GET
    count = _count(query.get("_count"))
    since = period(query["_since"], name="_since")[0] if query.get("_since") else None
    at = period(query["_at"], name="_at") if query.get("_at") else None
    before = _cursor(query["_cursor"]) if query.get("_cursor") else None
    page = selectors.history_page(
        count=count,
        resource_type=resource_type,
        logical_id=logical_id,
        since=since,
        at=at,
        before=before,
        # Patients are the person registry's, read through it (and its audit) only.
        without_types=("Patient",) if resource_type is None else (),
        # One resource's history was let through by its read guard; else consent filters.
        accessor=None if logical_id is not None else access_of(request).consent,
    )
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "history",
        "link": [{"relation": "self", "url": request.build_absolute_uri()}],
        "entry": [history_entry(request, version) for version in page.versions],
    }
    if page.more:
        last = page.versions[-1]
        params = {k: v for k, v in query.items() if k != "_cursor"}
        stamp = (last.last_updated - _EPOCH) // dt.timedelta(microseconds=1)
        params["_cursor"] = f"{stamp}.{last.pk}"
        url = request.build_absolute_uri(f"{request.path}?{urlencode(params)}")
        bundle["link"].append({"relation": "next", "url": url})
    if logical_id is not None and before is None and not page.more:
        bundle["total"] = len(page.versions)  # one resource's whole history: known exactly
    return bundle


def history_entry(request: HttpRequest, version: ResourceVersion) -> dict[str, Any]:
    path = f"{version.resource_type}/{version.logical_id}"
    entry: dict[str, Any] = {
        "fullUrl": request.build_absolute_uri(f"/fhir/R4/{path}"),
        "request": {
            "method": version.method,
            "url": version.resource_type if version.method == "POST" else path,
        },
        "response": {
            "status": "204" if version.deleted else "201" if version.version_id == 1 else "200",
            "etag": f'W/"{version.version_id}"',
            "lastModified": version.last_updated.isoformat().replace("+00:00", "Z"),
        },
    }
    if version.body is not None:
        entry["resource"] = version.body
    return entry


def period(text: str, *, name: str) -> tuple[dt.datetime, dt.datetime]:
    """The instants [start, end) a FHIR date/dateTime/instant covers at its precision
    (a date without a zone is the city's day)."""
    found = _DATE.fullmatch(text.strip())
    if found is None:
        raise _bad(name, text)
    parts = found.groupdict()
    zone: dt.tzinfo = clock.local_zone()
    if parts["zone"] == "Z":
        zone = dt.UTC
    elif parts["zone"]:
        sign = 1 if parts["zone"][0] == "+" else -1
        hours, minutes = (int(p) for p in parts["zone"][1:].split(":"))
        zone = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    try:
        year = int(parts["year"])
        if parts["month"] is None:
            start = dt.datetime(year, 1, 1, tzinfo=zone)
            return start, dt.datetime(year + 1, 1, 1, tzinfo=zone)
        month = int(parts["month"])
        if parts["day"] is None:
            start = dt.datetime(year, month, 1, tzinfo=zone)
            following = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
            return start, following
        day = dt.datetime(year, month, int(parts["day"]), tzinfo=zone)
        if parts["hour"] is None:
            return day, day + dt.timedelta(days=1)
        start = day.replace(hour=int(parts["hour"]), minute=int(parts["minute"]))
        if parts["second"] is None:
            return start, start + dt.timedelta(minutes=1)
        start = start.replace(second=int(parts["second"]))
        if parts["fraction"] is None:
            return start, start + dt.timedelta(seconds=1)
        fraction = parts["fraction"]
        start = start.replace(microsecond=int(fraction[:6].ljust(6, "0")))
        return start, start + dt.timedelta(microseconds=10 ** max(0, 6 - len(fraction)))
    except ValueError:
        raise _bad(name, text) from None


def _count(text: str | None) -> int:
    if text is None:
        return DEFAULT_COUNT
    if not text.isdigit():
        raise InvalidInput(
            "request.bad_count",
            vi="_count phải là một số nguyên không âm.",
            en="_count is a whole number.",
            field="_count",
        )
    return max(1, min(int(text), MAX_COUNT))


def _cursor(text: str) -> tuple[dt.datetime, int]:
    found = _CURSOR.fullmatch(text)
    if found is None:
        raise _bad("_cursor", text)
    micros, row_id = int(found[1]), int(found[2])
    try:
        when = _EPOCH + dt.timedelta(microseconds=micros)
    except OverflowError:
        raise _bad("_cursor", text) from None
    return when, row_id


def _bad(name: str, text: str) -> InvalidInput:
    return InvalidInput(
        "request.bad_parameter",
        vi=f"Giá trị «{text[:60]}» của {name} không hợp lệ.",
        en=f"“{text[:60]}” is not a valid value of {name}.",
        field=name,
    )
