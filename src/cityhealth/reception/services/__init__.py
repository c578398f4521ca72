"""Writes of reception: check-in (`check_in_with_cccd`, `check_in_person`) and what staff do
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
from cityhealth.reception.services.queues import (
    call_next,
    close_stale_visit,
    finish_visit,
    mark_no_show,
    recall,
    send_to,
)

__all__ = [
    "CheckIn",
    "Identified",
    "call_next",
    "check_in_at_desk",
    "check_in_known",
    "check_in_person",
    "check_in_with_cccd",
    "close_stale_visit",
    "facility_by_code",
    "finish_visit",
    "identify",
    "mark_no_show",
    "read_scan",
    "recall",
    "send_to",
]
