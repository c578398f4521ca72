"""Reads of the insurance app: a check's current state in words, today's reusable check,
the checks due for a re-check, the kiosk's lookup operator."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection

from cityhealth.insurance import errors
from cityhealth.insurance.codes import CodeMeaning, meaning_of, unreachable_meaning
from cityhealth.insurance.models import EligibilityCheck, GatewayLookup
from cityhealth.insurance.types import REUSABLE, Eligibility, EligibilityResult

_GAVE_UP_VI = " Đã hết số lần tự kiểm tra lại: hãy tra cứu thẻ trên cổng giám định BHYT."
_GAVE_UP_EN = " No more automatic re-checks: look the card up on the insurance portal."


def eligibility_of(*, check_id: int) -> EligibilityResult:
    """The current state of a check (a background re-check may have changed it)."""
    check = EligibilityCheck.objects.filter(pk=check_id).first()
    if check is None:
        raise errors.check_not_found()
    return result_of(check)


def meaning_of_check(check: EligibilityCheck) -> CodeMeaning:
    if check.status != Eligibility.PENDING:
        return meaning_of(check.code)
    if check.last_code:
        return meaning_of(check.last_code)
    return unreachable_meaning(check.last_error or "timeout")


def result_of(check: EligibilityCheck, *, reused: bool = False) -> EligibilityResult:
    meaning = meaning_of_check(check)
    staff_vi, staff_en = meaning.staff_vi, meaning.staff_en
    if check.status == Eligibility.PENDING and check.next_attempt_at is None and check.attempts:
        staff_vi, staff_en = staff_vi + _GAVE_UP_VI, staff_en + _GAVE_UP_EN
    return EligibilityResult(
        check_id=check.pk,
        status=Eligibility(check.status),
        code=check.code,
        resident_vi=meaning.resident_vi,
        resident_en=meaning.resident_en,
        staff_vi=staff_vi,
        staff_en=staff_en,
        card_code=check.card_code,
        benefit_level=check.benefit_level,
        primary_care_facility=check.primary_care_facility,
        valid_from=check.valid_from,
        valid_to=check.valid_to,
        checked_at=check.checked_at,
        reused=reused,
        attempts=check.attempts,
        next_attempt_at=check.next_attempt_at,
    )


def reusable_check(*, person_id: int, day: dt.date) -> EligibilityCheck | None:
    """The person's latest successful check of that day, if any."""
    # Asked at every check-in and nearly always none: a probe of the person's day in plain
    # SQL (the ORM's compiling of the same read cost five times the statement itself).
    reusable = [s.value for s in REUSABLE]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {EligibilityCheck._meta.db_table} "  # noqa: S608 - own table
            f"WHERE person_id = %s AND check_date = %s AND status IN ({_marks(reusable)}) "
            "ORDER BY checked_at DESC, id DESC LIMIT 1",
            [person_id, connection.ops.adapt_datefield_value(day), *reusable],
        )
        row = cursor.fetchone()
    return EligibilityCheck.objects.get(pk=row[0]) if row else None


def _marks(values: list[str]) -> str:
    return ", ".join(["%s"] * len(values))


def due_checks(*, now: dt.datetime, limit: int = 500) -> list[int]:
    """Pending checks whose next attempt is due, oldest first."""
    return list(
        EligibilityCheck.objects.filter(status=Eligibility.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def lookups_of(*, check_id: int) -> list[GatewayLookup]:
    return list(
        GatewayLookup.objects.filter(eligibility_check_id=check_id).order_by("started_at", "pk")
    )


def kiosk_staff() -> tuple[str, str]:
    """(name, 12-digit ID) the gateway is told checks cards at a kiosk (settings
    INSURANCE_KIOSK_STAFF_NAME and INSURANCE_KIOSK_STAFF_CITIZEN_ID)."""
    return settings.INSURANCE_KIOSK_STAFF_NAME, settings.INSURANCE_KIOSK_STAFF_CITIZEN_ID
