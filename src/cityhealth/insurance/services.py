"""Use cases of the insurance app: check a person's BHYT card for a visit, and check a
pending one again.

The check-in never waits on a gateway outage: without an answer the check is saved as
pending, the visit goes on, and a background task (enqueued after the commit) asks again
with growing waits. One successful check per person per day is reused without a call.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from functools import partial

from django.conf import settings
from django.db import connection, transaction

from cityhealth.core import clock
from cityhealth.db import insert_row
from cityhealth.facilities.models import Facility
from cityhealth.insurance import errors, selectors
from cityhealth.insurance.codes import meaning_of
from cityhealth.insurance.contract import upper_name
from cityhealth.insurance.gateway import GatewayUnavailable, VssClient, account_for, default_client
from cityhealth.insurance.models import EligibilityCheck, GatewayLookup
from cityhealth.insurance.types import (
    Attempt,
    CardAnswer,
    CardQuery,
    Eligibility,
    EligibilityResult,
)
from cityhealth.people.enums import DatePrecision, IdentifierKind, IdentifierStatus
from cityhealth.people.models import InsuranceCard, Person, PersonIdentifier
from cityhealth.people.selectors import survivor_of

MAX_RECHECK_WAIT = dt.timedelta(hours=1)


def check_eligibility(
    *,
    person: Person,
    facility: Facility,
    staff_name: str,
    staff_citizen_id: str,
    client: VssClient | None = None,
) -> EligibilityResult:
    """Check the person's card for a visit at `facility`, asked by the named staff member
    (the desk's signed-in user, or `selectors.kiosk_staff()` at a kiosk).

    Answers at once with today's earlier successful check if there is one; otherwise asks
    the gateway and records the check, pending if no answer came. `client` defaults to the
    process's configured gateway."""
    person = survivor_of(person)
    today = clock.today()
    earlier = selectors.reusable_check(person_id=person.pk, day=today)
    if earlier is not None:
        return selectors.result_of(earlier, reused=True)
    if not facility.insurance_code:
        raise errors.facility_without_insurance_code(facility.code)
    staff_name, staff_citizen_id = " ".join(staff_name.split()), staff_citizen_id.strip()
    if not staff_name or not re.fullmatch(r"\d{12}", staff_citizen_id):
        raise errors.staff_not_configured()
    query = card_query(person, staff_name=staff_name, staff_citizen_id=staff_citizen_id)
    now = clock.now()
    # Saved once, with the gateway's answer (one INSERT, not an INSERT and an UPDATE): the
    # check-in's transaction holds it, so a pending row written first would not be seen
    # any earlier.
    check = EligibilityCheck(
        person=person,
        facility=facility,
        check_date=today,
        status=Eligibility.PENDING,
        query=dataclasses.asdict(query),
        requested_at=now,
        checked_at=now,
    )
    _attempt(check, client=client or default_client())
    return selectors.result_of(check)


def recheck(*, check_id: int, client: VssClient | None = None) -> EligibilityResult:
    """Ask the gateway again about a pending check that is due (the background task's work;
    the caller holds the transaction). A check that is settled or not yet due is left."""
    check = EligibilityCheck.objects.select_for_update().filter(pk=check_id).first()
    if check is None:
        raise errors.check_not_found()
    due = check.next_attempt_at is not None and check.next_attempt_at <= clock.now()
    if check.status == Eligibility.PENDING and due:
        _attempt(check, client=client or default_client())
    return selectors.result_of(check)


def card_query(person: Person, *, staff_name: str, staff_citizen_id: str) -> CardQuery:
    """The five fields sent for a person: the BHYT code if the registry has one, else the
    12-digit citizen ID (check-in with the ID card), else the 10-digit BHXH number."""
    card = _card_to_send(person)
    if card is None:
        raise errors.nothing_to_check()
    if person.birth_date is not None and person.birth_date_precision == DatePrecision.DAY:
        birth = person.birth_date.strftime("%d%m%Y")
    elif person.birth_date is not None or person.birth_year:
        birth = str(person.birth_date.year if person.birth_date else person.birth_year)
    else:
        raise errors.birth_unknown()
    return CardQuery(
        card=card,
        name=upper_name(person.full_name),
        birth=birth,
        staff_name=upper_name(staff_name),
        staff_citizen_id=staff_citizen_id,
    )


def _card_to_send(person: Person) -> str | None:
    today = clock.today()
    cards = sorted(
        _cards_of(person.pk),
        key=lambda c: (c.valid_to is None or c.valid_to >= today, c.valid_from or dt.date.min),
    )
    coded = [c.code for c in cards if c.code]
    if coded:
        return coded[-1]
    citizen_id = (
        PersonIdentifier.objects.filter(
            person=person, kind=IdentifierKind.CITIZEN_ID, status=IdentifierStatus.ACTIVE
        )
        .values_list("value", flat=True)
        .first()
    )
    if citizen_id:
        return citizen_id
    return cards[-1].social_insurance_number if cards else None


@dataclasses.dataclass(frozen=True)
class _Card:
    code: str
    social_insurance_number: str
    valid_from: dt.date | None
    valid_to: dt.date | None


def _cards_of(person_id: int) -> list[_Card]:
    """The person's cards, in plain SQL: read at every check-in, where the ORM's compiling
    of the same read cost five times the statement itself."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT code, social_insurance_number, valid_from, valid_to "  # noqa: S608
            f"FROM {InsuranceCard._meta.db_table} WHERE person_id = %s",
            [person_id],
        )
        return [
            _Card(code or "", number or "", _day(valid_from), _day(valid_to))
            for code, number, valid_from, valid_to in cursor.fetchall()
        ]


def _day(value: object) -> dt.date | None:
    """A DATE column's value as read without the ORM (SQLite gives its ISO text)."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _attempt(check: EligibilityCheck, *, client: VssClient | None) -> None:
    """One try at the gateway for `check`, written to it and to the lookup log."""
    now = clock.now()
    check.attempts += 1
    check.checked_at = now
    query = CardQuery(**check.query)
    if client is None:
        _still_pending(check, reason="not_configured", code="")
        return
    account = account_for(check.facility.insurance_code)
    try:
        reply = client.check_card(account, query)
    except GatewayUnavailable as gone:
        _still_pending(check, reason=gone.reason, code=gone.code)
        _log(check, gone.attempts, query)
        return
    if meaning_of(reply.answer.code).status == Eligibility.PENDING:
        _still_pending(check, reason="answered", code=reply.answer.code)
    else:
        _settle(check, reply.answer)
    _log(check, reply.attempts, query)  # after the check's row, which it refers to


def _settle(check: EligibilityCheck, answer: CardAnswer) -> None:
    check.status = meaning_of(answer.code).status
    check.code = answer.code
    check.card_code = answer.card_code[:15]
    check.benefit_level = answer.benefit_level
    check.primary_care_facility = answer.primary_care_facility[:5]
    check.valid_from, check.valid_to = answer.valid_from, answer.valid_to
    check.holder_name = answer.holder_name[:200]
    check.next_attempt_at = None
    check.last_error, check.last_code = "", ""
    _save(check)


def _still_pending(check: EligibilityCheck, *, reason: str, code: str) -> None:
    check.last_error, check.last_code = reason[:30], code
    if check.attempts >= settings.INSURANCE_RECHECK_ATTEMPTS:
        check.next_attempt_at = None  # staff check it by hand (the desk's words say so)
        _save(check)
        return
    wait = dt.timedelta(seconds=settings.INSURANCE_RECHECK_SECONDS * 2 ** (check.attempts - 1))
    check.next_attempt_at = check.checked_at + min(wait, MAX_RECHECK_WAIT)
    _save(check)
    transaction.on_commit(partial(_enqueue_recheck, check.pk, check.next_attempt_at))


def _save(check: EligibilityCheck) -> None:
    if check._state.adding:
        insert_row(check)  # a check-in's new check: one INSERT made once, not compiled
    else:
        check.save()


def _enqueue_recheck(check_id: int, when: dt.datetime) -> None:
    from cityhealth.insurance.tasks import recheck_eligibility

    recheck_eligibility.using(run_after=when).enqueue(check_id=check_id)


def _log(check: EligibilityCheck, attempts: list[Attempt], query: CardQuery) -> None:
    for attempt in attempts:
        insert_row(
            GatewayLookup(
                eligibility_check=check,
                endpoint=attempt.endpoint,
                username=attempt.username,
                staff_name=query.staff_name,
                staff_citizen_id=query.staff_citizen_id,
                started_at=attempt.started_at,
                duration_ms=attempt.duration_ms,
                http_status=attempt.http_status,
                result_code=attempt.result_code,
                error=attempt.error,
                request=attempt.request,
            )
        )
