"""The receiving hospital's side over the JSON API (mounted at /api/emergency): a hospital
information system pulls the patients announced to it and publishes its department's status.

An API client registered to a hospital (its `facility`) with the `receive_pre_alerts` scope
speaks for that hospital only; emergency-department staff for the hospital of their
membership; an administrator names one with `facility=CODE`.

| endpoint | permission | answers |
|---|---|---|
| `GET /hospital/pre-alerts` | RECEIVE_PRE_ALERTS | the patients on their way, soonest first |
| `POST /hospital/pre-alerts/{id}/acknowledge` | RECEIVE_PRE_ALERTS | 200; 404; 409 |
| `POST /hospital/pre-alerts/{id}/arrived` | RECEIVE_PRE_ALERTS | 200; 404; 409 |
| `GET /hospital/ed-status` | RECEIVE_PRE_ALERTS | what the department last published |
| `PUT /hospital/ed-status` | RECEIVE_PRE_ALERTS | 200; 400 `ed_status.*` |
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from cityhealth.accounts.selectors import actor_of
from cityhealth.core.access import api_principal, ensure_permission
from cityhealth.core.errors import InvalidInput
from cityhealth.core.roles import Permission
from cityhealth.emergency import selectors, services
from cityhealth.emergency.models import EmergencyDepartmentStatus, PreAlert
from cityhealth.facilities.models import Facility

router = Router()


class PreAlertOut(Schema):
    id: int
    incident: str
    unit: str
    facility: str
    status: str
    priority: str
    created_at: dt.datetime
    eta_at: dt.datetime
    acknowledged_at: dt.datetime | None
    summary: dict[str, Any]


def pre_alert_out(alert: PreAlert) -> PreAlertOut:
    return PreAlertOut(
        id=alert.pk,
        incident=alert.incident.number,
        unit=alert.unit.code,
        facility=alert.facility.code,
        status=alert.status,
        priority=alert.priority,
        created_at=alert.created_at,
        eta_at=alert.eta_at,
        acknowledged_at=alert.acknowledged_at,
        summary=alert.summary,
    )


class EdStatusIn(Schema):
    beds_free: int | None = None
    on_diversion: bool = False
    reason: str = Field("", max_length=200)
    # The department's own capabilities; they then win over the city's shipped file.
    capabilities: list[str] | None = None


class EdStatusOut(Schema):
    facility: str
    beds_free: int | None
    on_diversion: bool
    reason: str
    capabilities: list[str]
    updated_at: dt.datetime | None
    updated_by: str


def _hospital(request: HttpRequest, facility: str) -> tuple[str, Facility]:
    principal = api_principal(request)
    ensure_permission(principal, Permission.RECEIVE_PRE_ALERTS)
    found = selectors.receiving_hospital(principal, facility)
    if found is None:
        raise InvalidInput(
            "pre_alert.no_hospital",
            vi="Hãy chọn bệnh viện (facility=MÃ).",
            en="Name the hospital (facility=CODE).",
            field="facility",
        )
    return actor_of(principal), found


@router.get("/hospital/pre-alerts", response=list[PreAlertOut], summary="Patients on their way")
def incoming_pre_alerts(request: HttpRequest, facility: str = "") -> list[PreAlertOut]:
    _actor, hospital = _hospital(request, facility)
    return [pre_alert_out(a) for a in selectors.incoming_pre_alerts(hospital)]


@router.post("/hospital/pre-alerts/{alert_id}/acknowledge", response=PreAlertOut, summary="Read it")
def acknowledge_pre_alert(request: HttpRequest, alert_id: int, facility: str = "") -> PreAlertOut:
    actor, hospital = _hospital(request, facility)
    alert = services.acknowledge_pre_alert(
        pre_alert=selectors.get_pre_alert(alert_id), facility=hospital, actor=actor
    )
    return pre_alert_out(alert)


@router.post(
    "/hospital/pre-alerts/{alert_id}/arrived", response=PreAlertOut, summary="Patient arrived"
)
def patient_arrived(request: HttpRequest, alert_id: int, facility: str = "") -> PreAlertOut:
    actor, hospital = _hospital(request, facility)
    alert = services.close_pre_alert(
        pre_alert=selectors.get_pre_alert(alert_id),
        outcome="arrived",
        facility=hospital,
        actor=actor,
    )
    return pre_alert_out(alert)


def _status_out(hospital: Facility, status: EmergencyDepartmentStatus | None) -> EdStatusOut:
    return EdStatusOut(
        facility=hospital.code,
        beds_free=status.beds_free if status else None,
        on_diversion=status.on_diversion if status else False,
        reason=status.diversion_reason if status else "",
        capabilities=list(status.effective_capabilities) if status else [],
        updated_at=status.updated_at if status else None,
        updated_by=status.updated_by if status else "",
    )


@router.get("/hospital/ed-status", response=EdStatusOut, summary="The department's status")
def ed_status(request: HttpRequest, facility: str = "") -> EdStatusOut:
    _actor, hospital = _hospital(request, facility)
    return _status_out(
        hospital, EmergencyDepartmentStatus.objects.filter(facility=hospital).first()
    )


@router.put("/hospital/ed-status", response=EdStatusOut, summary="Publish free beds, diversion")
def publish_ed_status(request: HttpRequest, payload: EdStatusIn, facility: str = "") -> EdStatusOut:
    actor, hospital = _hospital(request, facility)
    status = services.update_ed_status(
        facility=hospital,
        beds_free=payload.beds_free,
        on_diversion=payload.on_diversion,
        reason=payload.reason,
        capabilities=payload.capabilities,
        actor=actor,
    )
    return _status_out(hospital, status)
