"""Who may see what, as the FHIR API shows it: the SMART configuration (open) and the access
trail as AuditEvent resources (`GET /AuditEvent?patient=…&date=…&agent=…`, `GET
/AuditEvent/{id}`), answered from the trail table (decision 0006). AuditEvent is the server's
own record: it is not written through the API."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from ninja import Router

from cityhealth.accounts.types import BREAK_GLASS, GRANT_TYPES
from cityhealth.core.errors import InvalidInput
from cityhealth.core.roles import Permission
from cityhealth.fhir.access import access_of
from cityhealth.fhir.common import actor
from cityhealth.fhir.outcome import fhir_response
from cityhealth.fhir.trail import audit_event
from cityhealth.records import errors
from cityhealth.records.models import AccessEvent
from cityhealth.records.search import count_parameter
from cityhealth.records.trail import find_access_events
from cityhealth.records.types import SUPPORTED_TYPES

router = Router()
MAX_COUNT = 500
DEFAULT_COUNT = 50
_CONTROL = frozenset({"_count", "_cursor", "_format", "_pretty"})
_PREFIXES = ("eq", "ge", "gt", "le", "lt")


def token_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/oauth/token")


@router.get("/.well-known/smart-configuration", auth=None, url_name="smart_configuration")
def smart_configuration(request: HttpRequest) -> HttpResponse:
    response = fhir_response(
        {
            "token_endpoint": token_url(request),
            "grant_types_supported": list(GRANT_TYPES),
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
            ],
            "scopes_supported": [
                "system/*.read",
                "system/*.write",
                "system/*.*",
                "system/*.rs",
                "system/*.cruds",
                "user/*.rs",
                "user/*.cruds",
                "patient/*.read",
                "patient/*.rs",
                *(f"system/{resource_type}.rs" for resource_type in SUPPORTED_TYPES),
                "read_records",
                "write_records",
                BREAK_GLASS,
            ],
            "capabilities": ["client-confidential-symmetric", "permission-v1", "permission-v2"],
        }
    )
    response["Content-Type"] = "application/json"
    return response


def _bad(parameter: str, en: str, vi: str) -> InvalidInput:
    return InvalidInput("search.bad_parameter", vi=vi, en=en, field=parameter)


def _day_bounds(text: str) -> tuple[dt.datetime, dt.datetime]:
    """The instants [low, high) a FHIR date or dateTime value covers at its precision."""
    try:
        if len(text) == 4:
            year = int(text)
            return (
                dt.datetime(year, 1, 1, tzinfo=dt.UTC),
                dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC),
            )
        if len(text) == 7:
            low = dt.datetime.strptime(text, "%Y-%m").replace(tzinfo=dt.UTC)
            high = (low + dt.timedelta(days=32)).replace(day=1)
            return low, high
        if len(text) == 10:
            low = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), tzinfo=dt.UTC)
            return low, low + dt.timedelta(days=1)
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(
            "date",
            en=f"“{text[:40]}” is not a FHIR date.",
            vi=f"«{text[:40]}» không phải ngày FHIR.",
        ) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return moment, moment + dt.timedelta(seconds=1)


def _date_range(values: list[str]) -> tuple[dt.datetime | None, dt.datetime | None]:
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    for value in values:
        prefix = value[:2] if value[:2] in _PREFIXES else "eq"
        low, high = _day_bounds(value[2:] if value[:2] in _PREFIXES else value)
        lower = {"eq": low, "ge": low, "gt": high}.get(prefix)
        upper = {"eq": high, "le": high, "lt": low}.get(prefix)
        if lower is not None:
            since = lower if since is None else max(since, lower)
        if upper is not None:
            until = upper if until is None else min(until, upper)
    return since, until


def _patient(value: str) -> int:
    logical_id = value.rpartition("/")[2]
    if not logical_id.isdigit():
        raise _bad(
            "patient",
            en="patient is Patient/<id> or <id>.",
            vi="patient có dạng Patient/<id> hoặc <id>.",
        )
    return int(logical_id)


@router.get("/AuditEvent", url_name="audit_search")
def search_audit_events(request: HttpRequest) -> HttpResponse:
    actor(request, Permission.READ_RECORDS)
    access = access_of(request)
    unknown = sorted(set(request.GET) - _CONTROL - {"patient", "date", "agent", "entity"})
    if unknown:
        raise _bad(
            unknown[0],
            en=f"AuditEvent is searched by patient, date, agent and entity, not {unknown[0]}.",
            vi=f"AuditEvent tìm theo patient, date, agent và entity, không theo {unknown[0]}.",
        )
    person_id = _patient(request.GET["patient"]) if "patient" in request.GET else None
    # A resident sees who read their own record, and nobody else's.
    foreign = access.person_id is not None and person_id not in (None, access.person_id)
    if access.person_id is not None:
        person_id = access.person_id
    since, until = _date_range(request.GET.getlist("date"))
    agents = [a for value in request.GET.getlist("agent") for a in value.split(",") if a]
    entity = request.GET.get("entity", "")
    resource = tuple(entity.split("/", 1)) if "/" in entity else None
    cursor = request.GET.get("_cursor", "")
    count = count_parameter(
        request.GET.get("_count"), default=DEFAULT_COUNT, least=1, most=MAX_COUNT
    )
    rows = (
        []
        if foreign
        else find_access_events(
            person_id=person_id,
            actors=[a.rpartition("|")[2] for a in agents],
            since=since,
            until=until,
            resource=(resource[0], resource[1]) if resource else None,
            before_id=int(cursor) if cursor.isdigit() else None,
            limit=count,
        )
    )
    base = request.build_absolute_uri("/fhir/R4/AuditEvent")
    links: list[dict[str, Any]] = [{"relation": "self", "url": request.build_absolute_uri()}]
    if len(rows) == count:
        following = [
            (name, value)
            for name, values in request.GET.lists()
            if name != "_cursor"
            for value in values
        ]
        following.append(("_cursor", str(rows[-1].pk)))
        links.append({"relation": "next", "url": f"{base}?{urlencode(following)}"})
    return fhir_response(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "link": links,
            "entry": [
                {
                    "fullUrl": f"{base}/{row.pk}",
                    "resource": audit_event(row),
                    "search": {"mode": "match"},
                }
                for row in rows
            ],
        }
    )


@router.get("/AuditEvent/{logical_id}", url_name="audit_read")
def read_audit_event(request: HttpRequest, logical_id: str) -> HttpResponse:
    actor(request, Permission.READ_RECORDS)
    access = access_of(request)
    row = AccessEvent.objects.filter(pk=int(logical_id)).first() if logical_id.isdigit() else None
    if row is None or (access.person_id is not None and row.person_id != access.person_id):
        raise errors.resource_not_found("AuditEvent", logical_id)
    return fhir_response(audit_event(row))
