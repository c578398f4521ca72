"""The destination hospital, the pre-alert and the receiving hospital's incoming page."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from cityhealth.accounts.services import create_staff_user, grant_role
from cityhealth.core.errors import Conflict, InvalidInput
from cityhealth.core.models import AuditEntry
from cityhealth.core.roles import Role
from cityhealth.emergency import services
from cityhealth.emergency.models import (
    Capability,
    EmergencyDepartmentStatus,
    Incident,
    PreAlert,
    PreAlertStatus,
)
from cityhealth.emergency.services.destination import capabilities_file
from cityhealth.emergency.tests.test_services import located_call, make_unit
from cityhealth.facilities.enums import FacilityKind
from cityhealth.facilities.models import Facility
from cityhealth.facilities.services import load_facilities
from cityhealth.geo.services import load_administrative_units

pytestmark = pytest.mark.django_db

SCENE = (21.0285, 105.8542)  # Hoàn Kiếm
NEAR = (21.0409, 105.8460)  # about 1.6 km north of the scene
FAR = (21.0039, 105.8591)  # about 2.8 km south
FARTHER = (20.9713, 105.7745)  # Hà Đông, about 10 km


def hospital(code: str, point: tuple[float, float] | None, *capabilities: str, **status: Any):
    facility = Facility.objects.create(
        code=code,
        name=f"Bệnh viện {code}",
        kind=FacilityKind.GENERAL_HOSPITAL,
        latitude=point[0] if point else None,
        longitude=point[1] if point else None,
    )
    EmergencyDepartmentStatus.objects.create(
        facility=facility, capabilities=list(capabilities), capabilities_basis="assumed", **status
    )
    return facility


def triaged(complaint: str, priority: str = "P1", call_id: str = "pbx-d1") -> Incident:
    incident = located_call(call_id, SCENE)
    return services.record_triage(
        incident=incident,
        priority=priority,
        complaint=complaint,
        outcome={
            "complaint": {"code": complaint, "name": {"vi": "Đột quỵ", "en": "Stroke"}},
            "priority": priority,
            "care": "als",
            "determinant": f"{complaint}-{priority}-A",
            "summary": {"vi": "Yếu nửa người 30 phút", "en": "One-sided weakness, 30 min"},
        },
        actor="taker",
    )


def codes(options: list[services.DestinationOption]) -> list[str]:
    return [o.facility.code for o in options]


# --- choosing the hospital -------------------------------------------------------------------


def test_stroke_goes_to_a_stroke_centre_even_if_a_general_hospital_is_nearer():
    hospital("T-GEN", NEAR, Capability.GENERAL_ED)
    hospital("T-STROKE", FAR, Capability.GENERAL_ED, Capability.STROKE)
    options = services.choose_destination(incident=triaged("STROKE"))
    assert codes(options) == ["T-STROKE"]
    assert options[0].capable is True
    assert "capability=stroke" in options[0].reasons
    assert options[0].eta_seconds > 0
    # Any other complaint: the nearest emergency department first.
    other = services.choose_destination(incident=triaged("ABDO", "P2", call_id="pbx-d2"))
    assert codes(other) == ["T-GEN", "T-STROKE"]


@pytest.mark.parametrize(
    ("complaint", "priority", "age", "needed"),
    [
        ("STROKE", "P2", None, Capability.STROKE),
        ("CHEST", "P1", None, Capability.CARDIAC_CATH),
        ("CHEST", "P3", None, Capability.GENERAL_ED),
        ("TRAFFIC", "P1", None, Capability.TRAUMA),
        ("FALL", "P2", None, Capability.GENERAL_ED),
        ("CHILD", "P2", None, Capability.PAEDIATRICS),
        ("SEIZ", "P2", 6, Capability.PAEDIATRICS),
        ("PREG", "P1", 15, Capability.OBSTETRICS),
        ("BURN", "P2", None, Capability.BURNS),
        ("ABDO", "P2", 40, Capability.GENERAL_ED),
    ],
)
def test_the_capability_follows_the_triage(complaint, priority, age, needed):
    incident = Incident(complaint=complaint, priority=priority, received_at=dt.datetime.now(dt.UTC))
    assert services.required_capability(incident=incident, patient_age=age) == needed


def test_a_hospital_on_diversion_is_left_out_unless_all_are():
    hospital("T-NEAR", NEAR, Capability.STROKE, on_diversion=True, diversion_reason="CT hỏng")
    hospital("T-FAR", FAR, Capability.STROKE)
    incident = triaged("STROKE")
    assert codes(services.choose_destination(incident=incident)) == ["T-FAR"]

    EmergencyDepartmentStatus.objects.filter(facility__code="T-FAR").update(
        on_diversion=True, diversion_reason="Hết giường"
    )
    options = services.choose_destination(incident=incident)
    assert codes(options) == ["T-NEAR", "T-FAR"]
    assert "all_on_diversion" in options[0].notes
    assert "diversion=CT hỏng" in options[0].reasons


def test_a_department_without_free_beds_ranks_after_one_with_beds_or_silent():
    hospital("T-FULL", NEAR, Capability.GENERAL_ED, beds_free=0)
    hospital("T-SILENT", FARTHER, Capability.GENERAL_ED)
    hospital("T-ROOM", FAR, Capability.GENERAL_ED, beds_free=3)
    options = services.choose_destination(incident=triaged("ABDO", "P2"), limit=5)
    assert codes(options) == ["T-ROOM", "T-SILENT", "T-FULL"]
    assert "beds=0" in options[-1].reasons
    assert "beds=unknown" in options[1].reasons


def test_no_capable_hospital_falls_back_to_the_nearest_ed_and_says_so():
    hospital("T-GEN", NEAR, Capability.GENERAL_ED)
    hospital("T-HIDDEN", None, Capability.BURNS)
    options = services.choose_destination(incident=triaged("BURN", "P2"))
    assert codes(options) == ["T-GEN"]
    assert options[0].capable is False
    assert "none_capable=burns" in options[0].notes
    assert "no_location=T-HIDDEN" in options[0].notes


def test_the_unit_position_is_the_origin_once_it_moves():
    hospital("T-NORTH", NEAR, Capability.GENERAL_ED)
    hospital("T-SOUTH", FAR, Capability.GENERAL_ED)
    unit = make_unit(latitude=FAR[0] - 0.002, longitude=FAR[1])
    options = services.choose_destination(incident=triaged("ABDO", "P2"), unit=unit)
    assert codes(options)[0] == "T-SOUTH"


def test_no_hospital_at_all_is_a_clear_error():
    with pytest.raises(InvalidInput) as info:
        services.choose_destination(incident=triaged("ABDO", "P2"))
    assert info.value.code == "destination.none"


# --- capabilities file -----------------------------------------------------------------------


def test_the_shipped_file_covers_every_registry_hospital_with_a_basis():
    rows = list(csv.DictReader(capabilities_file().open(encoding="utf-8")))
    facilities = capabilities_file().parents[1] / "facilities"
    hospitals: set[str] = set()
    for name in ("hanoi_hospitals.csv", "hanoi_central_hospitals.csv"):
        with Path(facilities / name).open(encoding="utf-8") as registry:
            hospitals |= {r["code"] for r in csv.DictReader(registry)}
    assert {r["facility_code"] for r in rows} == hospitals
    assert {r["basis"] for r in rows} <= {"reference", "name", "assumed"}
    by_code = {r["facility_code"]: r for r in rows}
    assert by_code["BV-TIM-HANOI"]["cardiac_cath"] == "1"
    assert by_code["BV-PHUSAN-HANOI"]["obstetrics"] == "1"
    assert by_code["BV-NHI-HANOI"]["paediatrics"] == "1"
    assert by_code["BV-XANHPON"]["general_ed"] == "1"


def test_loading_the_capabilities_is_idempotent_and_keeps_published_status(tmp_path):
    facility = hospital("T-A", NEAR, Capability.GENERAL_ED, beds_free=4)
    Facility.objects.create(code="T-B", name="B", kind=FacilityKind.SPECIALIST_HOSPITAL)
    header = "facility_code,name," + ",".join(Capability.values) + ",basis,note\n"
    file = tmp_path / "caps.csv"
    file.write_text(
        header
        + "T-A,A,1,1,0,0,0,0,0,reference,stroke unit\n"
        + "T-B,B,0,0,0,0,1,0,0,name,children\n"
        + "T-NONE,X,1,0,0,0,0,0,0,assumed,\n",
        encoding="utf-8",
    )
    first = services.load_hospital_capabilities(path=file)
    assert (first.created, first.updated, first.unknown_codes) == (1, 1, ("T-NONE",))
    again = services.load_hospital_capabilities(path=file)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    status = EmergencyDepartmentStatus.objects.get(facility=facility)
    assert status.capabilities == ["general_ed", "stroke"]
    assert status.beds_free == 4


# --- the shipped registry and capabilities --------------------------------------------------


@pytest.fixture(scope="class")
def city_hospitals(
    django_db_setup: None, django_db_blocker: Any
) -> Iterator[services.CapabilitiesLoaded]:
    """Hà Nội's wards, facility registry (the city's and the central hospitals) and the shipped
    capabilities file, loaded as the platform loads them: once for the class, rolled back after
    it (each test still runs in its own savepoint)."""
    with django_db_blocker.unblock(), transaction.atomic():
        load_administrative_units()
        load_facilities()
        yield services.load_hospital_capabilities()
        transaction.set_rollback(True)


class TestTheShippedRegistry:
    def test_every_code_of_the_capabilities_file_is_in_the_registry(self, city_hospitals):
        assert city_hospitals.unknown_codes == ()
        assert city_hospitals.created == 42 + 13
        central = EmergencyDepartmentStatus.objects.filter(
            facility__kind=FacilityKind.CENTRAL_HOSPITAL
        )
        assert central.count() == 13

    def test_a_stroke_near_the_centre_goes_to_the_central_stroke_centre(self, city_hospitals):
        stroke_capable = {
            s.facility.code
            for s in EmergencyDepartmentStatus.objects.select_related("facility")
            if Capability.STROKE in s.effective_capabilities
        }
        assert "BV-BACHMAI" in stroke_capable
        options = services.choose_destination(incident=triaged("STROKE", "P1"))
        first = options[0]
        assert first.facility.code in stroke_capable
        assert first.capable is True
        assert "capability=stroke" in first.reasons
        # The nearest stroke-capable hospital to Hoàn Kiếm is a central one: Bạch Mai.
        assert first.facility.kind == FacilityKind.CENTRAL_HOSPITAL
        assert first.facility.code == "BV-BACHMAI"
        assert not any(n.startswith("none_capable=") for n in first.notes)

    @pytest.mark.parametrize(
        ("complaint", "priority", "age", "expected"),
        [
            ("BURN", "P2", None, "BV-BONG-QG"),
            ("CHILD", "P2", None, "BV-NHI-TW"),
            ("SEIZ", "P2", 6, "BV-NHI-TW"),
            ("TRAFFIC", "P1", None, "BV-VIETDUC"),
            ("PREG", "P1", None, "BV-PHUSAN-TW"),
        ],
    )
    def test_the_national_centres_receive_what_they_are_for(
        self, city_hospitals, complaint, priority, age, expected
    ):
        options = services.choose_destination(
            incident=triaged(complaint, priority), patient_age=age
        )
        assert options[0].facility.code == expected
        assert options[0].capable is True
        assert options[0].facility.kind == FacilityKind.CENTRAL_HOSPITAL

    def test_a_medical_emergency_is_not_sent_to_a_hospital_without_a_general_ed(
        self, city_hospitals
    ):
        # Việt Đức (surgical), the burns and the cancer hospitals claim no general emergency
        # department.
        options = services.choose_destination(incident=triaged("ABDO", "P2"), limit=10)
        assert all(o.capable for o in options)
        assert not {"BV-VIETDUC", "BV-BONG-QG", "BV-K"} & set(codes(options))


# --- pre-alert -------------------------------------------------------------------------------


@pytest.fixture
def stroke_run() -> Any:
    incident = triaged("STROKE")
    unit = make_unit(latitude=SCENE[0], longitude=SCENE[1])
    services.assign_unit(incident=incident, unit=unit, actor="d")
    services.record_vitals(
        incident=incident,
        unit=unit,
        values={"hr": 96, "sbp": 182, "spo2": 97, "gcs_e": 4, "gcs_v": 4, "gcs_m": 6},
        actor="crew",
    )
    services.record_treatment(
        incident=incident, unit=unit, kind="medication", what="Oxy", dose="2 L/ph", actor="crew"
    )
    return incident, unit, hospital("T-STROKE", FAR, Capability.STROKE)


def test_the_pre_alert_carries_eta_vitals_and_summary_and_is_audited(stroke_run):
    incident, unit, facility = stroke_run
    alert = services.send_pre_alert(incident=incident, unit=unit, facility=facility, actor="crew")
    assert alert.status == PreAlertStatus.SENT
    assert alert.priority == "P1"
    assert dt.timedelta(minutes=1) < alert.eta_at - alert.created_at < dt.timedelta(minutes=60)
    assert alert.summary["complaint_code"] == "STROKE"
    assert alert.summary["triage_summary"]["en"] == "One-sided weakness, 30 min"
    (patient,) = alert.summary["patients"]
    assert patient["latest_vitals"]["sbp"] == 182
    assert patient["gcs"] == 14
    assert [m["what"] for m in patient["medications"]] == ["Oxy"]
    entry = AuditEntry.objects.get(action="pre_alert.sent")
    assert entry.details["facility"] == "T-STROKE"
    assert entry.details["unit"] == unit.code

    # A new destination replaces the old alert.
    other = hospital("T-OTHER", NEAR, Capability.STROKE)
    services.send_pre_alert(incident=incident, unit=unit, facility=other, actor="crew")
    alert.refresh_from_db()
    assert alert.status == PreAlertStatus.CANCELLED
    assert PreAlert.objects.filter(status=PreAlertStatus.SENT).count() == 1


def test_a_unit_not_on_the_incident_cannot_send_a_pre_alert(stroke_run):
    incident, _unit, facility = stroke_run
    with pytest.raises(InvalidInput) as info:
        services.send_pre_alert(
            incident=incident, unit=make_unit("115-00-B9"), facility=facility, actor="crew"
        )
    assert info.value.code == "pre_alert.unit_not_on_incident"


def test_a_hospital_without_coordinates_cannot_be_pre_alerted(stroke_run):
    incident, unit, _facility = stroke_run
    with pytest.raises(InvalidInput) as info:
        services.send_pre_alert(
            incident=incident, unit=unit, facility=hospital("T-NOWHERE", None), actor="crew"
        )
    assert info.value.code == "pre_alert.no_location"


# --- ED status -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("beds", "diversion", "reason", "code"),
    [
        (-1, False, "", "ed_status.negative_beds"),
        (5000, False, "", "ed_status.implausible_beds"),
        (2, True, "  ", "ed_status.reason_required"),
    ],
)
def test_ed_status_is_validated(beds, diversion, reason, code):
    facility = hospital("T-A", NEAR, Capability.GENERAL_ED)
    with pytest.raises(InvalidInput) as info:
        services.update_ed_status(
            facility=facility, beds_free=beds, on_diversion=diversion, reason=reason, actor="ed"
        )
    assert info.value.code == code
    assert info.value.message("vi") != info.value.message("en")


def test_ed_status_is_published_and_audited():
    facility = hospital("T-A", NEAR, Capability.GENERAL_ED)
    status = services.update_ed_status(
        facility=facility,
        beds_free=0,
        on_diversion=True,
        reason="Quá tải",
        actor="ed",
        capabilities=[Capability.GENERAL_ED, Capability.STROKE],
    )
    assert (status.beds_free, status.on_diversion, status.diversion_reason) == (0, True, "Quá tải")
    assert status.effective_capabilities == ["general_ed", "stroke"]
    assert AuditEntry.objects.get(action="ed_status.updated").details["before"] == {
        "beds_free": None,
        "on_diversion": False,
    }
    with pytest.raises(InvalidInput):
        services.update_ed_status(
            facility=facility,
            beds_free=1,
            on_diversion=False,
            reason="",
            actor="ed",
            capabilities=["teleportation"],
        )


# --- the incoming page -----------------------------------------------------------------------


def ed_client(facility: Facility, username: str) -> Client:
    user = create_staff_user(username=username, password="correct-horse-battery-9")
    grant_role(user=user, role=Role.ED_STAFF, facility=facility)
    client = Client()
    client.force_login(user)
    return client


def test_the_incoming_page_shows_the_alert_to_that_hospital_only(stroke_run, client_as):
    incident, unit, facility = stroke_run
    alert = services.send_pre_alert(incident=incident, unit=unit, facility=facility, actor="crew")
    other = hospital("T-OTHER", NEAR, Capability.GENERAL_ED)
    url = reverse("emergency:incoming")

    mine = ed_client(facility, "ed-mine").get(url)
    assert mine.status_code == 200
    body = mine.content.decode()
    assert incident.number in body
    assert "sbp 182" in body
    assert 'hx-trigger="every 2s"' in body

    theirs = ed_client(other, "ed-theirs")
    assert incident.number not in theirs.get(url).content.decode()
    assert theirs.get(url, {"facility": facility.code}).status_code == 403
    # Acknowledging another hospital's alert does nothing.
    theirs.post(reverse("emergency:incoming_acknowledge"), {"pre_alert": alert.pk})
    alert.refresh_from_db()
    assert alert.status == PreAlertStatus.SENT

    admin = client_as(Role.ADMIN)
    assert incident.number in admin.get(url, {"facility": facility.code}).content.decode()
    assert client_as(Role.DISPATCHER).get(url).status_code == 403


def test_acknowledge_and_publish_from_the_page(stroke_run):
    incident, unit, facility = stroke_run
    alert = services.send_pre_alert(incident=incident, unit=unit, facility=facility, actor="crew")
    client = ed_client(facility, "ed-nurse")
    response = client.post(reverse("emergency:incoming_acknowledge"), {"pre_alert": alert.pk})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == PreAlertStatus.ACKNOWLEDGED
    assert alert.acknowledged_by.startswith("user:")
    page = client.get(reverse("emergency:incoming")).content.decode()
    assert 'data-status="acknowledged"' in page

    status_url = reverse("emergency:incoming_status")
    client.post(status_url, {"beds_free": "2", "on_diversion": "1", "reason": ""})
    assert not EmergencyDepartmentStatus.objects.get(facility=facility).on_diversion
    client.post(status_url, {"beds_free": "2", "on_diversion": "1", "reason": "CT hỏng"})
    status = EmergencyDepartmentStatus.objects.get(facility=facility)
    assert (status.beds_free, status.on_diversion) == (2, True)


def test_a_closed_alert_cannot_be_acknowledged(stroke_run):
    incident, unit, facility = stroke_run
    alert = services.send_pre_alert(incident=incident, unit=unit, facility=facility, actor="crew")
    services.close_pre_alert(pre_alert=alert, outcome="arrived", actor="ed")
    with pytest.raises(Conflict) as info:
        services.acknowledge_pre_alert(pre_alert=alert, facility=facility, actor="ed")
    assert info.value.code == "pre_alert.closed"
