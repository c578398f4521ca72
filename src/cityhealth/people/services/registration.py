"""Registering a person at a desk (walk-ins, children, foreigners, unknown persons)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from cityhealth.core import clock
from cityhealth.core.errors import NotFound
from cityhealth.core.identifiers import (
    CitizenId,
    parse_bhyt_code,
    parse_citizen_id,
)
from cityhealth.core.names import normalise_name
from cityhealth.geo.selectors import get_ward
from cityhealth.people import errors
from cityhealth.people.enums import (
    DatePrecision,
    IdentifierKind,
    Relationship,
    Sex,
)
from cityhealth.people.hooks import persons_changed
from cityhealth.people.models import (
    Guardianship,
    InsuranceCard,
    Person,
    PersonIdentifier,
    ReviewItem,
)
from cityhealth.people.selectors import (
    check_birth_year,
    check_facility_code,
    clean_text,
    holders_of,
    normalise_phone,
)
from cityhealth.people.services._shared import (
    _audit,
    _claimed_twice,
    _inconsistency_item,
    _lock_current,
    _year_sex_warnings,
)

UNKNOWN_NAME = "Chưa rõ danh tính"  # the name of a person brought in who cannot say who they are
_OLD_ID = re.compile(r"[0-9]{9}")
_PASSPORT = re.compile(r"[A-Z0-9]{5,20}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_FACILITY_CODE = re.compile(r"[0-9A-Z]{5}")


@dataclass(frozen=True)
class Registration:
    person: Person
    review_items: tuple[ReviewItem, ...]  # ID_INCONSISTENT, when the ID's digits disagree


@dataclass(frozen=True)
class _Birth:
    date: dt.date | None
    year: int | None
    precision: DatePrecision


def _birth(
    *,
    birth_date: dt.date | None,
    birth_date_precision: str | None,
    birth_year: int | None,
    approximate_age: int | None,
) -> _Birth:
    today = clock.today()
    if birth_date is not None:
        if birth_date > today:
            raise errors.invalid(
                "person.birth_date_in_future",
                vi="Ngày sinh là một ngày chưa tới.",
                en="The date of birth is in the future.",
                field="birth_date",
            )
        check_birth_year(birth_date.year, field="birth_date")
        if birth_year is not None and birth_year != birth_date.year:
            raise errors.invalid(
                "person.birth_year_mismatch",
                vi="Năm sinh và ngày sinh không khớp nhau.",
                en="The birth year and the date of birth disagree.",
                field="birth_year",
            )
        precision = DatePrecision(birth_date_precision or DatePrecision.DAY)
        if precision == DatePrecision.YEAR:
            return _Birth(None, birth_date.year, precision)
        if precision == DatePrecision.MONTH:
            return _Birth(birth_date.replace(day=1), birth_date.year, precision)
        return _Birth(birth_date, birth_date.year, precision)
    if birth_year is not None:
        return _Birth(None, check_birth_year(birth_year), DatePrecision.YEAR)
    if approximate_age is not None:
        if not 0 <= approximate_age <= 125:
            raise errors.invalid(
                "person.bad_age",
                vi="Tuổi ước tính phải từ 0 đến 125.",
                en="The approximate age must be between 0 and 125.",
                field="approximate_age",
            )
        return _Birth(None, today.year - approximate_age, DatePrecision.YEAR)
    return _Birth(None, None, DatePrecision.YEAR)


def _ward(code: str) -> Any:
    code = code.strip()
    if not code:
        return None
    try:
        return get_ward(code)
    except NotFound:
        raise errors.invalid(
            "person.unknown_ward",
            vi=f"Không có phường/xã mã “{code[:10]}”.",
            en=f"There is no ward with code “{code[:10]}”.",
            field="ward",
        ) from None


def register_person(
    *,
    actor: str,
    full_name: str = "",
    birth_date: dt.date | None = None,
    birth_date_precision: str | None = None,
    birth_year: int | None = None,
    approximate_age: int | None = None,
    sex: str = Sex.UNKNOWN,
    nationality: str = "VN",
    citizen_id: str = "",
    old_id: str = "",
    passport: str = "",
    passport_country: str = "",
    insurance_code: str = "",
    insurance_valid_from: dt.date | None = None,
    insurance_valid_to: dt.date | None = None,
    primary_care_facility: str = "",
    phone: str = "",
    ward_code: str = "",
    address: str = "",
    guardian: Person | None = None,
    guardian_relationship: str = "",
    facility_code: str = "",
    source_ip: str = "",
    source: str = "desk",
) -> Registration:
    """Register a person at a desk: a resident with papers, a child on a guardian's ID, a
    foreigner with a passport, or an unknown person with only an approximate age.

    Every identifier given must be free: one already held (now or earlier) by another record
    gives `IdClaimedTwice` and an `ID_CLAIMED_TWICE` review item, and nobody is created.
    """
    facility_code = check_facility_code(facility_code)
    name = normalise_name(clean_text(full_name, max_length=200)) or UNKNOWN_NAME
    birth = _birth(
        birth_date=birth_date,
        birth_date_precision=birth_date_precision,
        birth_year=birth_year,
        approximate_age=approximate_age,
    )
    sex_value = _sex(sex)
    country = (nationality or "VN").strip().upper()
    if not _COUNTRY.fullmatch(country):
        raise errors.invalid(
            "person.bad_nationality",
            vi="Quốc tịch là mã 2 chữ cái (VN, US, ...).",
            en="The nationality is a 2-letter code (VN, US, ...).",
            field="nationality",
        )
    identifiers: list[tuple[str, str, str]] = []  # (kind, issuer, value)
    parsed_id: CitizenId | None = None
    if citizen_id.strip():
        parsed_id = parse_citizen_id(citizen_id)
        identifiers.append((IdentifierKind.CITIZEN_ID, "", parsed_id.number))
    if old_id.strip():
        if not _OLD_ID.fullmatch(old_id.strip()):
            raise errors.invalid(
                "person.bad_old_id",
                vi="Số CMND cũ gồm 9 chữ số.",
                en="An old ID card number is 9 digits.",
                field="old_id",
            )
        identifiers.append((IdentifierKind.OLD_ID, "", old_id.strip()))
    if passport.strip():
        number = passport.strip().upper()
        issuer = (passport_country or country).strip().upper()
        if not _PASSPORT.fullmatch(number) or not _COUNTRY.fullmatch(issuer):
            raise errors.invalid(
                "person.bad_passport",
                vi="Số hộ chiếu gồm 5–20 chữ cái hoặc chữ số; nước cấp là mã 2 chữ cái.",
                en="A passport number is 5–20 letters or digits; its country a 2-letter code.",
                field="passport",
            )
        identifiers.append((IdentifierKind.PASSPORT, issuer, number))
    card = parse_bhyt_code(insurance_code) if insurance_code.strip() else None
    if card is not None:
        identifiers.append((IdentifierKind.SOCIAL_INSURANCE, "", card.social_insurance_number))
        starts, ends = insurance_valid_from, insurance_valid_to
        if starts and ends and ends < starts:
            raise errors.invalid(
                "person.bad_insurance_validity",
                vi="Thẻ BHYT hết hạn trước ngày bắt đầu có giá trị.",
                en="The BHYT card expires before it becomes valid.",
                field="insurance_valid_to",
            )
    facility = primary_care_facility.strip().upper()
    if facility and not _FACILITY_CODE.fullmatch(facility):
        raise errors.invalid(
            "person.bad_primary_care_facility",
            vi="Mã nơi đăng ký khám chữa bệnh ban đầu gồm 5 ký tự.",
            en="The registered primary-care facility code is 5 characters.",
            field="primary_care_facility",
        )
    phone_digits = normalise_phone(phone)
    ward = _ward(ward_code)
    relationship = _relationship(guardian, guardian_relationship)
    if guardian is not None:
        guardian = _lock_current(guardian)

    submitted = {
        "full_name": name,
        "birth_date": birth.date.isoformat() if birth.date else None,
        "birth_year": birth.year,
        "sex": sex_value,
        "identifiers": [{"kind": k, "issuer": i, "value": v} for k, i, v in identifiers],
    }
    for kind, issuer, value in identifiers:
        holders = holders_of(kind, value, issuer=issuer)
        if holders:
            raise _claimed_twice(
                kind=kind,
                value=value,
                holder=holders[0][0],
                other=None,
                source=source,
                actor=actor,
                facility_code=facility_code,
                source_ip=source_ip,
                submitted=submitted,
            )

    try:
        with transaction.atomic():
            person = Person(
                full_name=name,
                birth_date=birth.date,
                birth_year=birth.year,
                birth_date_precision=birth.precision,
                sex=sex_value,
                nationality=country,
                ward=ward,
                address=clean_text(address, max_length=300),
                phone=phone_digits,
            )
            person.save()
            for kind, issuer, value in identifiers:
                PersonIdentifier.objects.create(
                    person=person, kind=kind, issuer=issuer, value=value, source=source
                )
            if card is not None:
                InsuranceCard.objects.create(
                    person=person,
                    code=card.code if len(card.code) == 15 else "",
                    social_insurance_number=card.social_insurance_number,
                    group=card.group.code if card.group else "",
                    benefit_level=card.card_level,
                    primary_care_facility=facility,
                    valid_from=insurance_valid_from,
                    valid_to=insurance_valid_to,
                )
            if guardian is not None:
                Guardianship.objects.create(
                    child=person, guardian=guardian, relationship=relationship
                )
    except IntegrityError:
        raise errors.concurrent_change() from None

    items: list[ReviewItem] = []
    if parsed_id is not None:
        item = _inconsistency_item(
            person=person,
            number=parsed_id.number,
            warnings=_year_sex_warnings(parsed_id, birth_year=birth.year, sex=sex_value),
            seen={"birth_year": birth.year, "sex": sex_value},
        )
        if item:
            items.append(item)
    _audit(
        "person.created",
        actor=actor,
        person_id=person.pk,
        facility_code=facility_code,
        source_ip=source_ip,
        details={
            "source": source,
            "identifier_kinds": [kind for kind, _i, _v in identifiers],
            "guardian_id": guardian.pk if guardian else None,
            "review_item_ids": [i.pk for i in items],
        },
    )
    persons_changed([person.pk])
    return Registration(person=person, review_items=tuple(items))


def _sex(value: str) -> str:
    try:
        return Sex(value or Sex.UNKNOWN).value
    except ValueError:
        raise errors.invalid(
            "person.bad_sex",
            vi="Giới tính là male, female hoặc unknown.",
            en="The sex is male, female or unknown.",
            field="sex",
        ) from None


def _relationship(guardian: Person | None, value: str) -> str:
    if guardian is None:
        if value:
            raise errors.invalid(
                "person.guardian_missing",
                vi="Đã ghi quan hệ nhưng chưa chọn người giám hộ.",
                en="A relationship was given without a guardian.",
                field="guardian",
            )
        return ""
    try:
        return Relationship(value or Relationship.GUARDIAN).value
    except ValueError:
        raise errors.invalid(
            "person.bad_relationship",
            vi="Quan hệ là mother, father hoặc guardian.",
            en="The relationship is mother, father or guardian.",
            field="guardian_relationship",
        ) from None


# --- re-issued ID numbers ------------------------------------------------------------------
