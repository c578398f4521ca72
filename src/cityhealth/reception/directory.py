"""The hospitals' layout as reception reads it on every check-in: a facility by its code,
its clinics and their rooms, kept in the process for a minute. The layout changes in the
admin a few times a year; any save or delete of a facility, department or service point
empties the cache at once in the process that made it (other processes see it within the
minute)."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from cityhealth.core.caches import KeptFor
from cityhealth.facilities.enums import DepartmentKind, ServicePointKind
from cityhealth.facilities.models import Department, Facility, ServicePoint
from cityhealth.reception import errors

# The layout, a minute at a time (emptied at once by this process's own changes).
_layout = KeptFor(60.0)


def active_facility(code: str) -> Facility | None:
    return _layout.get(
        ("facility", code),
        lambda: Facility.objects.filter(code=code[:20], is_active=True).first(),
    )


def clinics_of(facility: Facility) -> list[Department]:
    """The facility's clinics, in the facility's order."""
    return _layout.get(
        ("clinics", facility.pk),
        lambda: list(
            Department.objects.filter(facility=facility, kind=DepartmentKind.CLINIC).order_by(
                "position", "code"
            )
        ),
    )


def clinic_by_code(facility: Facility, code: str) -> Department:
    for clinic in clinics_of(facility):
        if clinic.code == code:
            return clinic
    raise errors.clinic_not_found(code)


def rooms_of(department: Department) -> list[ServicePoint]:
    """The department's open rooms, in the department's order."""
    return _layout.get(
        ("rooms", department.pk),
        lambda: list(
            ServicePoint.objects.filter(
                department=department, is_active=True, kind=ServicePointKind.ROOM
            ).order_by("position", "code")
        ),
    )


def connect() -> None:
    for model in (Facility, Department, ServicePoint):
        post_save.connect(_layout.clear, sender=model, dispatch_uid=f"reception-layout-{model}")
        post_delete.connect(_layout.clear, sender=model, dispatch_uid=f"reception-layout-d-{model}")
