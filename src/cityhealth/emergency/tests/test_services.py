"""Calls, incidents and units through the dispatch centre's write use cases."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cityhealth.core import clock
from cityhealth.core.errors import Conflict, InvalidInput
from cityhealth.core.models import AuditEntry
from cityhealth.emergency import services
from cityhealth.emergency.enums import (
    AssignmentStatus,
    IncidentStatus,
    Operator,
    UnitKind,
    UnitStatus,
)
from cityhealth.emergency.models import Incident, Unit, UnitStatusChange

pytestmark = pytest.mark.django_db

HOAN_KIEM = (21.0285, 105.8542)
NEARBY = (21.0290, 105.8547)  # about 70 m away
FAR = (20.9734, 105.7780)  # Hà Đông


def make_unit(code: str = "115-00-A1", **fields: Any) -> Unit:
    fields.setdefault("kind", UnitKind.ALS_AMBULANCE)
    fields.setdefault("operator", Operator.CENTRE)
    return Unit.objects.create(code=code, call_sign=code, status_since=clock.now(), **fields)


def located_call(call_id: str = "pbx-1", point: tuple[float, float] = HOAN_KIEM) -> Incident:
    incident = services.receive_call(
        call_id=call_id, caller_number="0912345678", actor="pbx"
    ).incident
    services.answer_call(incident=incident, actor="taker")
    services.confirm_location(
        incident=incident, latitude=point[0], longitude=point[1], method="map", actor="taker"
    )
    return services.record_triage(
        incident=incident, priority="P1", complaint="ARREST", outcome={"code": "x"}, actor="taker"
    )


# --- calls ---------------------------------------------------------------------------------


def test_a_call_opens_an_incident_once_however_often_the_webhook_repeats():
    first = services.receive_call(call_id="pbx-77", caller_number="091 234 5678", actor="pbx")
    again = services.receive_call(call_id="pbx-77", caller_number="0912345678", actor="pbx")
    assert first.created is True
    assert again.created is False
    assert again.incident.pk == first.incident.pk
    assert first.incident.caller_number == "0912345678"
    assert first.incident.number.endswith(f"-{first.incident.pk:06d}")
    assert Incident.objects.count() == 1
    assert AuditEntry.objects.filter(action="incident.received").count() == 1


@pytest.mark.parametrize(
    ("call_id", "number", "code"),
    [
        ("", "0912345678", "call.bad_call_id"),
        ("a b", "", "call.bad_call_id"),
        ("x", "12ab", "call.bad_caller_number"),
    ],
)
def test_bad_call_reports_are_refused(call_id, number, code):
    with pytest.raises(InvalidInput) as info:
        services.receive_call(call_id=call_id, caller_number=number, actor="pbx")
    assert info.value.code == code
    assert not Incident.objects.exists()


def test_a_hidden_number_is_still_a_call():
    assert services.receive_call(call_id="pbx-9", caller_number="", actor="pbx").created


def test_the_draft_is_kept_and_two_screens_cannot_overwrite_each_other():
    incident = services.receive_call(call_id="pbx-2", caller_number="", actor="pbx").incident
    saved = services.save_call_draft(
        incident=incident, fields={"address": "Số 5 ngõ 12 Hàng Bông"}, version=0, actor="a"
    )
    saved = services.save_call_draft(
        incident=incident, fields={"patients": 2}, version=saved.version, actor="a"
    )
    assert saved.draft == {"address": "Số 5 ngõ 12 Hàng Bông", "patients": 2}
    with pytest.raises(Conflict) as info:
        services.save_call_draft(incident=incident, fields={"notes": "x"}, version=1, actor="b")
    assert info.value.code == "incident.stale_draft"
    with pytest.raises(InvalidInput):
        services.save_call_draft(incident=incident, fields={"priority": "P1"}, version=2, actor="a")
    incident.refresh_from_db()
    assert incident.draft == {"address": "Số 5 ngõ 12 Hàng Bông", "patients": 2}


def test_location_outside_the_city_is_refused_and_changes_nothing():
    incident = services.receive_call(call_id="pbx-3", caller_number="", actor="pbx").incident
    for lat, lon in [(105.85, 21.02), (10.77, 106.70), (float("nan"), 105.8)]:
        with pytest.raises(InvalidInput) as info:
            services.confirm_location(
                incident=incident, latitude=lat, longitude=lon, method="map", actor="t"
            )
        assert info.value.code == "location.outside_city"
    incident.refresh_from_db()
    assert incident.latitude is None
    assert incident.location_confirmed_at is None


def test_two_calls_about_one_crash_are_flagged_as_duplicates():
    first = located_call("pbx-a")
    second = located_call("pbx-b", NEARBY)
    far = located_call("pbx-c", FAR)
    assert second.possible_duplicate_of == first
    assert far.possible_duplicate_of is None


def test_located_and_triaged_the_incident_waits_for_a_unit():
    incident = located_call()
    assert incident.status == IncidentStatus.PENDING
    assert incident.priority == "P1"
    assert incident.received_at <= incident.answered_at <= incident.triaged_at  # type: ignore[operator]
    with pytest.raises(InvalidInput):
        services.record_triage(
            incident=incident, priority="P9", complaint="", outcome={}, actor="t"
        )


# --- units ---------------------------------------------------------------------------------


def test_the_whole_journey_stamps_every_moment_and_frees_the_unit():
    incident = located_call()
    unit = make_unit()
    services.assign_unit(incident=incident, unit=unit, actor="dispatcher")
    for status in ("en_route", "on_scene"):
        services.record_unit_status(unit=unit, status=status, actor="crew")
    services.record_incident_event(incident=incident, event="patient_contact", actor="crew")
    for status in ("transporting", "at_hospital"):
        services.record_unit_status(unit=unit, status=status, actor="crew")
    services.record_incident_event(incident=incident, event="handover", actor="crew")
    services.record_unit_status(unit=unit, status="returning", actor="crew")
    incident.refresh_from_db()
    unit.refresh_from_db()
    stamps = [
        incident.received_at, incident.answered_at, incident.location_confirmed_at,
        incident.triaged_at, incident.assigned_at, incident.en_route_at, incident.on_scene_at,
        incident.patient_contact_at, incident.left_scene_at, incident.at_hospital_at,
        incident.handed_over_at, incident.unit_free_at, incident.closed_at,
    ]  # fmt: skip
    assert all(stamps)
    assert stamps == sorted(stamps)  # type: ignore[type-var]
    assert incident.status == IncidentStatus.CLOSED
    assert (unit.status, unit.incident) == (UnitStatus.RETURNING, None)
    assert incident.assignments.get().status == AssignmentStatus.COMPLETED
    changes = list(UnitStatusChange.objects.values_list("to_status", flat=True).order_by("id"))
    assert changes == [
        "dispatched",
        "en_route",
        "on_scene",
        "transporting",
        "at_hospital",
        "returning",
    ]
    assert AuditEntry.objects.filter(action="unit.status_changed").count() == 6


def test_illegal_status_changes_are_refused_with_the_reason():
    unit = make_unit()
    with pytest.raises(Conflict) as info:
        services.record_unit_status(unit=unit, status="on_scene", actor="crew")
    assert info.value.code == "unit.illegal_status_change"
    assert "available" in info.value.message("en")
    with pytest.raises(InvalidInput):
        services.record_unit_status(unit=unit, status="flying", actor="crew")
    unit.refresh_from_db()
    assert unit.status == UnitStatus.AVAILABLE
    assert not UnitStatusChange.objects.exists()


def test_one_unit_cannot_be_sent_to_two_incidents():
    first, second = located_call("pbx-1"), located_call("pbx-2", FAR)
    unit = make_unit()
    services.assign_unit(incident=first, unit=unit, actor="d1")
    with pytest.raises(Conflict) as info:
        services.assign_unit(incident=second, unit=unit, actor="d2")
    assert info.value.code == "unit.not_available"
    second.refresh_from_db()
    assert second.status == IncidentStatus.PENDING


def test_no_unit_before_the_location_is_known():
    incident = services.receive_call(call_id="pbx-5", caller_number="", actor="pbx").incident
    with pytest.raises(InvalidInput) as info:
        services.assign_unit(incident=incident, unit=make_unit(), actor="d")
    assert info.value.code == "incident.no_location"


def test_standing_down_puts_the_incident_back_in_the_queue():
    incident = located_call()
    unit = make_unit()
    assignment = services.assign_unit(incident=incident, unit=unit, actor="d")
    services.record_unit_status(unit=unit, status="en_route", actor="crew")
    services.stand_down(assignment=assignment, reason="closer unit", actor="d")
    incident.refresh_from_db()
    unit.refresh_from_db()
    assert unit.status == UnitStatus.RETURNING
    assert incident.status == IncidentStatus.PENDING
    # A returning unit can take the next job at once.
    services.assign_unit(incident=incident, unit=unit, actor="d")


def test_cancelling_stands_every_unit_down():
    incident = located_call()
    units = [make_unit("A1"), make_unit("A2", kind=UnitKind.MOTORBIKE)]
    for unit in units:
        services.assign_unit(incident=incident, unit=unit, actor="d")
    with pytest.raises(InvalidInput):
        services.cancel_incident(incident=incident, reason=" ", actor="d")
    services.cancel_incident(incident=incident, reason="patient went by taxi", actor="d")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CANCELLED
    assert {u.status for u in Unit.objects.all()} == {UnitStatus.AVAILABLE}
    with pytest.raises(Conflict) as info:
        services.answer_call(incident=incident, actor="t")
    assert info.value.code == "incident.closed"


def test_positions_out_of_order_never_move_the_unit_back():
    unit = make_unit()
    now = clock.now()
    later = services.PositionReport(latitude=21.03, longitude=105.85, at=now)
    earlier = services.PositionReport(
        latitude=21.00, longitude=105.80, at=now - dt.timedelta(seconds=30)
    )
    first = services.record_positions(unit=unit, reports=[later])
    second = services.record_positions(unit=unit, reports=[earlier])
    unit.refresh_from_db()
    assert (first.latest_moved, second.latest_moved) == (True, False)
    assert (unit.latitude, unit.longitude) == (21.03, 105.85)
    assert unit.positions.count() == 2
    bad = services.record_positions(
        unit=unit,
        reports=[
            services.PositionReport(latitude=48.85, longitude=2.35, at=now),
            services.PositionReport(latitude=21.0, longitude=105.8, at=now + dt.timedelta(hours=1)),
        ],
    )
    assert bad.rejected == ["location.outside_city", "position.in_the_future"]
    assert bad.stored == 0


@pytest.mark.usefixtures("hanoi_units")
def test_the_ward_comes_from_the_point_when_none_is_chosen():
    incident = located_call("pbx-w")
    assert incident.ward is not None
    assert incident.ward.name.endswith("Hoàn Kiếm")
    # Inside the box around the city, but in the Gulf of Tonkin side of it: not a ward.
    other = services.receive_call(call_id="pbx-x", caller_number="", actor="pbx").incident
    with pytest.raises(InvalidInput) as info:
        services.confirm_location(
            incident=other, latitude=20.52, longitude=106.04, method="map", actor="t"
        )
    assert info.value.code == "location.outside_city"
