"""A day of the live dispatch centre as a recorded day the simulation can replay.

    day = recorded_day(day=dt.date(2026, 3, 10))
    write_day(day, handle)  # the CSV that `cityhealth emergency simulate --replay` reads

The day is the city's calendar day (settings.TIME_ZONE), and the times written are its wall
clock, as `read_recorded_day` expects. Reads through the emergency selectors; writes nothing to
the database.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from typing import TextIO

from cityhealth.core import clock
from cityhealth.emergency import selectors
from cityhealth.emergency.enums import IncidentStatus
from cityhealth.emergency.simulation.demand import PRIORITIES, REPLAY_COLUMNS

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class ExportError(ValueError):
    """A day that cannot be exported; the message says why."""


@dataclass(frozen=True)
class ExportedCall:
    received_at: dt.datetime  # the city's wall clock, without zone (as the replay reads it)
    latitude: float
    longitude: float
    priority: str  # P1 … P4


@dataclass(frozen=True)
class ExportedDay:
    day: dt.date
    calls: tuple[ExportedCall, ...]
    incidents: int  # received that day, replayable or not
    untriaged: int  # no priority or no confirmed location: nothing a simulation can place
    cancelled_unsent: int  # cancelled before any unit was assigned (hoax, duplicate, taxi)


def parse_day(text: str) -> dt.date:
    """A calendar date written YYYY-MM-DD; anything else is an ExportError that says so."""
    value = text.strip()
    if not _DATE.fullmatch(value):
        raise ExportError(f"not a date in the form YYYY-MM-DD: {text!r}")
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise ExportError(f"not a valid date: {text!r} ({error})") from error


def recorded_day(*, day: dt.date) -> ExportedDay:
    """The calls of one local day that the replay can use, oldest first.

    A call counts when it was triaged (a priority) and located (coordinates), and was not
    cancelled before a unit was sent: those took no ambulance, so replaying them would
    overstate demand. Raises ExportError when no call is left, naming why.
    """
    zone = clock.local_zone()
    incidents = list(selectors.incidents_received_on(day))
    calls: list[ExportedCall] = []
    untriaged = cancelled_unsent = 0
    for incident in incidents:
        if incident.status == IncidentStatus.CANCELLED and incident.assigned_at is None:
            cancelled_unsent += 1
            continue
        if (
            incident.priority not in PRIORITIES
            or incident.latitude is None
            or incident.longitude is None
        ):
            untriaged += 1
            continue
        calls.append(
            ExportedCall(
                received_at=incident.received_at.astimezone(zone).replace(tzinfo=None),
                latitude=incident.latitude,
                longitude=incident.longitude,
                priority=incident.priority,
            )
        )
    if not incidents:
        when = " (a day still to come)" if day > clock.today() else ""
        raise ExportError(f"no calls were received on {day.isoformat()}{when} ({zone.key})")
    if not calls:
        raise ExportError(
            f"{len(incidents)} incident(s) on {day.isoformat()} but none to replay: "
            f"{untriaged} without a priority or a location, {cancelled_unsent} cancelled "
            "before a unit was sent"
        )
    return ExportedDay(day, tuple(calls), len(incidents), untriaged, cancelled_unsent)


def write_day(day: ExportedDay, handle: TextIO) -> None:
    """The replay CSV: one row per call, local wall-clock time, coordinates as stored."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(REPLAY_COLUMNS)
    for call in day.calls:
        # Full precision both ways: the replay then places each call in the same ward as the
        # live system did, at the same second.
        writer.writerow(
            [call.received_at.isoformat(), repr(call.latitude), repr(call.longitude), call.priority]
        )
