"""Handset locations: the position a caller's phone sends by itself when it dials 115.

The message may arrive before, during or just after the telephone system reports the call,
and may be sent twice. It is kept by its message id (a repeat finds it again), joined to the
open incident from the same number, or left waiting for that call for a few minutes. It never
confirms the location by itself: the call-taker sees it with its accuracy and takes it or not.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from cityhealth.core import clock
from cityhealth.emergency import errors
from cityhealth.emergency.models import HandsetLocation, Incident
from cityhealth.emergency.services._shared import (
    OPEN_STATUSES,
    audit,
    check_point,
    checked_external_id,
    checked_phone,
)

# A handset sends its message within seconds of dialling; a call reported later than this
# after the message is another call.
WAIT_FOR_CALL = dt.timedelta(minutes=5)
# The open incident a message joins: a call from the same number within the last hour.
JOIN_OPEN_CALL = dt.timedelta(hours=1)
MAX_ACCURACY_M = 50_000
SOURCES = {"sms", "https"}


@dataclass(frozen=True)
class HandsetLocationReceived:
    location: HandsetLocation
    created: bool


def record_handset_location(
    *,
    message_id: str,
    caller_number: str,
    latitude: float,
    longitude: float,
    accuracy_m: int,
    positioned_at: dt.datetime | None = None,
    source: str = "sms",
    actor: str,
) -> HandsetLocationReceived:
    message_id = checked_external_id(
        message_id,
        code="handset.bad_message_id",
        vi="Mã tin nhắn vị trí không hợp lệ.",
        en="The location message's id is not valid.",
        field="message_id",
    )
    number = checked_phone(
        caller_number,
        code="handset.bad_caller_number",
        vi="Số máy gửi vị trí không hợp lệ.",
        en="The number that sent the location is not valid.",
        field="caller_number",
    )
    if not number:
        raise errors.invalid(
            "handset.bad_caller_number",
            vi="Tin nhắn vị trí không có số máy gửi.",
            en="The location message has no sender number.",
            field="caller_number",
        )
    if not 0 <= accuracy_m <= MAX_ACCURACY_M or source not in SOURCES:
        raise errors.invalid(
            "handset.bad_accuracy",
            vi="Độ chính xác từ 0 đến 50000 m; nguồn là sms hoặc https.",
            en="The accuracy is 0 to 50,000 m and the source sms or https.",
            field="accuracy_m",
        )
    check_point(latitude, longitude)
    existing = HandsetLocation.objects.filter(message_id=message_id).first()
    if existing is not None:
        return HandsetLocationReceived(existing, created=False)
    now = clock.now()
    positioned = positioned_at or now
    try:
        with transaction.atomic():
            location = HandsetLocation.objects.create(
                message_id=message_id,
                caller_number=number,
                latitude=latitude,
                longitude=longitude,
                accuracy_m=accuracy_m,
                positioned_at=positioned,
                received_at=now,
                source=source,
                incident=_open_call_from(number, since=now - JOIN_OPEN_CALL),
            )
    except IntegrityError:
        return HandsetLocationReceived(
            HandsetLocation.objects.get(message_id=message_id), created=False
        )
    audit(
        "incident.handset_location",
        actor=actor,
        target_type="incident" if location.incident_id else "handset_location",
        target_id=location.incident_id or location.pk,
        details={"message_id": message_id, "accuracy_m": accuracy_m, "source": source},
    )
    return HandsetLocationReceived(location, created=True)


def attach_waiting_handset_locations(incident: Incident) -> int:
    """Join the messages that came from this number shortly before the call was reported."""
    if not incident.caller_number:
        return 0
    return HandsetLocation.objects.filter(
        caller_number=incident.caller_number,
        incident__isnull=True,
        received_at__gte=incident.received_at - WAIT_FOR_CALL,
    ).update(incident=incident)


def _open_call_from(number: str, *, since: dt.datetime) -> Incident | None:
    return (
        Incident.objects.filter(
            caller_number=number, status__in=OPEN_STATUSES, received_at__gte=since
        )
        .order_by("-received_at")
        .first()
    )
