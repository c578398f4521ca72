"""Registry rows the simulated gateway answers from, and a clock tests move by hand."""

from __future__ import annotations

import datetime as dt
import itertools

from cityhealth.accounts.models import User
from cityhealth.accounts.services import create_staff_user, grant_role
from cityhealth.core.roles import Role
from cityhealth.facilities.models import Facility
from cityhealth.people.enums import DatePrecision, IdentifierKind
from cityhealth.people.models import InsuranceCard, Person, PersonIdentifier

_serial = itertools.count(1)
STAFF_NAME = "Trần Thị Thu"
STAFF_ID = "001190004321"
TODAY = dt.date(2026, 6, 15)
NOON = dt.datetime(2026, 6, 15, 5, 0, tzinfo=dt.UTC)  # 12:00 in Hà Nội


class FakeClock:
    """An injectable clock: `now()` stays where it is until `advance`."""

    def __init__(self, start: dt.datetime = NOON) -> None:
        self.current = start

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += dt.timedelta(seconds=seconds)


def make_facility(insurance_code: str = "01001") -> Facility:
    return Facility.objects.create(
        code=f"BV-{insurance_code}-{next(_serial)}",
        insurance_code=insurance_code,
        name="Bệnh viện Đa khoa Thử nghiệm",
        kind="general_hospital",
    )


def make_staff(
    facility: Facility | None = None, *, name: str = STAFF_NAME, citizen_id: str = STAFF_ID
) -> User:
    user = create_staff_user(
        username=f"desk{next(_serial)}",
        password="correct-horse-battery-9",
        full_name=name,
        citizen_id=citizen_id,
    )
    grant_role(user=user, role=Role.RECEPTIONIST, facility=facility)
    return user


def make_person(
    name: str = "Nguyễn Văn An",
    *,
    born: dt.date | None = dt.date(1994, 3, 5),
    year_only: bool = False,
    citizen_id: str | None = None,
) -> Person:
    person = Person.objects.create(
        full_name=name,
        birth_date=born,
        birth_year=born.year if born else None,
        birth_date_precision=DatePrecision.YEAR if year_only else DatePrecision.DAY,
    )
    if citizen_id:
        PersonIdentifier.objects.create(
            person=person, kind=IdentifierKind.CITIZEN_ID, value=citizen_id
        )
    return person


def give_card(
    person: Person,
    *,
    group: str = "DN",
    level: int = 4,
    province: str = "01",
    number: str | None = None,
    valid_from: dt.date = dt.date(2026, 1, 1),
    valid_to: dt.date | None = dt.date(2026, 12, 31),
    with_code: bool = True,
) -> InsuranceCard:
    number = number or f"{7900000000 + next(_serial)}"
    return InsuranceCard.objects.create(
        person=person,
        code=f"{group}{level}{province}{number}" if with_code else "",
        social_insurance_number=number,
        group=group,
        benefit_level=level,
        primary_care_facility="01001",
        valid_from=valid_from,
        valid_to=valid_to,
    )
