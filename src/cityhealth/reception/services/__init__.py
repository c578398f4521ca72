"""Writes of reception: check-in (`check_in_with_cccd`, `check_in_person`), walk-ins the desk
registers (`check_in_child`, `check_in_foreigner`, `check_in_unknown`), corrections of a visit
(`change_clinic`, `change_priority_groups`, `cancel_visit`, `change_person`) and what staff do
at a room or counter (`call_next`, `recall`, `mark_no_show`, `send_to`, `finish_visit`)."""

from cityhealth.reception.services.check_in import (
    CheckIn,
    Identified,
    check_in_at_desk,
    check_in_known,
    check_in_person,
    check_in_with_cccd,
    facility_by_code,
    identify,
    read_scan,
)
from cityhealth.reception.services.corrections import (
    cancel_visit,
    change_clinic,
    change_person,
    change_priority_groups,
)
from cityhealth.reception.services.queues import (
    call_next,
    close_stale_visit,
    finish_visit,
    mark_no_show,
    recall,
    send_to,
)
from cityhealth.reception.services.walk_ins import (
    GuardianAtDesk,
    WalkIn,
    check_in_child,
    check_in_foreigner,
    check_in_unknown,
    find_guardian,
)

__all__ = [
    "CheckIn",
    "GuardianAtDesk",
    "Identified",
    "WalkIn",
    "call_next",
    "cancel_visit",
    "change_clinic",
    "change_person",
    "change_priority_groups",
    "check_in_at_desk",
    "check_in_child",
    "check_in_foreigner",
    "check_in_known",
    "check_in_person",
    "check_in_unknown",
    "check_in_with_cccd",
    "close_stale_visit",
    "facility_by_code",
    "find_guardian",
    "finish_visit",
    "identify",
    "mark_no_show",
    "read_scan",
    "recall",
    "send_to",
]
