from __future__ import annotations

import datetime as dt

import pytest

from cityhealth.core import clock
from cityhealth.core.errors import Conflict, InvalidInput
from cityhealth.core.models import AuditEntry
from cityhealth.people import errors, services
from cityhealth.people.enums import (
    DatePrecision,
    IdentifierKind,
    IdentifierStatus,
    ReviewKind,
    ReviewStatus,
    Sex,
)
from cityhealth.people.models import (
    Guardianship,
    InsuranceCard,
    Merge,
    Person,
    PersonIdentifier,
    ReviewItem,
)

pytestmark = pytest.mark.django_db

ACTOR = "user:1"
ADDRESS = "Số 8 ngõ 15 phố Ví Dụ, Phường Ba Đình, Hà Nội"
ANH = "001195012345"  # Hà Nội, female, born 1995
ANH_NEW = "001195099999"
BINH = "001090001234"  # Hà Nội, male, born 1990


def qr(
    *,
    number: str = ANH,
    old: str = "",
    name: str = "TRẦN THỊ MINH ANH",
    dob: str = "12071995",
    sex: str = "Nữ",
    address: str = ADDRESS,
    issued: str = "03052022",
) -> str:
    return "|".join([number, old, name, dob, sex, address, issued])


def ids_of(person: Person) -> set[tuple[str, str, str]]:
    return set(person.identifiers.values_list("kind", "value", "status"))


def audited(action: str, person: Person | int) -> int:
    pk = person if isinstance(person, int) else person.pk
    return AuditEntry.objects.filter(action=action, target_id=str(pk)).count()


def register(**fields) -> Person:
    fields.setdefault("actor", ACTOR)
    return services.register_person(**fields).person


# --- scanning ------------------------------------------------------------------------------


def test_first_scan_registers_the_person_with_their_identifiers():
    result = services.register_from_scan(qr=qr(old="012345678"), actor=ACTOR, facility_code="01003")
    person = result.person
    assert result.created
    assert not result.conflict
    assert person.full_name == "Trần Thị Minh Anh"
    assert person.search_text == "tran thi minh anh"
    assert (person.birth_date, person.birth_year) == (dt.date(1995, 7, 12), 1995)
    assert person.birth_date_precision == DatePrecision.DAY
    assert person.sex == Sex.FEMALE
    assert person.address == ADDRESS
    assert ids_of(person) == {
        (IdentifierKind.CITIZEN_ID, ANH, IdentifierStatus.ACTIVE),
        (IdentifierKind.OLD_ID, "012345678", IdentifierStatus.ACTIVE),
    }
    assert person.identifiers.get(value=ANH).valid_from == dt.date(2022, 5, 3)
    entry = AuditEntry.objects.get(action="person.created", target_id=str(person.pk))
    assert entry.facility_code == "01003"
    assert entry.details["source"] == "qr_scan"


def test_scanning_again_finds_the_same_person():
    first = services.register_from_scan(qr=qr(), actor=ACTOR).person
    again = services.register_from_scan(qr=qr(), actor=ACTOR)
    assert not again.created
    assert not again.conflict
    assert again.person.pk == first.pk
    assert Person.objects.count() == 1
    assert PersonIdentifier.objects.count() == 1
    assert audited("person.identified", first) == 1


def test_case_and_spacing_of_the_name_are_no_conflict():
    register(full_name="trần thị  minh anh", birth_date=dt.date(1995, 7, 12), citizen_id=ANH)
    result = services.register_from_scan(qr=qr(), actor=ACTOR)
    assert not result.conflict
    assert not ReviewItem.objects.exists()


def test_a_scan_that_disagrees_never_overwrites_and_is_sent_for_review():
    person = register(
        full_name="Trần Thị Minh Ánh",
        birth_date=dt.date(1995, 7, 21),
        sex=Sex.FEMALE,
        citizen_id=ANH,
        address="Số 1 phố Cũ",
    )
    result = services.register_from_scan(qr=qr(), actor=ACTOR)
    assert result.conflict
    assert not result.created
    person.refresh_from_db()
    assert person.full_name == "Trần Thị Minh Ánh"
    assert person.birth_date == dt.date(1995, 7, 21)
    assert person.address == "Số 1 phố Cũ"  # not empty, so not filled either
    item = ReviewItem.objects.get(kind=ReviewKind.SCAN_CONFLICT)
    assert item.person_id == person.pk
    assert item.status == ReviewStatus.OPEN
    assert item.payload["fields"] == ["birth_date", "full_name"]
    assert item.payload["registry"] == {
        "full_name": "Trần Thị Minh Ánh",
        "birth_date": "1995-07-21",
    }
    assert item.payload["scanned"] == {
        "full_name": "Trần Thị Minh Anh",
        "birth_date": "1995-07-12",
    }
    assert [i.pk for i in result.review_items] == [item.pk]
    # The same card scanned again does not pile up items.
    again = services.register_from_scan(qr=qr(), actor=ACTOR)
    assert again.conflict
    assert ReviewItem.objects.count() == 1


def test_sex_disagreement_is_a_conflict():
    register(full_name="Trần Thị Minh Anh", birth_year=1995, sex=Sex.MALE, citizen_id=ANH)
    result = services.register_from_scan(qr=qr(), actor=ACTOR)
    assert result.conflict
    item = ReviewItem.objects.get(kind=ReviewKind.SCAN_CONFLICT)
    assert item.payload["scanned"]["sex"] == "female"
    assert result.person.sex == Sex.MALE


def test_empty_or_vaguer_registry_fields_are_filled_from_the_card():
    person = register(full_name="Trần Thị Minh Anh", birth_year=1995, citizen_id=ANH)
    assert person.birth_date_precision == DatePrecision.YEAR
    result = services.register_from_scan(qr=qr(), actor=ACTOR)
    assert not result.conflict
    assert set(result.filled) == {"birth_date", "sex", "address"}
    person.refresh_from_db()
    assert person.birth_date == dt.date(1995, 7, 12)
    assert person.birth_date_precision == DatePrecision.DAY
    assert person.sex == Sex.FEMALE
    assert person.address == ADDRESS


def test_a_new_card_carrying_the_cancelled_number_records_the_reissue():
    person = services.register_from_scan(qr=qr(), actor=ACTOR).person
    result = services.register_from_scan(
        qr=qr(number=ANH_NEW, old=ANH, issued="01022025"), actor=ACTOR
    )
    assert result.person.pk == person.pk
    assert not result.created
    assert "citizen_id.reissue_recorded" in result.notes
    old = person.identifiers.get(value=ANH)
    assert (old.status, old.valid_to) == (IdentifierStatus.CANCELLED, dt.date(2025, 2, 1))
    new = person.identifiers.get(value=ANH_NEW)
    assert (new.status, new.valid_from) == (IdentifierStatus.ACTIVE, dt.date(2025, 2, 1))
    assert audited("person.id_reissued", person) == 1
    # Scanning the old card now still finds her, and says the card was replaced.
    old_card = services.register_from_scan(qr=qr(), actor=ACTOR)
    assert old_card.person.pk == person.pk
    assert "card.superseded" in old_card.notes


def test_a_new_card_whose_cancelled_number_is_unknown_creates_both():
    result = services.register_from_scan(qr=qr(number=ANH_NEW, old=ANH), actor=ACTOR)
    assert result.created
    assert ids_of(result.person) == {
        (IdentifierKind.CITIZEN_ID, ANH_NEW, IdentifierStatus.ACTIVE),
        (IdentifierKind.CITIZEN_ID, ANH, IdentifierStatus.CANCELLED),
    }


def test_an_old_id_card_number_finds_the_person_registered_with_it():
    person = register(full_name="Trần Thị Minh Anh", birth_year=1995, old_id="012345678")
    result = services.register_from_scan(qr=qr(old="012345678"), actor=ACTOR)
    assert result.person.pk == person.pk
    assert (IdentifierKind.CITIZEN_ID, ANH, IdentifierStatus.ACTIVE) in ids_of(person)


def test_id_digits_contradicting_the_card_warn_but_do_not_block():
    # 001095...: the digits say a man born in 1995; the card says a woman.
    result = services.register_from_scan(qr=qr(number="001095012345"), actor=ACTOR)
    assert result.created
    item = ReviewItem.objects.get(kind=ReviewKind.ID_INCONSISTENT)
    assert item.person_id == result.person.pk
    assert [w["code"] for w in item.payload["warnings"]] == ["citizen_id.sex_mismatch"]
    assert result.review_items == (item,)
    services.register_from_scan(qr=qr(number="001095012345"), actor=ACTOR)
    assert ReviewItem.objects.filter(kind=ReviewKind.ID_INCONSISTENT).count() == 1


def test_id_digits_contradicting_the_birth_year_warn():
    result = services.register_from_scan(qr=qr(dob="12071996"), actor=ACTOR)
    item = ReviewItem.objects.get(kind=ReviewKind.ID_INCONSISTENT)
    assert [w["code"] for w in item.payload["warnings"]] == ["citizen_id.birth_year_mismatch"]
    assert result.person.birth_year == 1996  # the card's date is kept as read


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "cccd_qr.empty"),
        ("   ", "cccd_qr.empty"),
        ("001195012345|TRẦN THỊ MINH ANH|12071995", "cccd_qr.too_few_fields"),
        (qr(number="00119501234"), "cccd_qr.bad_id_number"),
        (qr(number="00119501234x"), "cccd_qr.bad_id_number"),
        (qr(dob="31021995"), "cccd_qr.bad_date"),
        (qr(dob="1995-07-12"), "cccd_qr.bad_date"),
        (qr(dob="12072099"), "cccd_qr.birth_date_in_future"),
        (qr(sex="F"), "cccd_qr.bad_sex"),
        (qr(name="   "), "cccd_qr.empty_name"),
        (qr(old="12345"), "cccd_qr.bad_old_id"),
        (qr(issued="01011990"), "cccd_qr.issued_before_birth"),
        ("x" * 5000, "cccd_qr.too_long"),
    ],
)
def test_malformed_qr_text_is_refused_and_nothing_is_saved(raw, code):
    with pytest.raises(InvalidInput) as info:
        services.register_from_scan(qr=raw, actor=ACTOR)
    assert info.value.code == code
    assert not Person.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="person.").exists()


def test_a_card_number_two_records_held_before_is_a_conflict_and_changes_nothing():
    first = register(full_name="Trần Thị Minh Anh", birth_year=1995)
    other = register(full_name="Trần Thị Minh Anh", birth_year=1995)
    for person in (first, other):
        PersonIdentifier.objects.create(
            person=person, kind=IdentifierKind.CITIZEN_ID, value=ANH, status="cancelled"
        )
    with pytest.raises(errors.IdClaimedTwice) as info:
        services.register_from_scan(qr=qr(), actor=ACTOR)
    assert info.value.status_code == 409
    item = ReviewItem.objects.get(pk=info.value.review_item_id)
    assert item.kind == ReviewKind.ID_CLAIMED_TWICE
    assert {item.person_id, item.other_person_id} == {first.pk, other.pk}
    assert item.payload["source"] == "qr_scan"
    # Nothing else changed: no person created, no identifier added or changed.
    assert Person.objects.count() == 2
    assert set(PersonIdentifier.objects.values_list("status", flat=True)) == {"cancelled"}
    assert PersonIdentifier.objects.count() == 2


def test_card_whose_old_number_belongs_to_another_record_flags_a_likely_duplicate():
    holder = services.register_from_scan(qr=qr(), actor=ACTOR).person
    other = register(full_name="Trần Thị Minh Anh", birth_year=1995, old_id="012345678")
    result = services.register_from_scan(qr=qr(old="012345678"), actor=ACTOR)
    assert result.person.pk == holder.pk
    assert result.conflict
    item = ReviewItem.objects.get(kind=ReviewKind.ID_CLAIMED_TWICE)
    assert (item.person_id, item.other_person_id) == (holder.pk, other.pk)
    assert item.payload["identifier"] == {"kind": "old_id", "value": "012345678"}
    # The 9-digit number stayed where it was.
    assert PersonIdentifier.objects.get(value="012345678").person_id == other.pk


# --- desk registration ---------------------------------------------------------------------


@pytest.mark.usefixtures("hanoi_units")
def test_registering_a_resident_with_papers_and_a_bhyt_card():
    registration = services.register_person(
        actor=ACTOR,
        full_name="  lê   văn   tám ",
        birth_date=dt.date(1990, 3, 4),
        sex=Sex.MALE,
        citizen_id=BINH,
        phone="+84 912 345 678",
        ward_code="00004",
        address="Số 2 phố Trúc Bạch",
        insurance_code="DN4010123456789",
        insurance_valid_from=dt.date(2026, 1, 1),
        insurance_valid_to=dt.date(2026, 12, 31),
        primary_care_facility="01003",
    )
    person = registration.person
    assert registration.review_items == ()
    assert person.full_name == "Lê Văn Tám"
    assert person.phone == "0912345678"
    assert person.ward_id == "00004"
    card = InsuranceCard.objects.get(person=person)
    assert (card.code, card.social_insurance_number, card.benefit_level) == (
        "DN4010123456789",
        "0123456789",
        4,
    )
    assert card.primary_care_facility == "01003"
    assert ids_of(person) == {
        (IdentifierKind.CITIZEN_ID, BINH, IdentifierStatus.ACTIVE),
        (IdentifierKind.SOCIAL_INSURANCE, "0123456789", IdentifierStatus.ACTIVE),
    }
    assert audited("person.created", person) == 1


def test_registering_a_child_on_a_guardians_id():
    mother = services.register_from_scan(qr=qr(), actor=ACTOR).person
    child = register(
        full_name="Nguyễn Minh Khôi",
        birth_date=dt.date(2024, 2, 29),
        sex=Sex.MALE,
        guardian=mother,
        guardian_relationship="mother",
    )
    link = Guardianship.objects.get(child=child)
    assert (link.guardian_id, link.relationship) == (mother.pk, "mother")
    assert not child.identifiers.exists()


def test_registering_a_foreigner_with_a_passport():
    person = register(
        full_name="John Smith", birth_year=1980, nationality="gb", passport=" c01x00t47 "
    )
    assert person.nationality == "GB"
    identifier = person.identifiers.get()
    assert (identifier.kind, identifier.issuer, identifier.value) == (
        IdentifierKind.PASSPORT,
        "GB",
        "C01X00T47",
    )
    # The same passport of another country is another document.
    other = register(full_name="Jean Dupont", passport="C01X00T47", passport_country="FR")
    assert other.pk != person.pk


def test_registering_an_unknown_person_with_an_approximate_age():
    with clock.frozen_at(dt.datetime(2026, 6, 1, 3, tzinfo=dt.UTC)):
        person = register(approximate_age=70, sex=Sex.MALE)
    assert person.full_name == services.UNKNOWN_NAME
    assert (person.birth_year, person.birth_date) == (1956, None)
    assert person.birth_date_precision == DatePrecision.YEAR


def test_registering_with_a_month_precision_keeps_the_month_only():
    person = register(
        full_name="Phạm Thị Hoa", birth_date=dt.date(1950, 7, 19), birth_date_precision="month"
    )
    assert (person.birth_date, person.birth_date_precision) == (dt.date(1950, 7, 1), "month")


def test_registering_an_id_held_by_another_record_is_a_conflict_and_creates_nobody():
    holder = services.register_from_scan(qr=qr(), actor=ACTOR).person
    with pytest.raises(errors.IdClaimedTwice) as info:
        register(full_name="Trần Thị Minh Anh", birth_year=1995, citizen_id=ANH)
    item = ReviewItem.objects.get(pk=info.value.review_item_id)
    assert (item.kind, item.person_id, item.other_person_id) == (
        ReviewKind.ID_CLAIMED_TWICE,
        holder.pk,
        None,
    )
    assert item.payload["source"] == "desk"
    assert Person.objects.count() == 1
    assert audited("person.id_claimed_twice", holder) == 1


def test_registering_an_id_contradicting_sex_and_birth_year_warns():
    registration = services.register_person(
        actor=ACTOR, full_name="Lê Văn Tám", birth_year=1992, sex=Sex.FEMALE, citizen_id=BINH
    )
    (item,) = registration.review_items
    assert item.kind == ReviewKind.ID_INCONSISTENT
    assert {w["code"] for w in item.payload["warnings"]} == {
        "citizen_id.birth_year_mismatch",
        "citizen_id.sex_mismatch",
    }


@pytest.mark.usefixtures("hanoi_units")
@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"birth_date": dt.date(2999, 1, 1)}, "person.birth_date_in_future"),
        ({"birth_date": dt.date(1850, 1, 1)}, "person.bad_birth_year"),
        ({"birth_year": 1800}, "person.bad_birth_year"),
        ({"birth_year": 1990, "birth_date": dt.date(1991, 1, 1)}, "person.birth_year_mismatch"),
        ({"approximate_age": 200}, "person.bad_age"),
        ({"approximate_age": -1}, "person.bad_age"),
        ({"phone": "12345"}, "person.bad_phone"),
        ({"ward_code": "99999"}, "person.unknown_ward"),
        ({"passport": "ab"}, "person.bad_passport"),
        ({"passport": "C01X00T47", "passport_country": "GBR"}, "person.bad_passport"),
        ({"nationality": "Viet Nam"}, "person.bad_nationality"),
        ({"old_id": "1234"}, "person.bad_old_id"),
        ({"citizen_id": "12345"}, "citizen_id.not_12_digits"),
        ({"insurance_code": "XX123"}, "bhyt.bad_format"),
        ({"sex": "other"}, "person.bad_sex"),
        ({"guardian_relationship": "mother"}, "person.guardian_missing"),
    ],
)
def test_bad_desk_input_is_refused(fields, code):
    with pytest.raises(InvalidInput) as info:
        register(full_name="Lê Văn Tám", **fields)
    assert info.value.code == code
    assert not Person.objects.exists()


# --- re-issue ------------------------------------------------------------------------------


def test_reissue_cancels_the_old_number_and_the_old_number_still_finds_the_person():
    person = services.register_from_scan(qr=qr(), actor=ACTOR).person
    new = services.record_id_reissue(
        person=person,
        new_citizen_id=ANH_NEW,
        reason="Cấp lại do sai năm sinh",
        actor=ACTOR,
        issued_on=dt.date(2025, 1, 15),
    )
    assert (new.value, new.status, new.valid_from) == (
        ANH_NEW,
        IdentifierStatus.ACTIVE,
        dt.date(2025, 1, 15),
    )
    old = person.identifiers.get(value=ANH)
    assert (old.status, old.valid_to, old.reason) == (
        IdentifierStatus.CANCELLED,
        dt.date(2025, 1, 15),
        "Cấp lại do sai năm sinh",
    )
    entry = AuditEntry.objects.get(action="person.id_reissued", target_id=str(person.pk))
    assert entry.details == {"old": [ANH], "new": ANH_NEW}
    # Sending it again changes nothing.
    again = services.record_id_reissue(
        person=person, new_citizen_id=ANH_NEW, reason="retry", actor=ACTOR
    )
    assert again.pk == new.pk
    assert person.identifiers.count() == 2
    # A scan of the old card still finds her.
    assert services.register_from_scan(qr=qr(), actor=ACTOR).person.pk == person.pk


def test_reissue_to_a_number_another_record_holds_changes_nothing():
    anh = services.register_from_scan(qr=qr(), actor=ACTOR).person
    binh = register(full_name="Lê Văn Bình", birth_year=1990, citizen_id=BINH)
    with pytest.raises(errors.IdClaimedTwice) as info:
        services.record_id_reissue(person=anh, new_citizen_id=BINH, reason="typo?", actor=ACTOR)
    item = ReviewItem.objects.get(pk=info.value.review_item_id)
    assert (item.kind, item.person_id, item.other_person_id) == (
        ReviewKind.ID_CLAIMED_TWICE,
        binh.pk,
        anh.pk,
    )
    assert ids_of(anh) == {(IdentifierKind.CITIZEN_ID, ANH, IdentifierStatus.ACTIVE)}
    assert ids_of(binh) == {(IdentifierKind.CITIZEN_ID, BINH, IdentifierStatus.ACTIVE)}


@pytest.mark.parametrize(
    ("number", "reason", "code"),
    [
        ("0011950", "x", "citizen_id.not_12_digits"),
        (ANH_NEW, "   ", "person.reason_required"),
    ],
)
def test_reissue_input_is_checked(number, reason, code):
    person = services.register_from_scan(qr=qr(), actor=ACTOR).person
    with pytest.raises(InvalidInput) as info:
        services.record_id_reissue(person=person, new_citizen_id=number, reason=reason, actor=ACTOR)
    assert info.value.code == code


def test_reissue_with_digits_contradicting_the_record_warns():
    person = services.register_from_scan(qr=qr(), actor=ACTOR).person
    services.record_id_reissue(
        person=person, new_citizen_id="001096012345", reason="cấp lại", actor=ACTOR
    )
    item = ReviewItem.objects.get(kind=ReviewKind.ID_INCONSISTENT)
    assert {w["code"] for w in item.payload["warnings"]} == {
        "citizen_id.birth_year_mismatch",
        "citizen_id.sex_mismatch",
    }


# --- merge and unmerge ---------------------------------------------------------------------


def snapshot() -> dict[str, object]:
    return {
        "persons": sorted(Person.objects.values_list("id", "merged_into_id", "full_name")),
        "identifiers": sorted(
            PersonIdentifier.objects.values_list(
                "id", "person_id", "kind", "value", "status", "valid_to"
            )
        ),
        "cards": sorted(InsuranceCard.objects.values_list("id", "person_id")),
        "guardianships": sorted(Guardianship.objects.values_list("id", "child_id", "guardian_id")),
    }


@pytest.fixture
def duplicates():
    """Two records of one woman, a child of each, a guardian each, a card on the second."""
    survivor = services.register_from_scan(qr=qr(), actor=ACTOR).person
    retired = register(
        full_name="Trần Thị Minh Anh",
        birth_year=1995,
        old_id="012345678",
        insurance_code="0123456789",
    )
    PersonIdentifier.objects.create(
        person=retired, kind=IdentifierKind.CITIZEN_ID, value=ANH, status="cancelled"
    )
    grandmother = register(full_name="Trần Thị Bà", birth_year=1950)
    child = register(full_name="Trần Minh Con", birth_year=2020, guardian=retired)
    register(full_name="Trần Minh Út", birth_year=2022, guardian=survivor)
    Guardianship.objects.create(child=retired, guardian=grandmother, relationship="mother")
    Guardianship.objects.create(child=survivor, guardian=grandmother, relationship="mother")
    return survivor, retired, child, grandmother


def test_merge_moves_everything_and_unmerge_puts_it_back_exactly(duplicates):
    survivor, retired, child, grandmother = duplicates
    before = snapshot()
    merge = services.merge_persons(
        survivor=survivor, retired=retired, reason="same woman", actor=ACTOR
    )
    retired.refresh_from_db()
    assert retired.merged_into_id == survivor.pk
    # The 9-digit ID and the BHXH number moved; the shared citizen ID stayed, retired.
    assert set(survivor.identifiers.values_list("value", "status")) == {
        (ANH, "active"),
        ("012345678", "active"),
        ("0123456789", "active"),
    }
    assert set(retired.identifiers.values_list("value", "status")) == {(ANH, "retired")}
    assert InsuranceCard.objects.get().person_id == survivor.pk
    assert Guardianship.objects.get(child=child).guardian_id == survivor.pk
    # The grandmother already had the survivor as a child: that link stays behind.
    assert Guardianship.objects.filter(child=retired, guardian=grandmother).exists()
    assert merge.moved["retired_identifiers"] == [
        {"id": retired.identifiers.get(value=ANH).pk, "status": "cancelled"}
    ]
    assert len(merge.moved["identifiers"]) == 2
    assert audited("person.merged", retired) == 1
    assert audited("person.merged", survivor) == 1

    services.unmerge(merge=merge, actor=ACTOR, reason="two different women after all")
    assert snapshot() == before
    merge.refresh_from_db()
    assert merge.undone_by == ACTOR
    assert merge.undone_at is not None
    assert audited("person.unmerged", retired) == 1


def test_merge_rules(duplicates):
    survivor, retired, child, _grandmother = duplicates
    with pytest.raises(InvalidInput) as same:
        services.merge_persons(survivor=survivor, retired=survivor, reason="x", actor=ACTOR)
    assert same.value.code == "merge.same_person"
    with pytest.raises(InvalidInput) as no_reason:
        services.merge_persons(survivor=survivor, retired=retired, reason=" ", actor=ACTOR)
    assert no_reason.value.code == "person.reason_required"
    merge = services.merge_persons(survivor=survivor, retired=retired, reason="x", actor=ACTOR)
    assert services.merge_persons(survivor=survivor, retired=retired, reason="x", actor=ACTOR) == (
        merge
    )
    assert Merge.objects.count() == 1
    with pytest.raises(Conflict) as twice:
        services.merge_persons(survivor=child, retired=retired, reason="x", actor=ACTOR)
    assert twice.value.code == "merge.already_merged"
    with pytest.raises(Conflict) as retired_reissue:
        services.record_id_reissue(person=retired, new_citizen_id=ANH_NEW, reason="x", actor=ACTOR)
    assert retired_reissue.value.code == "person.merged"
    services.unmerge(merge=merge, actor=ACTOR)
    with pytest.raises(Conflict) as undone:
        services.unmerge(merge=merge, actor=ACTOR)
    assert undone.value.code == "merge.already_undone"


def test_unmerge_waits_for_a_later_merge_of_the_survivor(duplicates):
    survivor, retired, child, _grandmother = duplicates
    first = services.merge_persons(survivor=survivor, retired=retired, reason="x", actor=ACTOR)
    services.merge_persons(survivor=child, retired=survivor, reason="y", actor=ACTOR)
    with pytest.raises(Conflict) as info:
        services.unmerge(merge=first, actor=ACTOR)
    assert info.value.code == "merge.cannot_undo"


# --- review --------------------------------------------------------------------------------


def conflicting_scan() -> tuple[Person, ReviewItem]:
    person = register(
        full_name="Trần Thị Minh Ánh", birth_date=dt.date(1995, 7, 21), citizen_id=ANH
    )
    services.register_from_scan(qr=qr(), actor=ACTOR)
    return person, ReviewItem.objects.get(kind=ReviewKind.SCAN_CONFLICT)


def test_accepting_the_scanned_values_updates_the_person():
    person, item = conflicting_scan()
    services.resolve_review_item(
        item=item, decision="accept_scanned", actor="user:2", note="đã xem thẻ"
    )
    person.refresh_from_db()
    assert person.full_name == "Trần Thị Minh Anh"
    assert person.birth_date == dt.date(1995, 7, 12)
    item.refresh_from_db()
    assert item.status == ReviewStatus.RESOLVED
    assert item.resolved_by == "user:2"
    assert item.resolution == "accept_scanned: đã xem thẻ"
    assert audited("person.updated", person) == 1
    assert audited("review_item.resolved", item.pk) == 1


def test_keeping_the_registry_or_dismissing_changes_nothing_else():
    person, item = conflicting_scan()
    services.resolve_review_item(item=item, decision="keep_registry", actor=ACTOR)
    person.refresh_from_db()
    assert person.full_name == "Trần Thị Minh Ánh"
    item.refresh_from_db()
    assert item.status == ReviewStatus.RESOLVED
    with pytest.raises(Conflict) as info:
        services.resolve_review_item(item=item, decision="dismiss", actor=ACTOR)
    assert info.value.code == "review_item.closed"


def test_decisions_must_fit_the_item():
    _person, item = conflicting_scan()
    with pytest.raises(InvalidInput) as merge:
        services.resolve_review_item(item=item, decision="merge", actor=ACTOR)
    assert merge.value.code == "review_item.bad_decision"
    with pytest.raises(InvalidInput) as unknown:
        services.resolve_review_item(item=item, decision="shrug", actor=ACTOR)
    assert unknown.value.code == "review_item.bad_decision"
    services.resolve_review_item(item=item, decision="dismiss", actor=ACTOR)
    item.refresh_from_db()
    assert item.status == ReviewStatus.DISMISSED


def test_a_likely_duplicate_is_merged_from_the_queue_the_older_record_surviving():
    holder = services.register_from_scan(qr=qr(), actor=ACTOR).person
    other = register(full_name="Trần Thị Minh Anh", birth_year=1995, old_id="012345678")
    services.register_from_scan(qr=qr(old="012345678"), actor=ACTOR)
    item = ReviewItem.objects.get(kind=ReviewKind.ID_CLAIMED_TWICE)
    assert services.decisions_for(item)[0] == services.ReviewDecision.MERGE
    services.resolve_review_item(item=item, decision="merge", actor=ACTOR)
    other.refresh_from_db()
    assert other.merged_into_id == holder.pk
    assert PersonIdentifier.objects.get(value="012345678").person_id == holder.pk
