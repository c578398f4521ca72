"""Corrections of a visit at the desk: another clinic, other declared priority groups, a
visit cancelled, the visit moved to the right person; each with a reason, each refused once
the patient has been called or served, each in the visit's append-only log; a visit of
another hospital is not found."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cityhealth.accounts.services import grant_role
from cityhealth.core import clock
from cityhealth.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from cityhealth.core.roles import Role
from cityhealth.people.models import Person
from cityhealth.people.services import register_person
from cityhealth.reception import encounters, services
from cityhealth.reception.enums import EntryState, Priority, VisitStatus
from cityhealth.reception.models import QueueEntry, Visit, VisitCorrection
from cityhealth.reception.tests.conftest import (
    CHILD_CARD,
    ELDER_CARD,
    HOSPITAL,
    MAN,
    MAN_CARD,
    WOMAN_CARD,
    make_small_hospital,
)
from cityhealth.records.models import Resource

pytestmark = pytest.mark.django_db
MORNING = dt.datetime(2026, 11, 26, 1, 30, tzinfo=dt.UTC)  # 08:30 in Hà Nội
INTERNAL, PAEDIATRICS, OBGYN = "CLINIC-INTERNAL", "CLINIC-PAEDIATRICS", "CLINIC-OBGYN"


def at(minute: int = 0) -> Any:
    return clock.frozen_at(MORNING + dt.timedelta(minutes=minute))


def scan(who: Any, card: str, clinic: str = INTERNAL, minute: int = 0) -> services.CheckIn:
    with at(minute):
        return services.check_in_at_desk(
            principal=who, facility_code=HOSPITAL, clinic_code=clinic, scan=card
        )


def correct(change: Any, who: Any, visit: Visit, minute: int = 5, **kwargs: Any) -> Any:
    kwargs.setdefault("reason", "chọn nhầm")
    with at(minute):
        return change(principal=who, visit_id=visit.pk, **kwargs)


def served(clinician: Any, entry: QueueEntry) -> None:
    assert entry.service_point_id is not None  # a clinic entry waits for its room
    with at(2):
        services.call_next(principal=clinician, service_point_id=entry.service_point_id)


def test_the_clinic_of_a_waiting_patient_is_changed_and_logged(hospital, receptionist):
    done = scan(receptionist, WOMAN_CARD)
    entered = done.entry.entered_at
    log = correct(
        services.change_clinic, receptionist, done.visit, clinic_code=OBGYN,
        reason="  Người bệnh cần khám sản,   không phải nội  ",
    )  # fmt: skip
    entry = QueueEntry.objects.select_related("department", "service_point").get()
    assert entry.department.code == OBGYN
    assert entry.service_point is not None
    assert entry.service_point.department_id == entry.department_id
    assert entry.entered_at == entered  # keeps the place the arrival gave
    assert entry.state == EntryState.WAITING
    visit = Visit.objects.get()
    assert visit.ticket == done.visit.ticket  # the ticket stays
    assert log.kind == "clinic"
    assert log.before["clinic"] == INTERNAL
    assert log.after == {"clinic": OBGYN, "room": entry.service_point.code}
    assert log.reason == "Người bệnh cần khám sản, không phải nội"
    assert log.actor == f"user:{receptionist.pk}"
    assert log.at == MORNING + dt.timedelta(minutes=5)


def test_a_clinic_change_is_refused_when_it_cannot_be(hospital, receptionist, clinician):
    man = scan(receptionist, MAN_CARD)
    with pytest.raises(InvalidInput) as same:
        correct(services.change_clinic, receptionist, man.visit, clinic_code=INTERNAL)
    assert same.value.code == "reception.same_queue"
    with pytest.raises(InvalidInput) as unsuited:
        correct(services.change_clinic, receptionist, man.visit, clinic_code=OBGYN)
    assert unsuited.value.code == "reception.clinic_unsuited"
    with pytest.raises(InvalidInput) as unknown:
        correct(services.change_clinic, receptionist, man.visit, clinic_code="CLINIC-NOWHERE")
    assert unknown.value.code == "reception.unknown_clinic"
    with pytest.raises(InvalidInput) as no_reason:
        correct(
            services.change_clinic, receptionist, man.visit, clinic_code=PAEDIATRICS, reason=" "
        )
    assert no_reason.value.code == "reception.reason_required"
    served(clinician, man.entry)
    with pytest.raises(Conflict) as called:
        correct(services.change_clinic, receptionist, man.visit, clinic_code="CLINIC-ENT")
    assert called.value.code == "reception.not_in_first_clinic"
    assert not VisitCorrection.objects.exists()
    assert QueueEntry.objects.get().department.code == INTERNAL


def test_declared_groups_reprioritise_the_waiting_entry_and_keep_the_letter(
    hospital, receptionist, clinician
):
    first = scan(receptionist, MAN_CARD, minute=0)
    later = scan(receptionist, WOMAN_CARD, minute=1)
    assert later.visit.ticket == "A002"
    # Both wait for the same room (the clinic has several; the least busy one took her).
    QueueEntry.objects.filter(pk=later.entry.pk).update(
        service_point_id=first.entry.service_point_id
    )
    log = correct(
        services.change_priority_groups, receptionist, later.visit,
        declared_groups=["pregnant"], reason="Có thai, quên khai",
    )  # fmt: skip
    visit = Visit.objects.get(pk=later.visit.pk)
    assert visit.priority_groups == ["pregnant"]
    assert visit.priority == Priority.PRIORITY
    assert visit.ticket == "A002"  # as printed
    assert QueueEntry.objects.get(visit=visit).priority == Priority.PRIORITY
    assert log.before == {"priority_groups": [], "priority": 0}
    assert log.after == {"priority_groups": ["pregnant"], "priority": 1}
    # She is called before the man who came first.
    assert first.entry.service_point_id is not None
    with at(6):
        called = services.call_next(
            principal=clinician, service_point_id=first.entry.service_point_id
        )
    assert called.visit_id == visit.pk
    with pytest.raises(InvalidInput) as same:
        correct(services.change_priority_groups, receptionist, visit, declared_groups=["pregnant"])
    assert same.value.code == "reception.nothing_to_change"
    with pytest.raises(InvalidInput) as age_group:
        correct(services.change_priority_groups, receptionist, visit, declared_groups=["aged_75"])
    assert age_group.value.code == "reception.bad_priority_group"


def test_age_groups_stay_when_declared_ones_go(hospital, receptionist):
    elder = scan(receptionist, ELDER_CARD)
    correct(
        services.change_priority_groups, receptionist, elder.visit,
        declared_groups=["emergency", "disability"],
    )  # fmt: skip
    visit = Visit.objects.get()
    assert visit.priority_groups == ["aged_75", "emergency", "disability"]
    assert visit.priority == Priority.EMERGENCY
    assert visit.ticket.startswith("U")  # printed before the emergency was declared
    correct(services.change_priority_groups, receptionist, visit, declared_groups=[], minute=6)
    visit.refresh_from_db()
    assert visit.priority_groups == ["aged_75"]
    assert visit.priority == Priority.PRIORITY
    assert [c.kind for c in visit.corrections.order_by("at")] == ["priority", "priority"]


def test_a_visit_opened_by_mistake_is_cancelled_with_its_encounter(
    hospital, receptionist, django_capture_on_commit_callbacks
):
    done = scan(receptionist, WOMAN_CARD)
    with django_capture_on_commit_callbacks(execute=True):
        log = correct(services.cancel_visit, receptionist, done.visit, reason="Mở nhầm")
    encounters.record_due_encounters.call()
    visit = Visit.objects.get()
    assert visit.status == VisitStatus.CANCELLED
    assert visit.ended_at == MORNING + dt.timedelta(minutes=5)
    entry = QueueEntry.objects.get()
    assert entry.state == EntryState.CANCELLED
    assert entry.ended_at == visit.ended_at
    assert log.kind == "cancel"
    assert log.before == {"status": "open", "entries": {str(entry.pk): "waiting"}}
    assert log.after == {"status": "cancelled"}
    stored = Resource.objects.get(resource_type="Encounter", logical_id=f"visit-{visit.pk}")
    assert stored.body["status"] == "cancelled"
    with pytest.raises(Conflict) as again:
        correct(services.cancel_visit, receptionist, visit)
    assert again.value.code == "reception.visit_closed"
    # The person may be checked in anew.
    assert scan(receptionist, WOMAN_CARD, minute=7).visit.pk != visit.pk


def test_a_patient_called_or_served_cannot_be_cancelled_or_moved(hospital, receptionist, clinician):
    done = scan(receptionist, WOMAN_CARD)
    served(clinician, done.entry)
    with at(3):
        services.send_to(principal=clinician, entry_id=done.entry.pk, department_code="LAB")
    assert QueueEntry.objects.get(pk=done.entry.pk).state == EntryState.DONE
    scan(receptionist, MAN_CARD)  # the right person, in the registry
    moves: list[tuple[Any, dict[str, Any]]] = [
        (services.cancel_visit, {}),
        (services.change_person, {"scan": MAN}),
    ]
    for change, extra in moves:
        with pytest.raises(Conflict) as refused:
            correct(change, receptionist, done.visit, **extra)
        assert refused.value.code == "reception.already_served"
    assert Visit.objects.get(pk=done.visit.pk).status == VisitStatus.OPEN
    assert not VisitCorrection.objects.exists()


def test_the_visit_moves_to_the_right_person_without_the_old_insurance(hospital, receptionist):
    wrong = scan(receptionist, WOMAN_CARD)
    assert wrong.visit.eligibility_check_id is not None
    assert wrong.visit.claim_checkin["HO_TEN"] == "Trần Thị Minh Anh"
    log = correct(services.change_person, receptionist, wrong.visit, scan=MAN_CARD)
    visit = Visit.objects.select_related("person").get()
    assert visit.person.full_name == "Phạm Văn Hùng"
    assert visit.identified_by == "cccd_qr"
    assert visit.document_number == MAN
    assert visit.eligibility_check_id is None
    record = visit.claim_checkin
    assert record["HO_TEN"] == "Phạm Văn Hùng"
    assert record["MA_BN"] == str(visit.person_id)
    assert record["SO_CCCD"] == MAN
    assert record["GIOI_TINH"] == "1"
    assert record["MA_THE_BHYT"] == record["GT_THE_TU"] == record["MA_DKBD"] == ""
    assert record["MA_LK"] == wrong.visit.claim_checkin["MA_LK"]  # the same ticket
    assert log.kind == "person"
    assert log.before["person_id"] == wrong.visit.person_id
    assert log.before["eligibility_check_id"] == wrong.visit.eligibility_check_id
    assert log.after["person_id"] == visit.person_id
    assert log.after["eligibility_check_id"] is None
    # And back by registry number: no document then (a registry number is none).
    back = correct(
        services.change_person, receptionist, visit, person_id=wrong.visit.person_id, minute=6
    )
    visit.refresh_from_db()
    assert visit.person_id == wrong.visit.person_id
    assert visit.identified_by == "unidentified"
    assert visit.document_number == ""
    assert back.before["person_id"] == log.after["person_id"]


def test_the_wrong_child_of_a_guardian_keeps_the_guardian(hospital, receptionist):
    born = dt.date(2023, 4, 1)
    with at():
        first = services.check_in_child(
            principal=receptionist, facility_code=HOSPITAL, guardian_scan=WOMAN_CARD,
            clinic_code=PAEDIATRICS, full_name="Nguyễn Minh An", birth_date=born,
        )  # fmt: skip
    twin = register_person(
        actor="test", full_name="Nguyễn Minh Anh", birth_date=born,
        guardian=first.check_in.visit.guardian, guardian_relationship="mother",
    ).person  # fmt: skip
    correct(services.change_person, receptionist, first.check_in.visit, person_id=twin.pk)
    visit = Visit.objects.get()
    assert visit.person_id == twin.pk
    assert visit.identified_by == "guardian"
    assert visit.guardian_id == first.check_in.visit.guardian_id
    assert visit.priority_groups == ["under_6"]


def test_the_right_person_must_be_free_known_and_suited(hospital, receptionist):
    wrong = scan(receptionist, WOMAN_CARD)
    other = scan(receptionist, MAN_CARD, minute=1)
    with pytest.raises(Conflict) as busy:
        correct(services.change_person, receptionist, wrong.visit, scan=MAN)
    assert busy.value.code == "reception.person_has_open_visit"
    assert other.visit.ticket in busy.value.message_vi
    with pytest.raises(InvalidInput) as same:
        correct(services.change_person, receptionist, wrong.visit, scan=WOMAN_CARD)
    assert same.value.code == "reception.nothing_to_change"
    with pytest.raises(NotFound) as missing:
        correct(services.change_person, receptionist, wrong.visit, person_id=2**62)
    assert missing.value.code == "person.not_found"
    with pytest.raises(InvalidInput) as nobody:
        correct(services.change_person, receptionist, wrong.visit)
    assert nobody.value.code == "reception.person_required"
    with pytest.raises(InvalidInput) as child:
        correct(services.change_person, receptionist, wrong.visit, scan=CHILD_CARD)
    assert child.value.code == "reception.person_unsuited_clinic"  # a child, in internal
    assert Visit.objects.get(pk=wrong.visit.pk).person.full_name == "Trần Thị Minh Anh"
    assert not VisitCorrection.objects.exists()


def test_a_visit_of_another_hospital_is_not_found(hospital, receptionist, make_staff):
    done = scan(receptionist, WOMAN_CARD)
    elsewhere = make_staff()
    grant_role(user=elsewhere, role=Role.RECEPTIONIST, facility=make_small_hospital("BV-KHAC"))
    for change, extra in (
        (services.change_clinic, {"clinic_code": OBGYN}),
        (services.change_priority_groups, {"declared_groups": ["merit"]}),
        (services.cancel_visit, {}),
        (services.change_person, {"person_id": done.visit.person_id}),
    ):
        with pytest.raises(NotFound) as hidden:
            correct(change, elsewhere, done.visit, **extra)
        with pytest.raises(NotFound) as missing, at():
            change(principal=elsewhere, visit_id=2**62, reason="x", **extra)
        assert hidden.value.code == missing.value.code == "visit.not_found"
        assert hidden.value.message_vi == missing.value.message_vi
    with pytest.raises(PermissionDenied):
        correct(services.cancel_visit, make_staff(Role.CLINICIAN), done.visit)
    assert Visit.objects.get().status == VisitStatus.OPEN


def test_the_correction_log_is_append_only(hospital, receptionist):
    done = scan(receptionist, WOMAN_CARD)
    log = correct(services.cancel_visit, receptionist, done.visit)
    log.reason = "something else"
    with pytest.raises(TypeError):
        log.save()
    with pytest.raises(TypeError):
        log.delete()
    assert VisitCorrection.objects.get().reason == "chọn nhầm"
    assert Person.objects.filter(pk=done.visit.person_id).exists()
