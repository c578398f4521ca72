"""At a room or counter: call next (priority, then arrival), recall, no-show, send on along
the journey under the same ticket, end the visit; two staff calling at once get two patients."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cityhealth.core import clock
from cityhealth.core.errors import Conflict, InvalidInput, NotFound
from cityhealth.facilities.models import ServicePoint
from cityhealth.reception import selectors, services
from cityhealth.reception.enums import EntryState, VisitStatus
from cityhealth.reception.models import QueueEntry, Visit
from cityhealth.reception.tests.conftest import (
    ELDER_CARD,
    HOSPITAL,
    MAN_CARD,
    WOMAN_CARD,
)

pytestmark = pytest.mark.django_db
MORNING = dt.datetime(2026, 11, 26, 1, 30, tzinfo=dt.UTC)


def scan(who: Any, card: str, minute: int = 0, **kwargs: Any) -> services.CheckIn:
    with clock.frozen_at(MORNING + dt.timedelta(minutes=minute)):
        return services.check_in_with_cccd(
            principal=who, facility_code=kwargs.pop("facility", HOSPITAL),
            clinic_code="CLINIC-INTERNAL", qr=card, **kwargs,
        )  # fmt: skip


def at(minute: int) -> Any:
    return clock.frozen_at(MORNING + dt.timedelta(minutes=minute))


def test_call_next_takes_priority_first_then_arrival(hospital, receptionist, clinician):
    woman = scan(receptionist, WOMAN_CARD, minute=0)
    room = woman.entry.service_point
    assert room is not None
    # Everyone to the same room, to see the order there.
    man = scan(receptionist, MAN_CARD, minute=1)
    elder = scan(receptionist, ELDER_CARD, minute=2)
    QueueEntry.objects.filter(pk__in=[man.entry.pk, elder.entry.pk]).update(service_point=room)
    with at(5):
        first = services.call_next(principal=clinician, service_point_id=room.pk)
    assert first.visit_id == elder.visit.pk  # 75 and over: first although last to come
    with at(10):
        second = services.call_next(principal=clinician, service_point_id=room.pk)
    assert second.visit_id == woman.visit.pk
    first.refresh_from_db()
    assert first.state == EntryState.DONE  # calling the next one ended the last
    assert Visit.objects.get(pk=elder.visit.pk).status == VisitStatus.DONE
    with at(12):
        third = services.call_next(principal=clinician, service_point_id=room.pk)
    assert third.visit_id == man.visit.pk
    with at(13), pytest.raises(Conflict) as empty:
        services.call_next(principal=clinician, service_point_id=room.pk)
    assert empty.value.code == "reception.queue_empty"


def test_recall_and_no_show(hospital, receptionist, clinician):
    done = scan(receptionist, WOMAN_CARD)
    room = done.entry.service_point
    assert room is not None
    with at(3):
        called = services.call_next(principal=clinician, service_point_id=room.pk)
    with at(4):
        again = services.recall(principal=clinician, entry_id=called.pk)
    assert again.calls == 2
    assert again.announced_at == MORNING + dt.timedelta(minutes=4)
    assert again.called_at == MORNING + dt.timedelta(minutes=3)  # the wait ends at the first call
    gone = services.mark_no_show(principal=clinician, entry_id=called.pk)
    assert gone.state == EntryState.NO_SHOW
    with pytest.raises(Conflict):
        services.recall(principal=clinician, entry_id=called.pk)
    assert Visit.objects.get(pk=done.visit.pk).status == VisitStatus.OPEN


def test_one_ticket_through_lab_back_to_the_same_room_then_the_cashier(
    hospital, receptionist, clinician
):
    done = scan(receptionist, WOMAN_CARD)
    room = done.entry.service_point
    assert room is not None
    with at(5):
        called = services.call_next(principal=clinician, service_point_id=room.pk)
        to_lab = services.send_to(principal=clinician, entry_id=called.pk, department_code="LAB")
    assert to_lab.step == 2
    assert to_lab.service_point is None  # any sample counter calls it
    assert to_lab.visit.ticket == done.visit.ticket
    counter = ServicePoint.objects.get(department__facility=hospital, code="LM02")
    with at(9):
        at_lab = services.call_next(principal=clinician, service_point_id=counter.pk)
    assert at_lab.pk == to_lab.pk
    assert at_lab.service_point_id == counter.pk
    with at(20):
        back = services.send_to(
            principal=clinician, entry_id=at_lab.pk, department_code="CLINIC-INTERNAL"
        )
    assert back.service_point_id == room.pk  # the doctor who asked for the tests
    with at(25):
        services.call_next(principal=clinician, service_point_id=room.pk)
        pay = services.send_to(principal=clinician, entry_id=back.pk, department_code="CASHIER")
    with at(30):
        visit = services.finish_visit(principal=clinician, entry_id=pay.pk)
    assert visit.status == VisitStatus.DONE
    states = list(visit.entries.order_by("step").values_list("state", flat=True))
    assert states == ["done", "done", "done", "done"]
    with pytest.raises(Conflict):
        services.finish_visit(principal=clinician, entry_id=pay.pk)
    with pytest.raises(InvalidInput):
        services.send_to(principal=clinician, entry_id=pay.pk, department_code="CASHIER")


def test_a_waiting_patient_can_be_transferred_and_the_room_list_shows_it(
    hospital, receptionist, clinician
):
    done = scan(receptionist, WOMAN_CARD)
    moved = services.send_to(
        principal=receptionist, entry_id=done.entry.pk, department_code="CLINIC-CARDIOLOGY"
    )
    done.entry.refresh_from_db()
    assert done.entry.state == EntryState.TRANSFERRED
    assert moved.service_point is not None
    _, listed = selectors.point_queue(principal=clinician, service_point_id=moved.service_point.pk)
    assert [e.pk for e in listed] == [moved.pk]
    with pytest.raises(NotFound):
        services.send_to(principal=clinician, entry_id=moved.pk, department_code="NOPE")


def test_the_board_masks_names_and_the_ticket_page_says_where_to_go(
    hospital, receptionist, clinician
):
    done = scan(receptionist, WOMAN_CARD)
    rows = selectors.board_rows(facility=hospital, department_codes=["CLINIC-INTERNAL"])
    assert [(r.ticket, r.name, r.state) for r in rows] == [("A001", "Trần T. M. Anh", "waiting")]
    before = selectors.board_version(facility=hospital, department_codes=["CLINIC-INTERNAL"])
    room = done.entry.service_point
    assert room is not None
    with at(3):
        services.call_next(principal=clinician, service_point_id=room.pk)
    after = selectors.board_version(facility=hospital, department_codes=["CLINIC-INTERNAL"])
    assert after != before
    ticket = selectors.ticket_by_token(done.visit.token)
    assert ticket.state == "called"
    assert ticket.room == room.name
    assert ticket.floor == room.floor
    with pytest.raises(NotFound):
        selectors.ticket_by_token("not-a-token")


def test_staff_of_another_hospital_see_no_queue_here(hospital, receptionist, make_staff):
    from cityhealth.accounts.services import grant_role
    from cityhealth.core.roles import Role
    from cityhealth.facilities.models import Facility

    done = scan(receptionist, WOMAN_CARD)
    elsewhere = Facility.objects.exclude(pk=hospital.pk).filter(kind="general_hospital").first()
    stranger = make_staff()
    grant_role(user=stranger, role=Role.CLINICIAN, facility=elsewhere)
    room = done.entry.service_point
    assert room is not None
    with pytest.raises(NotFound):
        services.call_next(principal=stranger, service_point_id=room.pk)
    with pytest.raises(NotFound):
        services.recall(principal=stranger, entry_id=done.entry.pk)


def test_a_patient_moved_to_another_clinic_while_being_called_is_not_taken(
    hospital, receptionist, clinician, monkeypatch
):
    """The desk moves a waiting patient to another clinic between the room choosing them
    and taking them: the room does not take a patient who is no longer in its queue."""
    from cityhealth.reception.services import queues

    woman = scan(receptionist, WOMAN_CARD, minute=0)
    room = woman.entry.service_point
    assert room is not None
    other = QueueEntry.objects.filter(pk=woman.entry.pk)
    finish_called_at = queues._finish_called_at

    def desk_moves_her_meanwhile(point: Any, now: Any) -> None:
        other.update(department_id=_another_queue(room.department_id))
        finish_called_at(point, now)

    monkeypatch.setattr(queues, "_finish_called_at", desk_moves_her_meanwhile)
    with at(5), pytest.raises(Conflict) as moved:
        services.call_next(principal=clinician, service_point_id=room.pk)
    assert moved.value.code == "reception.queue_empty"  # she is not in its queue any more
    assert other.get().state == EntryState.WAITING


def _another_queue(department_id: int) -> int:
    from cityhealth.facilities.models import Department

    here = Department.objects.get(pk=department_id)
    there = Department.objects.filter(facility_id=here.facility_id).exclude(pk=department_id)
    return there.values_list("pk", flat=True)[0]
