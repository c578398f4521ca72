"""Which clinics suit a person (a child goes to paediatrics, obstetrics sees women), and how
a person's age gives the statutory priority groups that need no declaring."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from cityhealth.facilities.enums import Specialty
from cityhealth.facilities.models import Department, Facility
from cityhealth.people.enums import DatePrecision, Sex
from cityhealth.people.models import Person
from cityhealth.reception import errors
from cityhealth.reception.directory import clinics_of
from cityhealth.reception.enums import DECLARED_GROUPS, Priority, PriorityGroup

# Children under 16 are seen by paediatrics in Vietnamese hospitals; the adult medical
# clinics do not see them. Specialties that see every age are listed for both.
CHILD_AGE = 16
_CHILDREN_ONLY = frozenset({Specialty.PAEDIATRICS})
_ADULTS_ONLY = frozenset(
    {
        Specialty.INTERNAL_MEDICINE,
        Specialty.CARDIOLOGY,
        Specialty.ENDOCRINOLOGY,
        Specialty.GENERAL_PRACTICE,
        Specialty.NEPHROLOGY,
        Specialty.UROLOGY,
        Specialty.OBSTETRICS_GYNAECOLOGY,
        Specialty.PSYCHIATRY,
        Specialty.ONCOLOGY,
        Specialty.PULMONOLOGY,
    }
)
_WOMEN_ONLY = frozenset({Specialty.OBSTETRICS_GYNAECOLOGY})


def age_on(person: Person, day: dt.date) -> int | None:
    """Completed years on `day`; from the birth year alone when that is all the registry has
    (then the age the person reaches this year)."""
    if person.birth_date is not None and person.birth_date_precision == DatePrecision.DAY:
        born = person.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    if person.birth_year is not None:
        return day.year - person.birth_year
    return None


def age_groups(person: Person, day: dt.date) -> list[PriorityGroup]:
    age = age_on(person, day)
    if age is None:
        return []
    if age < 6:
        return [PriorityGroup.UNDER_6]
    if age >= 75:
        return [PriorityGroup.AGED_75]
    return []


def suits(department: Department, person: Person, day: dt.date) -> bool:
    """Whether the clinic sees this person (unknown age or sex: every clinic)."""
    specialty = department.specialty
    age = age_on(person, day)
    if age is not None and age < CHILD_AGE and specialty in _ADULTS_ONLY:
        return False
    if age is not None and age >= CHILD_AGE and specialty in _CHILDREN_ONLY:
        return False
    return not (specialty in _WOMEN_ONLY and person.sex == Sex.MALE)


def clinics_for(facility: Facility, person: Person, day: dt.date) -> list[Department]:
    """The facility's clinics this person may choose, in the facility's order."""
    return [clinic for clinic in clinics_of(facility) if suits(clinic, person, day)]


def priority_of(groups: Iterable[str]) -> Priority:
    """A visit's order of service from its priority groups: emergency first, then any
    statutory group, then everyone else."""
    chosen = set(groups)
    if PriorityGroup.EMERGENCY in chosen:
        return Priority.EMERGENCY
    return Priority.PRIORITY if chosen else Priority.NORMAL


def check_declared(values: Iterable[str]) -> list[PriorityGroup]:
    """The groups staff declared, each once, in order; one that cannot be declared (an
    age-based group, a word that is no group) is refused."""
    declared: list[PriorityGroup] = []
    for value in values:
        if value not in PriorityGroup.values or PriorityGroup(value) not in DECLARED_GROUPS:
            raise errors.bad_priority_group(value)
        if PriorityGroup(value) not in declared:
            declared.append(PriorityGroup(value))
    return declared


def priority_groups(person: Person, day: dt.date, declared: Iterable[str]) -> list[PriorityGroup]:
    """A visit's groups: those the date of birth gives on `day`, then the declared ones."""
    groups = age_groups(person, day)
    return groups + [group for group in check_declared(declared) if group not in groups]
