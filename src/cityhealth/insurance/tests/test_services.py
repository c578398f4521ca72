"""`check_eligibility` with the simulator inside the process (the demo's way), in the test's
transaction."""

from __future__ import annotations

import datetime as dt

import pytest

from cityhealth.core import clock
from cityhealth.core.errors import InvalidInput, NotFound
from cityhealth.facilities.models import Facility
from cityhealth.insurance import selectors, simulator
from cityhealth.insurance.models import EligibilityCheck, GatewayLookup
from cityhealth.insurance.services import check_eligibility
from cityhealth.insurance.tests.factories import (
    NOON,
    STAFF_ID,
    STAFF_NAME,
    give_card,
    make_facility,
    make_person,
    make_staff,
)
from cityhealth.insurance.types import Eligibility, EligibilityResult
from cityhealth.people.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_process(settings):
    settings.INSURANCE_VSS_URL = "simulator"
    simulator._in_process.clear()
    with clock.frozen_at(NOON):
        yield simulator.in_process_simulator()
    simulator._in_process.clear()


@pytest.fixture
def facility():
    facility = make_facility("01001")
    make_staff(facility)
    return facility


def check(person: Person, facility: Facility, **staff: str) -> EligibilityResult:
    return check_eligibility(
        person=person,
        facility=facility,
        staff_name=staff.get("name", STAFF_NAME),
        staff_citizen_id=staff.get("citizen_id", STAFF_ID),
    )


def test_an_eligible_card_with_its_data_and_the_lookup_log(facility):
    person = make_person("Nguyễn Văn An")
    card = give_card(person)
    result = check(person, facility)
    assert (result.status, result.code, result.reused) == (Eligibility.ELIGIBLE, "000", False)
    assert (result.card_code, result.benefit_level, result.primary_care_facility) == (
        card.code,
        4,
        "01001",
    )
    assert (result.valid_from, result.valid_to) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert result.checked_at == NOON
    assert result.attempts == 1
    assert result.resident_en == "Your health insurance card is valid."
    saved = EligibilityCheck.objects.get(pk=result.check_id)
    assert (saved.person, saved.facility, saved.check_date) == (person, facility, NOON.date())
    log = list(GatewayLookup.objects.order_by("pk").values_list("endpoint", "result_code"))
    assert log == [("token", "200"), ("card", "000")]
    lookup = GatewayLookup.objects.get(endpoint="card")
    assert (lookup.staff_name, lookup.staff_citizen_id) == (STAFF_NAME.upper(), STAFF_ID)
    assert lookup.request["maThe"] == card.code
    assert "password" not in lookup.request
    assert lookup.eligibility_check_id == result.check_id


def test_what_is_sent_the_card_code_else_the_citizen_id_and_the_birth_as_known(facility):
    with_code = make_person("Võ Thị Hồng", born=dt.date(1950, 7, 12), year_only=True)
    give_card(with_code, with_code=False, number="0100000001")
    card = give_card(with_code, valid_from=dt.date(2025, 1, 1), valid_to=dt.date(2025, 12, 31))
    newest = give_card(with_code, valid_from=dt.date(2026, 1, 1))
    by_id = make_person("Lý Văn Long", citizen_id="001080000123")
    give_card(by_id, with_code=False, number="0100000002")
    check(with_code, facility)
    check(by_id, facility)
    sent = [c.query for c in EligibilityCheck.objects.order_by("pk")]
    assert sent[0] == {
        "card": newest.code,
        "name": "VÕ THỊ HỒNG",
        "birth": "1950",
        "staff_name": STAFF_NAME.upper(),
        "staff_citizen_id": STAFF_ID,
    }
    assert card.code != newest.code
    assert (sent[1]["card"], sent[1]["birth"]) == ("001080000123", "05031994")


def test_one_successful_check_a_day_is_reused_without_a_gateway_call(facility, in_process):
    person = make_person()
    give_card(person)
    first = check(person, facility)
    again = check(person, make_facility("01002"), name="Kiosk", citizen_id="001090000009")
    assert again.reused
    assert again.check_id == first.check_id
    assert again.status is Eligibility.ELIGIBLE
    assert in_process.requests["card"] == 1
    clock.advance(dt.timedelta(days=1))
    tomorrow = check(person, facility)
    assert not tomorrow.reused
    assert tomorrow.check_id != first.check_id
    assert in_process.requests["card"] == 2


def test_a_card_that_does_not_pay_is_asked_again_at_the_next_check(facility, in_process):
    person = make_person()
    give_card(person, valid_to=dt.date(2026, 6, 1))
    first = check(person, facility)
    assert (first.status, first.code) == (Eligibility.NOT_COVERED, "010")
    assert first.resident_en.startswith("Your health insurance card has expired")
    assert first.staff_en == "Card expired (010)."
    assert not check(person, facility).reused
    assert in_process.requests["card"] == 2


def test_the_new_card_of_a_reissue_is_the_one_recorded(facility):
    person = make_person()
    give_card(person, valid_from=dt.date(2025, 1, 1), valid_to=dt.date(2025, 12, 31))
    new = give_card(person, group="HT", level=3, valid_from=dt.date(2026, 6, 10))
    result = check(person, facility)
    assert (result.status, result.card_code, result.benefit_level) == (
        Eligibility.ELIGIBLE,
        new.code,
        3,
    )


def test_the_kiosk_operator_of_the_settings_is_on_the_list(facility, settings):
    person = make_person()
    give_card(person)
    name, citizen_id = selectors.kiosk_staff()
    assert (name, citizen_id) == (
        settings.INSURANCE_KIOSK_STAFF_NAME,
        settings.INSURANCE_KIOSK_STAFF_CITIZEN_ID,
    )
    assert check(person, facility, name=name, citizen_id=citizen_id).code == "000"


def test_an_unregistered_clerk_leaves_the_check_pending_with_the_reason(
    facility, django_capture_on_commit_callbacks
):
    person = make_person()
    give_card(person)
    with django_capture_on_commit_callbacks() as callbacks:
        result = check(person, facility, citizen_id="001188000001")
    assert (result.status, result.code) == (Eligibility.PENDING, "")
    assert "(054)" in result.staff_en
    assert "(054)" in result.staff_vi
    assert result.resident_en.endswith("your visit goes ahead as usual.")
    assert result.next_attempt_at == NOON + dt.timedelta(seconds=60)
    assert len(callbacks) == 1  # the re-check, enqueued after the commit
    assert selectors.eligibility_of(check_id=result.check_id) == result


def test_no_gateway_configured_leaves_checks_pending(facility, settings):
    settings.INSURANCE_VSS_URL = ""
    person = make_person()
    give_card(person)
    result = check(person, facility)
    assert result.status is Eligibility.PENDING
    assert "No gateway address is configured" in result.staff_en
    assert not GatewayLookup.objects.exists()


def test_what_cannot_be_checked_is_said_plainly(facility):
    nobody = make_person()
    with pytest.raises(InvalidInput) as nothing:
        check(nobody, facility)
    assert nothing.value.code == "insurance.nothing_to_check"
    person = make_person()
    give_card(person)
    with pytest.raises(InvalidInput) as no_code:
        check(person, make_facility(""))
    assert no_code.value.code == "insurance.facility_without_code"
    with pytest.raises(InvalidInput) as no_staff:
        check(person, facility, citizen_id="12345")
    assert no_staff.value.code == "insurance.staff_missing"
    unborn = make_person(born=None)
    give_card(unborn)
    with pytest.raises(InvalidInput) as no_birth:
        check(unborn, facility)
    assert no_birth.value.code == "insurance.birth_unknown"
    assert not EligibilityCheck.objects.exists()
    with pytest.raises(NotFound):
        selectors.eligibility_of(check_id=987654)


def test_the_lookup_log_is_append_only(facility):
    person = make_person()
    give_card(person)
    check(person, facility)
    lookup = GatewayLookup.objects.first()
    assert lookup is not None
    lookup.error = "changed"
    with pytest.raises(ValueError, match="append-only"):
        lookup.save()
    with pytest.raises(ValueError, match="append-only"):
        lookup.delete()
