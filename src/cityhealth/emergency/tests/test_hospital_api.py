"""The receiving hospital's system over the API, and the "patient arrived" button."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cityhealth.accounts.models import ApiClient
from cityhealth.accounts.services import issue_api_token
from cityhealth.core.models import AuditEntry
from cityhealth.core.roles import Role
from cityhealth.emergency import services
from cityhealth.emergency.models import Capability, EmergencyDepartmentStatus, PreAlertStatus
from cityhealth.emergency.tests.test_destination import NEAR, ed_client, hospital, stroke_run
from cityhealth.facilities.models import Facility

pytestmark = pytest.mark.django_db
__all__ = ["stroke_run"]  # the fixture, shared with the destination tests


def his(facility: Facility | None, scopes: tuple[str, ...] = ("receive_pre_alerts",)) -> Client:
    """A hospital information system: an API client registered to one hospital."""
    name = f"his-{facility.code if facility else 'none'}-{len(scopes)}"
    system = ApiClient.objects.create(name=name, facility=facility, scopes=list(scopes))
    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(client=system).raw}")


def test_a_hospital_system_pulls_its_alerts_and_records_the_arrival(stroke_run):
    incident, unit, facility = stroke_run
    alert = services.send_pre_alert(incident=incident, unit=unit, facility=facility, actor="crew")
    system = his(facility)
    listed = system.get("/api/emergency/hospital/pre-alerts").json()
    assert [a["incident"] for a in listed] == [incident.number]
    assert listed[0]["summary"]["complaint_code"] == "STROKE"

    read = system.post(f"/api/emergency/hospital/pre-alerts/{alert.pk}/acknowledge")
    assert read.json()["status"] == "acknowledged"
    arrived = system.post(f"/api/emergency/hospital/pre-alerts/{alert.pk}/arrived")
    assert arrived.json()["status"] == "arrived"
    again = system.post(f"/api/emergency/hospital/pre-alerts/{alert.pk}/arrived")
    assert again.status_code == 200  # a retried request changes nothing
    assert AuditEntry.objects.filter(action="pre_alert.arrived").count() == 1
    assert system.get("/api/emergency/hospital/pre-alerts").json() == []


def test_a_hospital_system_sees_and_touches_only_its_own_hospital(stroke_run):
    incident, unit, facility = stroke_run
    alert = services.send_pre_alert(incident=incident, unit=unit, facility=facility, actor="crew")
    other = his(hospital("T-OTHER", NEAR, Capability.GENERAL_ED))
    assert other.get("/api/emergency/hospital/pre-alerts").json() == []
    assert other.post(f"/api/emergency/hospital/pre-alerts/{alert.pk}/arrived").status_code == 404
    asked = other.get("/api/emergency/hospital/pre-alerts", {"facility": facility.code})
    assert asked.status_code == 403
    unregistered = his(None)
    assert unregistered.get("/api/emergency/hospital/pre-alerts").status_code == 400
    no_scope = his(facility, scopes=("report_calls",))
    assert no_scope.get("/api/emergency/hospital/pre-alerts").status_code == 403
    alert.refresh_from_db()
    assert alert.status == PreAlertStatus.SENT


def test_a_hospital_system_publishes_beds_and_diversion(stroke_run):
    _incident, _unit, facility = stroke_run
    system = his(facility)
    url = "/api/emergency/hospital/ed-status"
    published = system.put(
        url,
        {"beds_free": 0, "on_diversion": True, "reason": "CT hỏng"},
        content_type="application/json",
    )
    assert published.status_code == 200
    assert published.json()["on_diversion"] is True
    status = EmergencyDepartmentStatus.objects.get(facility=facility)
    assert (status.beds_free, status.on_diversion, status.diversion_reason) == (0, True, "CT hỏng")
    assert status.updated_by.startswith("client:")  # which system published it is kept
    refused = system.put(
        url, {"beds_free": 3, "on_diversion": True, "reason": ""}, content_type="application/json"
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "ed_status.reason_required"
    broken = system.put(url, "{beds", content_type="application/json")
    assert broken.status_code in {400, 422}
    assert system.get(url).json()["beds_free"] == 0  # nothing lost


def test_the_patient_arrived_button_closes_the_alert_for_that_hospital_only(stroke_run):
    incident, unit, facility = stroke_run
    alert = services.send_pre_alert(incident=incident, unit=unit, facility=facility, actor="crew")
    other = ed_client(hospital("T-OTHER", NEAR, Capability.GENERAL_ED), "ed-other")
    other.post(reverse("emergency:incoming_arrived"), {"pre_alert": alert.pk})
    alert.refresh_from_db()
    assert alert.status == PreAlertStatus.SENT

    nurse = ed_client(facility, "ed-nurse")
    page = nurse.get(reverse("emergency:incoming")).content.decode()
    assert reverse("emergency:incoming_arrived") in page
    done = nurse.post(reverse("emergency:incoming_arrived"), {"pre_alert": alert.pk})
    assert done.status_code == 302
    alert.refresh_from_db()
    assert alert.status == PreAlertStatus.ARRIVED
    assert incident.number not in nurse.get(reverse("emergency:incoming")).content.decode()


def test_staff_and_administrators_use_the_same_api(stroke_run, client_as: Any):
    incident, unit, facility = stroke_run
    services.send_pre_alert(incident=incident, unit=unit, facility=facility, actor="crew")
    nurse = ed_client(facility, "ed-api")
    assert len(nurse.get("/api/emergency/hospital/pre-alerts").json()) == 1
    admin = client_as(Role.ADMIN)
    assert admin.get("/api/emergency/hospital/pre-alerts").status_code == 400
    picked = admin.get("/api/emergency/hospital/pre-alerts", {"facility": facility.code})
    assert len(picked.json()) == 1
    assert client_as(Role.DISPATCHER).get("/api/emergency/hospital/ed-status").status_code == 403
