"""Check-in: identity from the card's QR or a typed number, one open visit per person and
hospital whatever is tapped twice, priority groups, clinics that suit the person, the ticket
in the least busy room, insurance checked on the way, and the XML0 record kept."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cityhealth.core import clock
from cityhealth.core.errors import InvalidInput, NotFound
from cityhealth.facilities.models import Department
from cityhealth.people.models import Person
from cityhealth.reception import errors, services
from cityhealth.reception.enums import Channel, EntryState, Priority
from cityhealth.reception.models import QueueEntry, Visit
from cityhealth.reception.services.claims import checkin_xml
from cityhealth.reception.tests.conftest import (
    CHILD_CARD,
    ELDER_CARD,
    HOSPITAL,
    MAN_CARD,
    WOMAN,
    WOMAN_CARD,
)

pytestmark = pytest.mark.django_db(transaction=False)
INTERNAL = "CLINIC-INTERNAL"
PAEDIATRICS = "CLINIC-PAEDIATRICS"
OBGYN = "CLINIC-OBGYN"
MORNING = dt.datetime(2026, 11, 26, 1, 30, tzinfo=dt.UTC)  # 08:30 in Hà Nội


def scan(who: Any, card: str, clinic: str = INTERNAL, **kwargs: Any) -> services.CheckIn:
    with clock.frozen_at(kwargs.pop("at", MORNING)):
        return services.check_in_with_cccd(
            principal=who, facility_code=HOSPITAL, clinic_code=clinic, qr=card, **kwargs
        )


def test_a_scanned_card_registers_its_unknown_holder_and_gives_a_ticket(hospital, receptionist):
    done = scan(receptionist, WOMAN_CARD)
    visit = done.visit
    assert visit.person.full_name == "Trần Thị Minh Anh"
    assert visit.ticket == "A001"
    assert done.entry.state == EntryState.WAITING
    assert done.entry.department.code == INTERNAL
    assert done.entry.service_point is not None
    assert done.entry.service_point.department_id == done.entry.department_id
    assert done.wait_minutes == 0  # nobody ahead
    assert done.eligibility is not None
    assert visit.eligibility_check_id == done.eligibility.check_id
    assert not done.again


def test_a_typed_number_must_be_in_the_registry(hospital, receptionist):
    with pytest.raises(NotFound) as refused, clock.frozen_at(MORNING):
        services.check_in_with_cccd(
            principal=receptionist, facility_code=HOSPITAL, clinic_code=INTERNAL,
            citizen_id=WOMAN,
        )  # fmt: skip
    assert refused.value.code == "reception.not_registered"
    assert "quầy đón tiếp" in refused.value.message_vi
    scan(receptionist, WOMAN_CARD)
    with clock.frozen_at(MORNING):
        again = services.check_in_with_cccd(
            principal=receptionist, facility_code=HOSPITAL, clinic_code=INTERNAL,
            citizen_id=WOMAN,
        )  # fmt: skip
    assert again.again  # the same person, already in a queue


@pytest.mark.parametrize(
    "bad",
    [
        "garbage",
        WOMAN_CARD[:20],  # truncated mid-scan
        "001195012345|x|y",
        "12345|" + WOMAN_CARD[13:],
    ],
)
def test_garbage_or_truncated_qr_text_is_refused_and_nothing_is_written(
    hospital, receptionist, bad
):
    with pytest.raises(InvalidInput):
        scan(receptionist, bad)
    assert not Visit.objects.exists()
    assert not Person.objects.filter(full_name__icontains="Minh Anh").exists()


def test_no_identity_at_all_is_refused(hospital, receptionist):
    with pytest.raises(InvalidInput) as refused:
        scan(receptionist, "   ")
    assert refused.value.code == "reception.no_identity"


def test_the_same_card_twice_gives_the_same_ticket(hospital, receptionist):
    first = scan(receptionist, WOMAN_CARD)
    second = scan(receptionist, WOMAN_CARD, at=MORNING + dt.timedelta(seconds=20))
    assert second.again
    assert second.visit.pk == first.visit.pk
    assert second.visit.ticket == first.visit.ticket
    assert Visit.objects.count() == 1
    assert QueueEntry.objects.count() == 1


def test_a_visit_left_open_yesterday_does_not_block_today(hospital, receptionist):
    yesterday = scan(receptionist, WOMAN_CARD, at=MORNING - dt.timedelta(days=1))
    today = scan(receptionist, WOMAN_CARD)
    assert not today.again
    yesterday.visit.refresh_from_db()
    assert yesterday.visit.status == "cancelled"
    assert today.visit.ticket == "A001"  # numbers start again each day


def test_tickets_are_numbered_per_day_and_priority(hospital, receptionist):
    assert scan(receptionist, WOMAN_CARD).visit.ticket == "A001"
    assert scan(receptionist, MAN_CARD).visit.ticket == "A002"
    elder = scan(receptionist, ELDER_CARD)
    assert elder.visit.ticket == "U001"
    assert elder.visit.priority == Priority.PRIORITY
    assert elder.visit.priority_groups == ["aged_75"]


def test_a_child_under_6_is_a_priority_and_goes_to_paediatrics(hospital, receptionist):
    with pytest.raises(InvalidInput) as refused:
        scan(receptionist, CHILD_CARD, clinic=INTERNAL)
    assert refused.value.code == "reception.clinic_unsuited"
    child = scan(receptionist, CHILD_CARD, clinic=PAEDIATRICS)
    assert child.visit.priority_groups == ["under_6"]
    assert child.visit.ticket.startswith("U")


def test_obstetrics_does_not_see_men_and_an_unknown_clinic_is_named(hospital, receptionist):
    with pytest.raises(InvalidInput) as refused:
        scan(receptionist, MAN_CARD, clinic=OBGYN)
    assert refused.value.code == "reception.clinic_unsuited"
    with pytest.raises(InvalidInput) as unknown:
        scan(receptionist, MAN_CARD, clinic="CLINIC-NOPE")
    assert unknown.value.code == "reception.unknown_clinic"
    assert scan(receptionist, WOMAN_CARD, clinic=OBGYN).visit.ticket == "A001"


def test_declared_groups_and_emergency_go_first(hospital, receptionist):
    pregnant = scan(receptionist, WOMAN_CARD, declared_groups=["pregnant"])
    assert pregnant.visit.priority == Priority.PRIORITY
    emergency = scan(receptionist, MAN_CARD, declared_groups=["emergency"])
    assert emergency.visit.priority == Priority.EMERGENCY
    assert emergency.visit.ticket == "C001"
    with pytest.raises(InvalidInput) as refused:
        scan(receptionist, ELDER_CARD, declared_groups=["vip"])
    assert refused.value.code == "reception.bad_priority_group"
    # Age groups are found, not declared.
    with pytest.raises(InvalidInput):
        scan(receptionist, ELDER_CARD, declared_groups=["aged_75"])


def test_the_ticket_goes_to_the_least_busy_room_and_the_wait_grows(hospital, receptionist):
    rooms = list(
        Department.objects.get(facility=hospital, code=INTERNAL)
        .service_points.filter(kind="room")
        .values_list("pk", flat=True)
    )
    assert len(rooms) >= 2
    first = scan(receptionist, WOMAN_CARD)
    second = scan(receptionist, MAN_CARD)
    assert first.entry.service_point_id != second.entry.service_point_id
    third = scan(receptionist, ELDER_CARD)  # priority: first in its room's queue
    assert third.wait_minutes == 0


def test_staff_of_another_hospital_cannot_check_in_here(hospital, make_staff):
    from cityhealth.accounts.services import grant_role
    from cityhealth.core.roles import Role
    from cityhealth.facilities.models import Facility

    elsewhere = Facility.objects.exclude(pk=hospital.pk).filter(kind="general_hospital").first()
    user = make_staff()
    grant_role(user=user, role=Role.RECEPTIONIST, facility=elsewhere)
    with pytest.raises(NotFound) as refused:
        scan(user, WOMAN_CARD)
    assert refused.value.code == "facility.not_found"


def test_a_kiosk_account_checks_in_but_a_cashier_may_not(hospital, make_staff):
    from cityhealth.core.errors import PermissionDenied
    from cityhealth.core.roles import Role

    kiosk = make_staff(Role.KIOSK)
    assert scan(kiosk, WOMAN_CARD, channel=Channel.KIOSK).visit.channel == "kiosk"
    with pytest.raises(PermissionDenied):
        scan(make_staff(Role.CASHIER), MAN_CARD)


def test_the_check_in_record_has_the_xml0_fields(hospital, receptionist):
    done = scan(receptionist, WOMAN_CARD)
    record = done.visit.claim_checkin
    assert record["HO_TEN"] == "Trần Thị Minh Anh"
    assert record["SO_CCCD"] == WOMAN
    assert record["NGAY_SINH"] == "199507120000"
    assert record["GIOI_TINH"] == "2"
    assert record["NGAY_VAO"] == "202611260830"
    assert record["MA_LOAI_KCB"] == "01"
    assert record["MA_CSKCB"] == hospital.insurance_code
    xml = checkin_xml(record).decode()
    assert "<TRANG_THAI_KCB><MA_LK>" in xml
    assert "<HO_TEN>Trần Thị Minh Anh</HO_TEN>" in xml


def test_errors_say_what_to_do_in_both_languages():
    for error in (errors.not_registered(), errors.no_identity(), errors.clinic_unsuited("Nội")):
        assert error.message_vi
        assert error.message_en
        assert error.message_vi != error.message_en


def test_a_gateway_that_does_not_answer_leaves_the_check_pending_and_the_visit_goes_on(
    hospital, receptionist, settings
):
    from cityhealth.insurance.gateway import reset_default_clients

    settings.INSURANCE_VSS_URL = "http://127.0.0.1:9"  # nothing listens there
    settings.INSURANCE_VSS_RETRIES = 0
    settings.INSURANCE_VSS_CONNECT_TIMEOUT_SECONDS = 0.2
    reset_default_clients()
    try:
        done = scan(receptionist, WOMAN_CARD)
    finally:
        reset_default_clients()
    assert done.visit.ticket == "A001"
    assert done.eligibility is not None
    assert done.eligibility.status == "pending"
    assert done.eligibility.staff_vi  # the desk is told what happened
    assert done.visit.eligibility_check_id == done.eligibility.check_id
