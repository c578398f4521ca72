"""The crew's phone page and the pre-hospital care record that becomes the handover."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from cityhealth.core.errors import InvalidInput
from cityhealth.core.models import AuditEntry
from cityhealth.core.roles import Role
from cityhealth.emergency import services
from cityhealth.emergency.enums import UnitStatus
from cityhealth.emergency.models import CareRecord, Unit
from cityhealth.emergency.tests.test_services import located_call, make_unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def job() -> Any:
    incident = located_call()
    unit = make_unit()
    services.assign_unit(incident=incident, unit=unit, actor="d")
    return incident, unit


def test_vitals_and_treatment_make_the_handover_summary(job):
    incident, unit = job
    services.record_vitals(
        incident=incident,
        unit=unit,
        values={"hr": 120, "sbp": 90, "spo2": 91, "gcs_e": 3, "gcs_v": 4, "gcs_m": 6},
        actor="crew",
    )
    services.record_treatment(
        incident=incident, unit=unit, kind="medication", what="Oxy", dose="6 L/ph", actor="crew"
    )
    services.record_treatment(
        incident=incident, unit=unit, kind="intervention", what="Nẹp cổ", actor="crew"
    )
    summary = services.handover_summary(incident=incident)
    (patient,) = summary.patients
    assert patient["gcs"] == 13
    assert patient["latest_vitals"]["hr"] == 120
    assert [m["what"] for m in patient["medications"]] == ["Oxy"]
    assert summary.priority == "P1"
    assert AuditEntry.objects.filter(action__startswith="care.").count() == 3


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"hr": 900}, "care.implausible_vital"),
        ({"gcs_m": 7}, "care.implausible_vital"),
        ({"pulse": 80}, "care.unknown_vital"),
        ({}, "care.empty"),
    ],
)
def test_implausible_vitals_are_refused_and_nothing_is_saved(job, values, code):
    incident, unit = job
    with pytest.raises(InvalidInput) as info:
        services.record_vitals(incident=incident, unit=unit, values=values, actor="crew")
    assert info.value.code == code
    assert all(not r.vitals for r in CareRecord.objects.all())


def test_a_unit_not_sent_cannot_write_the_record(job):
    incident, _unit = job
    other = make_unit("115-00-A2")
    with pytest.raises(InvalidInput) as info:
        services.record_vitals(incident=incident, unit=other, values={"hr": 80}, actor="crew")
    assert info.value.code == "care.unit_not_on_incident"


def test_the_crew_page_walks_the_job(client_as, job):
    incident, unit = job
    crew = client_as(Role.CREW)
    page = crew.get(reverse("emergency:crew_page", args=[unit.code]))
    assert page.status_code == 200
    offered = [value for value, _label in page.context["next_statuses"]]
    assert offered == [UnitStatus.EN_ROUTE, UnitStatus.AVAILABLE]
    for status in ("en_route", "on_scene"):
        crew.post(reverse("emergency:crew_status", args=[unit.code]), {"status": status})
    crew.post(reverse("emergency:crew_event", args=[unit.code]), {"event": "patient_contact"})
    crew.post(reverse("emergency:crew_vitals", args=[unit.code]), {"hr": "88", "spo2": "97,5"})
    refused = crew.post(
        reverse("emergency:crew_vitals", args=[unit.code]), {"hr": "abc"}, follow=True
    )
    assert "hr" in refused.content.decode()
    unit.refresh_from_db()
    incident.refresh_from_db()
    assert unit.status == UnitStatus.ON_SCENE
    assert incident.patient_contact_at is not None
    record = CareRecord.objects.get()
    assert [v["spo2"] for v in record.vitals] == [97.5]
    illegal = crew.post(
        reverse("emergency:crew_status", args=[unit.code]), {"status": "available"}, follow=True
    )
    assert illegal.status_code == 200
    unit.refresh_from_db()
    assert unit.status == UnitStatus.ON_SCENE


def test_the_route_leads_from_the_unit_to_the_patient(client_as, job):
    incident, unit = job
    Unit.objects.filter(pk=unit.pk).update(latitude=21.0200, longitude=105.8556)
    crew = client_as(Role.CREW)
    route = crew.get(reverse("emergency:crew_route", args=[unit.code])).json()
    assert route["points"][0] == pytest.approx([21.0200, 105.8556], abs=0.01)
    assert route["points"][-1] == pytest.approx([incident.latitude, incident.longitude], abs=0.01)
    assert route["seconds"] > 0
    idle = make_unit("115-00-A9")
    assert crew.get(reverse("emergency:crew_route", args=[idle.code])).json()["points"] == []


@pytest.mark.usefixtures("hanoi_registry")
def test_on_scene_the_crew_page_offers_hospitals_and_sends_the_pre_alert(client_as, job):
    from cityhealth.emergency.models import PreAlert

    incident, unit = job
    for status in ("en_route", "on_scene"):
        services.record_unit_status(unit=unit, status=status, actor="crew")
    crew = client_as(Role.CREW)
    page = crew.get(reverse("emergency:crew_page", args=[unit.code]))
    options = page.context["destinations"]
    assert options
    code = options[0].facility.code
    crew.post(reverse("emergency:crew_pre_alert", args=[unit.code]), {"facility": code})
    alert = PreAlert.objects.get()
    assert alert.facility.code == code
    assert alert.incident_id == incident.pk
    again = crew.get(reverse("emergency:crew_page", args=[unit.code]))
    assert again.context["pre_alerts"] == [alert]
