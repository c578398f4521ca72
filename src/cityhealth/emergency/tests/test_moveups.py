"""Move-ups: after an assignment leaves part of the city uncovered, a standing ambulance is
suggested to move there; the dispatcher orders or dismisses it."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from cityhealth.core import clock
from cityhealth.core.errors import Conflict
from cityhealth.core.models import AuditEntry
from cityhealth.core.roles import Role
from cityhealth.emergency import services
from cityhealth.emergency.enums import MoveUpStatus, UnitStatus
from cityhealth.emergency.models import MoveUp, Unit
from cityhealth.emergency.moveup import plan_move_up
from cityhealth.emergency.tasks import suggest_move_up_after_assignment
from cityhealth.facilities.models import Facility

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("hanoi_registry")]
NIGHT = dt.datetime(2026, 4, 14, 2, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def ambulance(code: str, home: str, **fields: Any) -> Unit:
    station = Facility.objects.get(code=home)
    fields.setdefault("status", UnitStatus.AVAILABLE)
    return Unit.objects.create(
        code=code,
        call_sign=code,
        kind="als",
        operator="centre",
        home=station,
        status_since=clock.now(),
        **fields,
    )


@pytest.fixture
def thinned_fleet() -> dict[str, Unit]:
    """Three ambulances at the centre; Hà Đông's own is out on a job, so its people are far
    from any free unit."""
    return {
        "A1": ambulance("A1", "115-00"),
        "A2": ambulance("A2", "115-00"),
        "A3": ambulance("A3", "115-00"),
        "HD": ambulance("HD", "115-03", status=UnitStatus.EN_ROUTE),
    }


def test_a_standing_ambulance_is_moved_towards_the_uncovered_station(thinned_fleet):
    planned = plan_move_up(at=NIGHT)
    assert planned is not None
    assert planned.unit.code in {"A1", "A2", "A3"}
    assert planned.post.code == "115-03"
    assert planned.gain_residents > 50_000
    assert 0 < planned.drive_seconds < 3600


def test_no_move_is_suggested_when_every_station_has_its_unit():
    ambulance("A1", "115-00")
    ambulance("HD", "115-03")
    assert plan_move_up(at=NIGHT) is None


def test_a_new_suggestion_replaces_the_old_and_ordering_sends_the_unit(thinned_fleet, client_as):
    first = services.suggest_move_up(at=NIGHT)
    second = services.suggest_move_up(at=NIGHT)
    assert first is not None
    assert second is not None
    first.refresh_from_db()
    assert first.status == MoveUpStatus.EXPIRED
    with pytest.raises(Conflict):
        services.order_move_up(move_up=first, actor="dispatcher")

    ordered = services.order_move_up(move_up=second, actor="dispatcher")
    assert ordered.status == MoveUpStatus.ORDERED
    unit = Unit.objects.get(pk=second.unit_id)
    assert unit.status == UnitStatus.RETURNING  # driving to the post
    assert unit.standby_post is not None
    assert unit.standby_post.code == "115-03"
    assert AuditEntry.objects.filter(action="unit.move_up_ordered").count() == 1
    crew_page = client_as(Role.CREW).get(f"/emergency/crew/{unit.code}/")
    assert "Trạm cấp cứu 115 Hà Đông" in crew_page.content.decode()
    with pytest.raises(Conflict):  # ordered twice (a double click)
        services.order_move_up(move_up=second, actor="dispatcher")


def test_a_unit_sent_on_a_job_meanwhile_cannot_be_moved(thinned_fleet):
    suggestion = services.suggest_move_up(at=NIGHT)
    assert suggestion is not None
    Unit.objects.filter(pk=suggestion.unit_id).update(status=UnitStatus.DISPATCHED)
    with pytest.raises(Conflict) as refused:
        services.order_move_up(move_up=suggestion, actor="dispatcher")
    assert refused.value.code == "unit.not_available"


def test_each_assignment_asks_for_a_move_up_after_its_commit(thinned_fleet):
    incident = services.receive_call(call_id="pbx-1", caller_number="", actor="pbx").incident
    services.answer_call(incident=incident, actor="taker")
    services.confirm_location(
        incident=incident, latitude=21.03, longitude=105.85, method="map", actor="taker"
    )
    with django_capture_on_commit() as callbacks:
        services.assign_unit(incident=incident, unit=thinned_fleet["A1"], actor="dispatcher")
    assert callbacks  # the task is asked for only once the assignment is committed
    paths = set(DBTaskResult.objects.values_list("task_path", flat=True))
    assert "cityhealth.emergency.tasks.suggest_move_up_after_assignment" in paths
    # What the worker then runs (at night: at noon Hà Đông gains less than the 1% threshold).
    with clock.frozen_at(NIGHT):
        found = suggest_move_up_after_assignment.call(incident_id=incident.pk)
    assert found is not None
    suggestion = MoveUp.objects.get(pk=found)
    assert suggestion.after_incident == incident
    assert suggestion.unit.code in {"A2", "A3"}


def test_the_console_lists_and_decides_move_ups_over_http(thinned_fleet, client_as):
    dispatcher = client_as(Role.DISPATCHER)
    with clock.frozen_at(NIGHT):
        made = dispatcher.post("/api/emergency/move-ups")
    assert made.status_code == 201
    listed = dispatcher.get("/api/emergency/move-ups").json()
    assert [m["post"] for m in listed] == ["115-03"]
    snapshot = dispatcher.get("/emergency/events/", {"once": "1"})
    assert b"move_ups" in b"".join(snapshot.streaming_content)
    dismissed = dispatcher.post(f"/api/emergency/move-ups/{listed[0]['id']}/dismiss")
    assert dismissed.json()["status"] == "dismissed"
    again = dispatcher.post(f"/api/emergency/move-ups/{listed[0]['id']}/order")
    assert again.status_code == 409
    assert dispatcher.post("/api/emergency/move-ups/999999/order").status_code == 404
    assert client_as(Role.CREW).get("/api/emergency/move-ups").status_code == 403


def django_capture_on_commit() -> Any:
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def test_the_task_tolerates_an_incident_gone_meanwhile(thinned_fleet):
    with clock.frozen_at(NIGHT), transaction.atomic():
        assert suggest_move_up_after_assignment.call(incident_id=123456) is not None
