"""A hospital with its clinics, rooms and counters (the facility registry's own layout) and the
insurance gateway's simulator on a local port, for every reception test."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cityhealth.accounts.models import User
from cityhealth.core.roles import Role
from cityhealth.facilities.models import Facility

HOSPITAL = "BV-XANHPON"
# Chip-card QR texts: number | old ID | name | date of birth | sex | address | issue date
WOMAN = "001195012345"
WOMAN_CARD = f"{WOMAN}||TRẦN THỊ MINH ANH|12071995|Nữ|Số 8 phố Ví Dụ, Hà Nội|03052022"
CHILD = "001222000111"
CHILD_CARD = f"{CHILD}||NGUYỄN MINH KHÔI|05032022|Nam|Số 8 phố Ví Dụ, Hà Nội|03052024"
ELDER = "001048000222"
ELDER_CARD = f"{ELDER}||LÊ VĂN THỌ|01021948|Nam|Số 2 phố Ví Dụ, Hà Nội|03052021"
MAN = "001080000333"
MAN_CARD = f"{MAN}||PHẠM VĂN HÙNG|15061980|Nam|Số 3 phố Ví Dụ, Hà Nội|03052021"


@pytest.fixture
def hospital(hanoi_registry: Any, db: None) -> Facility:
    return Facility.objects.get(code=HOSPITAL)


@pytest.fixture
def receptionist(make_staff: Callable[..., User]) -> User:
    user = make_staff(Role.RECEPTIONIST)
    user.full_name, user.citizen_id = "Nguyễn Thị Lan", "001190000444"
    user.save(update_fields=["full_name", "citizen_id"])
    return user


@pytest.fixture
def clinician(make_staff: Callable[..., User]) -> User:
    return make_staff(Role.CLINICIAN)


def make_small_hospital(code: str = "BV-TEST") -> Facility:
    """A hospital of one clinic with one room, a lab and a cashier, made in the test's own
    database state (a transactional test cannot see the module's rolled-back registry)."""
    from cityhealth.facilities.models import Department, ServicePoint

    facility = Facility.objects.create(
        code=code, insurance_code="01999", name="Bệnh viện Thử", kind="general_hospital"
    )
    for position, (dept, kind, specialty, points) in enumerate(
        [
            ("CLINIC-INTERNAL", "clinic", "internal_medicine", [("N01", "room")]),
            ("LAB", "lab", "", [("LM01", "counter"), ("LM02", "counter")]),
            ("CASHIER", "cashier", "", [("TN01", "counter")]),
        ]
    ):
        department = Department.objects.create(
            facility=facility, code=dept, name=dept, kind=kind, specialty=specialty,
            position=position,
        )  # fmt: skip
        for n, (point, point_kind) in enumerate(points):
            ServicePoint.objects.create(
                department=department, code=point, name=f"Phòng {point}", kind=point_kind,
                floor=2, position=n,
            )  # fmt: skip
    return facility
