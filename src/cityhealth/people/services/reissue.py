"""Recording a re-issued citizen ID number: the old one is kept, cancelled."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

from cityhealth.core import clock
from cityhealth.core.identifiers import (
    parse_citizen_id,
)
from cityhealth.people import errors
from cityhealth.people.enums import (
    IdentifierKind,
    IdentifierStatus,
)
from cityhealth.people.hooks import persons_changed
from cityhealth.people.models import (
    Person,
    PersonIdentifier,
)
from cityhealth.people.selectors import (
    check_facility_code,
    holders_of,
)
from cityhealth.people.services._shared import (
    _audit,
    _claimed_twice,
    _inconsistency_item,
    _lock_current,
    _require_reason,
    _year_sex_warnings,
)


def record_id_reissue(
    *,
    person: Person,
    new_citizen_id: str,
    reason: str,
    actor: str,
    issued_on: dt.date | None = None,
    facility_code: str = "",
    source_ip: str = "",
    source: str = "desk",
) -> PersonIdentifier:
    """The person's 12-digit ID was re-issued: the current one becomes CANCELLED (valid to
    the issue date) and the new one ACTIVE. Sending the same new number again changes
    nothing. If another record holds the new number as its current one: `IdClaimedTwice`
    and an `ID_CLAIMED_TWICE` review item, nothing changed."""
    parsed = parse_citizen_id(new_citizen_id)
    why = _require_reason(reason)
    facility_code = check_facility_code(facility_code)
    issued = issued_on or clock.today()
    if issued > clock.today():
        raise errors.invalid(
            "person.issue_date_in_future",
            vi="Ngày cấp là một ngày chưa tới.",
            en="The issue date is in the future.",
            field="issued_on",
        )
    person = _lock_current(person)
    current = list(
        person.identifiers.filter(kind=IdentifierKind.CITIZEN_ID, status=IdentifierStatus.ACTIVE)
    )
    for identifier in current:
        if identifier.value == parsed.number:
            return identifier  # already recorded: a retry, not a second re-issue
    for holder, active in holders_of(IdentifierKind.CITIZEN_ID, parsed.number):
        if active and holder.pk != person.pk:
            raise _claimed_twice(
                kind=IdentifierKind.CITIZEN_ID,
                value=parsed.number,
                holder=holder,
                other=person,
                source="reissue",
                actor=actor,
                facility_code=facility_code,
                source_ip=source_ip,
                submitted={"new_citizen_id": parsed.number, "reason": why},
            )
    try:
        with transaction.atomic():
            for identifier in current:
                identifier.status = IdentifierStatus.CANCELLED
                identifier.valid_to = issued
                identifier.reason = why[:200]
                identifier.save(update_fields=["status", "valid_to", "reason"])
            new = PersonIdentifier.objects.create(
                person=person,
                kind=IdentifierKind.CITIZEN_ID,
                value=parsed.number,
                valid_from=issued,
                reason=why[:200],
                source=source,
            )
    except IntegrityError:
        raise errors.concurrent_change() from None
    _inconsistency_item(
        person=person,
        number=parsed.number,
        warnings=_year_sex_warnings(parsed, birth_year=person.birth_year, sex=person.sex),
        seen={"birth_year": person.birth_year, "sex": person.sex},
    )
    _audit(
        "person.id_reissued",
        actor=actor,
        person_id=person.pk,
        facility_code=facility_code,
        reason=why,
        source_ip=source_ip,
        details={"old": [i.value for i in current], "new": parsed.number},
    )
    persons_changed([person.pk])
    return new


# --- merge and unmerge ---------------------------------------------------------------------
