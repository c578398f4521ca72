"""Walk-ins registered at the desk and checked in at once: a child on a guardian's ID (picked
from the guardian's children or registered linked to them), a foreigner by passport, an
unknown person; a check-in refused after the registration keeps the person, and the form
sent again finds them instead of registering a second one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cityhealth.accounts.services import grant_role
from cityhealth.core import clock
from cityhealth.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from cityhealth.core.models import AuditEntry
from cityhealth.core.roles import Role
from cityhealth.people.models import Guardianship, Person
from cityhealth.people.services import UNKNOWN_NAME, register_person
from cityhealth.reception import services
from cityhealth.reception.models import Visit
from cityhealth.reception.tests.conftest import HOSPITAL, WOMAN, WOMAN_CARD, make_small_hospital

pytestmark = pytest.mark.django_db
MORNING = dt.datetime(2026, 11, 26, 1, 30, tzinfo=dt.UTC)  # 08:30 in Hà Nội
INTERNAL, PAEDIATRICS, OBGYN = "CLINIC-INTERNAL", "CLINIC-PAEDIATRICS", "CLINIC-OBGYN"
BORN = dt.date(2023, 4, 1)  # three years old on the morning of the tests


def child(who: Any, **kwargs: Any) -> services.WalkIn:
    kwargs.setdefault("guardian_scan", WOMAN_CARD)
    kwargs.setdefault("clinic_code", PAEDIATRICS)
    with clock.frozen_at(kwargs.pop("at", MORNING)):
        return services.check_in_child(principal=who, facility_code=HOSPITAL, **kwargs)


def foreigner(who: Any, **kwargs: Any) -> services.WalkIn:
    kwargs.setdefault("clinic_code", INTERNAL)
    with clock.frozen_at(kwargs.pop("at", MORNING)):
        return services.check_in_foreigner(principal=who, facility_code=HOSPITAL, **kwargs)


def unknown(who: Any, **kwargs: Any) -> services.WalkIn:
    kwargs.setdefault("clinic_code", INTERNAL)
    with clock.frozen_at(MORNING):
        return services.check_in_unknown(principal=who, facility_code=HOSPITAL, **kwargs)


def test_a_new_child_on_a_guardians_card_is_registered_linked_and_checked_in(
    hospital, receptionist
):
    walk = child(
        receptionist, full_name="nguyễn minh an", birth_date=BORN, sex="male",
        relationship="mother",
    )  # fmt: skip
    assert walk.registered
    kid = walk.person
    assert kid.full_name == "Nguyễn Minh An"
    assert kid.birth_date == BORN
    mother = Guardianship.objects.get(child=kid)
    assert mother.relationship == "mother"
    assert mother.guardian.full_name == "Trần Thị Minh Anh"
    visit = walk.check_in.visit
    assert visit.person_id == kid.pk
    assert visit.guardian_id == mother.guardian_id
    assert visit.identified_by == "guardian"
    assert visit.document_number == WOMAN
    assert visit.channel == "desk"
    assert visit.priority_groups == ["under_6"]
    assert visit.ticket == "U001"
    assert walk.check_in.entry.department.code == PAEDIATRICS
    # The guardian's card now lists the child.
    with clock.frozen_at(MORNING):
        found = services.find_guardian(principal=receptionist, facility_code=HOSPITAL, scan=WOMAN)
    assert [c.pk for c in found.children] == [kid.pk]
    assert found.number == WOMAN
    assert AuditEntry.objects.filter(action="person.search", details__via="guardian").exists()


def test_a_registered_child_is_picked_and_its_own_card_is_checked(hospital, receptionist):
    with clock.frozen_at(MORNING):
        mother = services.find_guardian(
            principal=receptionist, facility_code=HOSPITAL, scan=WOMAN_CARD
        ).guardian
        kid = register_person(
            actor="test", full_name="Nguyễn Minh Khang", birth_date=BORN, sex="male",
            guardian=mother, guardian_relationship="mother", insurance_code="TE1010123456789",
        ).person  # fmt: skip
        stranger = register_person(actor="test", full_name="Lê Văn Bé", birth_date=BORN).person
    persons = Person.objects.count()
    with pytest.raises(NotFound) as refused:
        child(receptionist, child_id=stranger.pk, guardian_scan=WOMAN)
    assert refused.value.code == "child.not_found"  # not hers: as if it did not exist
    walk = child(receptionist, child_id=kid.pk, guardian_scan=WOMAN)
    assert not walk.registered
    assert walk.person.pk == kid.pk
    assert Person.objects.count() == persons
    assert walk.check_in.visit.eligibility_check_id is not None  # the child's own BHYT card
    assert walk.check_in.visit.guardian_id == mother.pk


def test_a_child_registered_before_a_refused_check_in_is_found_again(hospital, receptionist):
    form = {"full_name": "Nguyễn Minh An", "birth_date": BORN, "sex": "male"}
    with pytest.raises(Conflict) as refused:
        child(receptionist, clinic_code=INTERNAL, **form)  # adults only
    error = refused.value
    assert error.code == "reception.registered_not_checked_in"
    kept = Person.objects.get(pk=error.params["person_id"])
    assert Guardianship.objects.filter(child=kept).exists()
    assert str(kept.pk) in error.message_vi
    assert "không khám" in error.message_vi  # what to correct, from the refusal itself
    assert error.params["cause"] == "reception.clinic_unsuited"
    assert not Visit.objects.exists()
    again = child(receptionist, **form)  # the same form, the right clinic
    assert not again.registered
    assert again.person.pk == kept.pk
    assert Person.objects.filter(full_name="Nguyễn Minh An").count() == 1


def test_a_guardian_must_be_scanned_or_known(hospital, receptionist):
    with pytest.raises(NotFound) as unknown_number:
        child(receptionist, guardian_scan="001090009999", full_name="A", birth_date=BORN)
    assert unknown_number.value.code == "reception.guardian_not_registered"
    with pytest.raises(InvalidInput) as nothing:
        child(receptionist, guardian_scan="  ", full_name="A", birth_date=BORN)
    assert nothing.value.code == "reception.no_identity"
    with pytest.raises(InvalidInput) as no_details:
        child(receptionist, full_name="", birth_date=BORN)
    assert no_details.value.code == "reception.child_details_required"
    assert not Guardianship.objects.exists()


def test_a_foreigner_is_registered_by_passport_then_found_by_it(hospital, receptionist):
    first = foreigner(
        receptionist, passport="m1234567", country="kr", full_name="Kim Min Jun",
        birth_date=dt.date(1990, 5, 6), sex="male",
    )  # fmt: skip
    assert first.registered
    person = first.person
    assert person.nationality == "KR"
    assert person.identifiers.get().value == "M1234567"
    visit = first.check_in.visit
    assert visit.identified_by == "passport"
    assert visit.document_number == "M1234567"
    assert visit.eligibility_check_id is None  # fee-paying by default
    assert visit.claim_checkin["MA_THE_BHYT"] == ""
    # Another day, the same passport: the same person, nobody new.
    again = foreigner(
        receptionist, passport="M1234567", country="KR", at=MORNING + dt.timedelta(days=1)
    )
    assert not again.registered
    assert again.person.pk == person.pk
    assert AuditEntry.objects.filter(action="person.read", details__via="passport").exists()


def test_a_foreigner_needs_the_passport_and_a_name_to_be_registered(hospital, receptionist):
    persons = Person.objects.count()
    for missing in (
        {"passport": "", "country": "US", "full_name": "John Smith"},
        {"passport": "X9876543", "country": "", "full_name": "John Smith"},
        {"passport": "X9876543", "country": "US", "full_name": ""},
    ):
        with pytest.raises(InvalidInput) as refused:
            foreigner(receptionist, **missing)
        assert refused.value.code == "reception.passport_required"
    assert Person.objects.count() == persons


def test_an_unknown_person_is_registered_without_papers_and_goes_first_if_emergency(
    hospital, receptionist
):
    walk = unknown(receptionist, approximate_age=40, sex="male", emergency=True)
    person = walk.person
    assert walk.registered
    assert person.full_name == UNKNOWN_NAME
    assert person.birth_year == 1986
    assert not person.identifiers.exists()
    visit = walk.check_in.visit
    assert visit.identified_by == "unidentified"
    assert visit.document_number == ""
    assert visit.priority_groups == ["emergency"]
    assert visit.ticket == "C001"
    assert visit.eligibility_check_id is None


def test_an_unknown_person_refused_a_clinic_is_kept_and_taken_again(hospital, receptionist):
    with pytest.raises(Conflict) as refused:
        unknown(receptionist, approximate_age=30, sex="male", clinic_code=OBGYN)
    kept = refused.value.params["person_id"]
    assert Person.objects.filter(pk=kept, full_name=UNKNOWN_NAME).exists()
    again = unknown(receptionist, approximate_age=30, sex="male", person_id=kept)
    assert not again.registered
    assert again.person.pk == kept
    assert Person.objects.filter(full_name=UNKNOWN_NAME).count() == 1
    # A record with papers cannot be taken this way.
    known = register_person(actor="test", full_name="Đỗ Văn Có", citizen_id="001085000555").person
    with pytest.raises(NotFound) as not_unknown:
        unknown(receptionist, person_id=known.pk)
    assert not_unknown.value.code == "person.not_found"


def test_an_unknown_clinic_is_refused_before_anyone_is_registered(hospital, receptionist):
    persons = Person.objects.count()
    with pytest.raises(InvalidInput) as refused:
        unknown(receptionist, approximate_age=30, clinic_code="CLINIC-NOWHERE")
    assert refused.value.code == "reception.unknown_clinic"
    with pytest.raises(InvalidInput):
        foreigner(
            receptionist, passport="P1234567", country="FR", full_name="Jean Dupont",
            clinic_code="CLINIC-NOWHERE",
        )  # fmt: skip
    assert Person.objects.count() == persons


def test_only_the_desk_of_the_hospital_registers_walk_ins(hospital, receptionist, make_staff):
    other = make_small_hospital("BV-KHAC")
    elsewhere = make_staff()
    grant_role(user=elsewhere, role=Role.RECEPTIONIST, facility=other)
    with pytest.raises(NotFound) as refused:
        unknown(elsewhere, approximate_age=30)
    assert refused.value.code == "facility.not_found"
    with pytest.raises(PermissionDenied):
        unknown(make_staff(Role.CLINICIAN), approximate_age=30)
    with pytest.raises(PermissionDenied):
        unknown(make_staff(Role.KIOSK), approximate_age=30)
    assert not Person.objects.filter(full_name=UNKNOWN_NAME).exists()
