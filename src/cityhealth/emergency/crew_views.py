"""The crew's phone page: the current job, one button per status the crew may go to next,
and the pre-hospital care record. Plain forms that post and come back: they work on any
phone, and a lost connection loses at most the form being sent."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_POST

from cityhealth.accounts.selectors import actor_of
from cityhealth.core import clock
from cityhealth.core.access import page_requires
from cityhealth.core.errors import DomainError
from cityhealth.core.roles import Permission
from cityhealth.emergency import selectors, services
from cityhealth.emergency.enums import UnitKind, UnitStatus
from cityhealth.emergency.lifecycle import LEGAL_TRANSITIONS
from cityhealth.emergency.models import Unit
from cityhealth.emergency.routing import Access, TravelModel, Vehicle
from cityhealth.emergency.services.care import VITAL_RANGES
from cityhealth.facilities.selectors import get_facility


@require_GET
@page_requires(Permission.REPORT_UNIT_STATUS)
def choose_unit(request: HttpRequest) -> HttpResponse:
    return render(request, "emergency/crew_units.html", {"units": selectors.list_units()})


@require_GET
@page_requires(Permission.REPORT_UNIT_STATUS)
def crew_page(request: HttpRequest, code: str) -> HttpResponse:
    unit = selectors.get_unit(code)
    incident = unit.incident
    context: dict[str, Any] = {
        "unit": unit,
        "incident": incident,
        # The next step of the job first, the ways out of it (free, out of service) after.
        "next_statuses": sorted(
            (
                (status, UnitStatus(status).label)
                for status in UnitStatus.values
                if status in LEGAL_TRANSITIONS[unit.status] and status != UnitStatus.DISPATCHED
            ),
            key=lambda pair: pair[0] in (UnitStatus.AVAILABLE, UnitStatus.OUT_OF_SERVICE),
        ),
        "vital_names": list(VITAL_RANGES),
        "summary": services.handover_summary(incident=incident) if incident else None,
        "destinations": _destinations(incident, unit),
        "pre_alerts": list(incident.pre_alerts.select_related("facility")) if incident else [],
    }
    return render(request, "emergency/crew.html", context)


def _act(request: HttpRequest, unit: Unit, action: Any) -> HttpResponse:
    try:
        with transaction.atomic():
            action()
    except DomainError as error:
        messages.error(request, error.message(get_language()))
    return redirect("emergency:crew_page", code=unit.code)


@require_POST
@page_requires(Permission.REPORT_UNIT_STATUS)
def crew_status(request: HttpRequest, code: str) -> HttpResponse:
    unit = selectors.get_unit(code)
    status = request.POST.get("status", "")[:20]
    return _act(
        request,
        unit,
        lambda: services.record_unit_status(
            unit=unit, status=status, actor=actor_of(request.user), source="crew"
        ),
    )


def _current_incident(unit: Unit) -> Any:
    if unit.incident is None:
        from cityhealth.emergency import errors

        raise errors.invalid(
            "care.no_job", vi="Xe đang không có nhiệm vụ.", en="The unit has no job.", field="unit"
        )
    return unit.incident


@require_POST
@page_requires(Permission.REPORT_UNIT_STATUS)
def crew_vitals(request: HttpRequest, code: str) -> HttpResponse:
    unit = selectors.get_unit(code)

    def save() -> None:
        values: dict[str, float | None] = {}
        for name in VITAL_RANGES:
            raw = request.POST.get(name, "").strip().replace(",", ".")
            try:
                values[name] = float(raw) if raw else None
            except ValueError:
                values[name] = -1.0  # refused by the range check, with its message
        services.record_vitals(
            incident=_current_incident(unit),
            unit=unit,
            values=values,
            actor=actor_of(request.user),
            patient=request.POST.get("patient", "1")[:40],
        )

    return _act(request, unit, save)


@require_POST
@page_requires(Permission.REPORT_UNIT_STATUS)
def crew_treatment(request: HttpRequest, code: str) -> HttpResponse:
    unit = selectors.get_unit(code)
    return _act(
        request,
        unit,
        lambda: services.record_treatment(
            incident=_current_incident(unit),
            unit=unit,
            kind=request.POST.get("kind", "")[:20],
            what=request.POST.get("what", ""),
            dose=request.POST.get("dose", ""),
            actor=actor_of(request.user),
            patient=request.POST.get("patient", "1")[:40],
        ),
    )


@require_POST
@page_requires(Permission.REPORT_UNIT_STATUS)
def crew_event(request: HttpRequest, code: str) -> HttpResponse:
    unit = selectors.get_unit(code)
    return _act(
        request,
        unit,
        lambda: services.record_incident_event(
            incident=_current_incident(unit),
            event=request.POST.get("event", "")[:20],
            actor=actor_of(request.user),
        ),
    )


@require_GET
@page_requires(Permission.REPORT_UNIT_STATUS)
def crew_route(request: HttpRequest, code: str) -> JsonResponse:
    """The way from where the unit is to its job, as a line for the phone's map."""
    unit = selectors.get_unit(code)
    incident = unit.incident
    start = selectors.unit_point(unit)
    if incident is None or incident.latitude is None or incident.longitude is None or not start:
        return JsonResponse({"points": [], "seconds": None, "metres": None, "method": None})
    route = TravelModel.shared().route(
        start,
        (incident.latitude, incident.longitude),
        at=clock.now(),
        vehicle=Vehicle.MOTORBIKE if unit.kind == UnitKind.MOTORBIKE else Vehicle.CAR,
        access=Access(
            car_reachable=incident.car_reachable is not False,
            walk_metres=float(incident.walk_metres),
        ),
    )
    return JsonResponse(
        {
            "points": [[lat, lon] for lat, lon in route.points],
            "seconds": round(route.seconds),
            "metres": round(route.metres),
            "method": route.method,
        }
    )


def _destinations(incident: Any, unit: Unit) -> list[Any]:
    """Where to take the patient, once the crew is with them (empty before, or if none)."""
    if incident is None or incident.on_scene_at is None:
        return []
    try:
        return services.choose_destination(incident=incident, unit=unit)
    except DomainError:
        return []


@require_POST
@page_requires(Permission.REPORT_UNIT_STATUS)
def crew_pre_alert(request: HttpRequest, code: str) -> HttpResponse:
    unit = selectors.get_unit(code)

    def send() -> None:
        services.send_pre_alert(
            incident=_current_incident(unit),
            unit=unit,
            facility=get_facility(request.POST.get("facility", "")[:20]),
            actor=actor_of(request.user),
        )

    return _act(request, unit, send)
