"""Where the caller is, over the JSON API (mounted at /api/emergency beside `api.py`).

| endpoint | permission | answers |
|---|---|---|
| `GET /places?q=` | DISPATCH | streets, alleys, wards old and new, hospitals, coordinates |
| `POST /handset-locations` | REPORT_CALLS or DISPATCH | 201 new, 200 repeated |
| `GET /incidents/{id}/handset-locations` | DISPATCH | what the caller's phone sent, newest first |
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from cityhealth.accounts.selectors import actor_of
from cityhealth.core.access import api_principal, ensure_any_permission, ensure_permission
from cityhealth.core.roles import Permission
from cityhealth.emergency import selectors, services
from cityhealth.emergency.models import HandsetLocation
from cityhealth.emergency.places import search_places

router = Router()


class PlaceOut(Schema):
    kind: str
    label: str
    ward: str
    ward_name: str
    latitude: float
    longitude: float
    precision_m: int
    alley: bool
    score: float


@router.get("/places", response=list[PlaceOut], summary="Find an address, a ward or a landmark")
def find_places(request: HttpRequest, q: str = "") -> list[PlaceOut]:
    ensure_permission(api_principal(request), Permission.DISPATCH)
    return [
        PlaceOut(
            kind=p.kind,
            label=p.label,
            ward=p.ward_code,
            ward_name=p.ward_name,
            latitude=p.latitude,
            longitude=p.longitude,
            precision_m=p.precision_m,
            alley=p.alley,
            score=p.score,
        )
        for p in search_places(q[:200])  # an address is never longer; a paste may be
    ]


class HandsetLocationIn(Schema):
    message_id: str = Field(..., max_length=64)
    caller_number: str = Field(..., max_length=30)
    latitude: float
    longitude: float
    accuracy_m: int
    positioned_at: dt.datetime | None = None
    source: str = Field("sms", max_length=10)


class HandsetLocationOut(Schema):
    id: int
    incident: str | None
    caller_number: str
    latitude: float
    longitude: float
    accuracy_m: int
    positioned_at: dt.datetime
    received_at: dt.datetime
    source: str


def handset_location_out(location: HandsetLocation) -> HandsetLocationOut:
    return HandsetLocationOut(
        id=location.pk,
        incident=location.incident.number if location.incident else None,
        caller_number=location.caller_number,
        latitude=location.latitude,
        longitude=location.longitude,
        accuracy_m=location.accuracy_m,
        positioned_at=location.positioned_at,
        received_at=location.received_at,
        source=location.source,
    )


@router.post(
    "/handset-locations",
    response={200: HandsetLocationOut, 201: HandsetLocationOut},
    summary="A caller's phone sent its position",
)
def report_handset_location(
    request: HttpRequest, payload: HandsetLocationIn
) -> Status[HandsetLocationOut]:
    principal = api_principal(request)
    ensure_any_permission(principal, Permission.REPORT_CALLS, Permission.DISPATCH)
    received = services.record_handset_location(
        message_id=payload.message_id,
        caller_number=payload.caller_number,
        latitude=payload.latitude,
        longitude=payload.longitude,
        accuracy_m=payload.accuracy_m,
        positioned_at=payload.positioned_at,
        source=payload.source,
        actor=actor_of(principal),
    )
    return Status(201 if received.created else 200, handset_location_out(received.location))


@router.get(
    "/incidents/{incident_id}/handset-locations",
    response=list[HandsetLocationOut],
    summary="What the caller's phone sent",
)
def incident_handset_locations(request: HttpRequest, incident_id: int) -> list[HandsetLocationOut]:
    ensure_permission(api_principal(request), Permission.DISPATCH)
    incident = selectors.get_incident(incident_id)
    return [handset_location_out(h) for h in selectors.handset_locations_of(incident)]
