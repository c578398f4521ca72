"""Errors of the insurance app, each with a stable code and both languages."""

from __future__ import annotations

from cityhealth.core.errors import InvalidInput, NotFound, not_found


def check_not_found() -> NotFound:
    return not_found("Eligibility check", "lượt kiểm tra thẻ BHYT")


def nothing_to_check() -> InvalidInput:
    return InvalidInput(
        "insurance.nothing_to_check",
        vi="Người bệnh chưa có mã thẻ BHYT hay số định danh cá nhân để kiểm tra thẻ.",
        en="The person has neither a BHYT card code nor a personal ID number to check.",
    )


def facility_without_insurance_code(facility: str) -> InvalidInput:
    return InvalidInput(
        "insurance.facility_without_code",
        vi=f"Cơ sở {facility} chưa có mã cơ sở KCB BHYT: không thể tra cứu thẻ.",
        en=f"Facility {facility} has no BHYT facility code: cards cannot be checked.",
        field="facility",
    )


def staff_not_configured() -> InvalidInput:
    return InvalidInput(
        "insurance.staff_missing",
        vi="Thiếu họ tên hoặc số định danh (12 số) của cán bộ tra cứu thẻ.",
        en="The checking staff member's name or 12-digit ID is missing.",
        field="staff_citizen_id",
    )


def birth_unknown() -> InvalidInput:
    return InvalidInput(
        "insurance.birth_unknown",
        vi="Chưa biết ngày hay năm sinh của người bệnh: không thể tra cứu thẻ.",
        en="The person's date or year of birth is unknown: the card cannot be checked.",
    )
