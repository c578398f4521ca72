"""The hospitals' layout as reception reads it on every check-in: a facility by its code and
its clinics, kept in the process for a minute. The layout changes in the admin a few times a
year; any save or delete of a facility, department or service point empties the cache at
once in the process that made it (other processes see it within the minute)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models.signals import post_delete, post_save

from cityhealth.facilities.enums import DepartmentKind
from cityhealth.facilities.models import Department, Facility, ServicePoint

KEEP_SECONDS = 60.0
T = TypeVar("T")
_kept: dict[tuple[str, object], tuple[float, Any]] = {}


def _cached(key: tuple[str, object], load: Callable[[], T]) -> T:
    now = time.monotonic()
    hit = _kept.get(key)
    if hit is not None and hit[0] > now:
        value: T = hit[1]
        return value
    value = load()
    _kept[key] = (now + KEEP_SECONDS, value)
    return value


def forget(**_: Any) -> None:
    _kept.clear()


def active_facility(code: str) -> Facility | None:
    return _cached(
        ("facility", code),
        lambda: Facility.objects.filter(code=code[:20], is_active=True).first(),
    )


def clinics_of(facility: Facility) -> list[Department]:
    """The facility's clinics, in the facility's order."""
    return _cached(
        ("clinics", facility.pk),
        lambda: list(
            Department.objects.filter(facility=facility, kind=DepartmentKind.CLINIC).order_by(
                "position", "code"
            )
        ),
    )


def connect() -> None:
    for model in (Facility, Department, ServicePoint):
        post_save.connect(forget, sender=model, dispatch_uid=f"reception-directory-{model}")
        post_delete.connect(forget, sender=model, dispatch_uid=f"reception-directory-d-{model}")
