"""History Bundles of a resource, a type or the whole store (`_history`), with `_since`, `_at`,
`_count` and a `next` link that pages by key (`_cursor`), newest version first."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest

from cityhealth.core.errors import InvalidInput
from cityhealth.fhir.access import access_of
from cityhealth.records import selectors
from cityhealth.records.models import ResourceVersion
from cityhealth.records.search import count_parameter, date_range

DEFAULT_COUNT = 100
MAX_COUNT = 1000
_MICROSECOND = dt.timedelta(microseconds=1)
_CURSOR = re.compile(r"(-?\d{1,20})\.(\d{1,20})")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def history_bundle(
    request: HttpRequest, *, resource_type: str | None = None, logical_id: str | None = None
) -> dict[str, Any]:
    """The history Bundle of what the URL names, for the page the query asks for."""
    query = request.GET
    count = count_parameter(query.get("_count"), default=DEFAULT_COUNT, least=1, most=MAX_COUNT)
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
    (a date without a zone is the city's day), as search reads dates."""
    found = date_range(text)
    if found is None:
        raise _bad(name, text)
    return found[0], found[1] + _MICROSECOND


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
