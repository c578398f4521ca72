"""The registry tells other apps which persons changed (`people.hooks`), and a record the
matcher is unsure of can be registered at once as a provisional person for a clerk to
confirm or merge."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cityhealth.core.errors import InvalidInput
from cityhealth.people import hooks, services
from cityhealth.people.enums import IdentifierKind, MatchOutcome, ReviewStatus
from cityhealth.people.models import Person, PersonIdentifier
from cityhealth.people.tests.test_incoming import HOSPITAL, VAGUE_TRANG, thai_record
from cityhealth.people.tests.test_incoming import namesakes as namesakes
from cityhealth.people.tests.test_incoming import thai as thai

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """What a listener hears (the only listener while the test runs)."""
    calls: list[list[int]] = []
    monkeypatch.setattr(hooks, "_listeners", [calls.append])
    return calls


def test_a_registration_is_heard_once_with_the_new_person(heard):
    person = services.register_person(
        actor="desk", full_name="Lê Thị Hoa", birth_date=dt.date(1990, 3, 4), sex="female"
    ).person
    assert heard == [[person.pk]]


def test_an_incoming_record_registered_is_one_change_though_two_steps_wrote_it(heard):
    record = thai_record(full_name="Trịnh Văn Mới", ward_code="", phone="")
    person = services.register_incoming_record(record=record, actor="his", facility_code=HOSPITAL)
    assert PersonIdentifier.objects.filter(person=person, kind="hospital_record").exists()
    assert heard == [[person.pk]]  # the registration and the record number: one call


def test_a_merge_and_its_undoing_are_heard_for_both_records(heard):
    a, b = (
        services.register_person(actor="desk", full_name=name, birth_year=1970).person
        for name in ("Phạm Văn Một", "Phạm Văn Mot")
    )
    heard.clear()
    merge = services.merge_persons(survivor=a, retired=b, reason="same man", actor="clerk")
    services.unmerge(merge=merge, actor="clerk", reason="two men after all")
    assert heard == [sorted([a.pk, b.pk])] * 2


def test_a_reissued_id_is_heard(heard):
    person = services.register_person(
        actor="desk", full_name="Vũ Thị Lan", birth_date=dt.date(1995, 7, 12), sex="female"
    ).person
    heard.clear()
    services.record_id_reissue(
        person=person, new_citizen_id="001195012345", reason="new card", actor="desk"
    )
    assert heard == [[person.pk]]


def test_a_listener_that_fails_fails_the_use_case(monkeypatch):
    def broken(ids: list[int]) -> None:
        raise InvalidInput("copy.broken", vi="hỏng", en="broken")

    monkeypatch.setattr(hooks, "_listeners", [broken])
    with pytest.raises(InvalidInput):
        services.register_person(actor="desk", full_name="Đỗ Văn Ba", birth_year=1980)


def test_a_record_placed_at_once_gets_a_known_number_linked_without_a_new_person(thai, heard):
    found = services.match_incoming_record(
        record=thai_record(), actor="his", facility_code=HOSPITAL, provisional=True
    )
    assert (found.result.outcome, found.person, found.provisional) == (
        MatchOutcome.LINK,
        thai,
        None,
    )
    assert heard == [[thai.pk]]  # the hospital's record number was added to the person


def test_an_unsure_record_becomes_a_provisional_person_that_a_clerk_merges(namesakes):
    before = Person.objects.count()
    found = services.match_incoming_record(
        record=VAGUE_TRANG, actor="his", facility_code=HOSPITAL, provisional=True
    )
    assert found.result.outcome == MatchOutcome.REVIEW
    assert found.provisional is not None
    assert Person.objects.count() == before + 1
    item = found.review_item
    assert item is not None
    assert item.payload["provisional_person_id"] == found.provisional.pk

    chosen = namesakes[1]
    services.resolve_review_item(
        item=item, decision="link", person_id=chosen.pk, actor="clerk", note="same man"
    )
    found.provisional.refresh_from_db()
    assert found.provisional.merged_into_id == chosen.pk  # what was filed under it follows
    assert Person.objects.filter(merged_into__isnull=True).count() == before


def test_register_new_keeps_the_provisional_person_and_registers_no_other(namesakes):
    found = services.match_incoming_record(
        record=VAGUE_TRANG, actor="his", facility_code=HOSPITAL, provisional=True
    )
    assert found.review_item is not None
    assert found.provisional is not None
    count = Person.objects.count()
    item = services.resolve_review_item(
        item=found.review_item, decision="register_new", actor="clerk"
    )
    assert item.status == ReviewStatus.RESOLVED
    assert Person.objects.count() == count
    found.provisional.refresh_from_db()
    assert found.provisional.merged_into_id is None


def test_a_provisional_person_does_not_take_an_id_another_person_holds(thai):
    # Thai's citizen ID on a record whose demographics say someone else: review, and the
    # provisional person is registered without the number (whose it is, is the question).
    PersonIdentifier.objects.create(
        person=thai, kind=IdentifierKind.CITIZEN_ID, value="001068001234"
    )
    record: Any = thai_record(
        full_name="Ngô Thị Hằng",
        birth_date=dt.date(2001, 1, 5),
        sex="female",
        phone="",
        citizen_id="001068001234",
        source_record_id="",
    )
    found = services.match_incoming_record(record=record, actor="his", provisional=True)
    assert found.result.outcome == MatchOutcome.REVIEW
    assert found.provisional is not None
    assert not found.provisional.identifiers.exists()


def test_an_old_nine_digit_card_number_is_registered_as_an_old_id():
    record = thai_record(full_name="Lý Văn Cũ", citizen_id="012345678", ward_code="", phone="")
    person = services.register_incoming_record(record=record, actor="his", facility_code=HOSPITAL)
    kinds = set(person.identifiers.values_list("kind", "value"))
    assert (IdentifierKind.OLD_ID, "012345678") in kinds
