"""Waiting statistics of a hospital (or one of its queues) over a period, from the timestamps
every visit and queue entry keeps: the kiosk's flow time (first touch to ticket), the wait
until called, the service time (called to done), and throughput, overall, by priority and by
hour of the day (the city's wall clock)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from django.utils.translation import gettext as _

from cityhealth.accounts.selectors import acts_at
from cityhealth.core import clock
from cityhealth.core.access import ensure_permission
from cityhealth.core.roles import Permission
from cityhealth.facilities.models import Facility
from cityhealth.reception import errors
from cityhealth.reception.enums import Channel, EntryState, PriorityGroup
from cityhealth.reception.models import QueueEntry, Visit


@dataclass(frozen=True)
class Spread:
    """Minutes: how many measured, their median and 90th centile."""

    count: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, minutes: Iterable[float]) -> Spread:
        values = np.fromiter(minutes, dtype=float)
        if not len(values):
            return cls(0, None, None)
        median, p90 = np.percentile(values, [50, 90])
        return cls(len(values), round(float(median), 1), round(float(p90), 1))


@dataclass(frozen=True)
class Row:
    key: str  # the priority group's code, "" for none; the hour "08"
    label: str
    waits: Spread  # entered the queue → first called
    service: Spread  # called → served
    served: int


@dataclass(frozen=True)
class QueueStatistics:
    facility: Facility
    first: dt.date
    last: dt.date
    visits: int
    kiosk_flow: Spread  # first touch at the kiosk → ticket (minutes)
    overall: Row
    by_group: list[Row]  # a visit in two priority groups counts in both
    by_hour: list[Row]  # served per hour is the hour's throughput


# (entered, first called, ended, state) of one queue entry
_Times = tuple[dt.datetime, dt.datetime | None, dt.datetime | None, str]
NO_GROUP = ""


def _minutes(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    if start is None or end is None or end < start:
        return None
    return (end - start).total_seconds() / 60


def _row(key: str, label: str, entries: list[_Times]) -> Row:
    waits = [m for entered, called, _, _ in entries if (m := _minutes(entered, called)) is not None]
    service = [
        m
        for _, called, ended, state in entries
        if state == EntryState.DONE and (m := _minutes(called, ended)) is not None
    ]
    served = sum(1 for *_, state in entries if state == EntryState.DONE)
    return Row(key, label, Spread.of(waits), Spread.of(service), served)


def queue_statistics(
    *,
    principal: object,
    facility: Facility,
    first: dt.date,
    last: dt.date,
    department_code: str = "",
) -> QueueStatistics:
    """The figures of `facility` from `first` to `last` (inclusive, the city's days), for one
    department when `department_code` is given."""
    ensure_permission(principal, Permission.VIEW_QUEUE_STATS)
    if not acts_at(principal, facility.pk):
        raise errors.facility_not_found()
    if last < first or (last - first).days > 92:
        raise errors.bad_period()
    zone = clock.local_zone()
    start = dt.datetime.combine(first, dt.time(), zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone)
    entries = QueueEntry.objects.filter(
        facility=facility, entered_at__gte=start, entered_at__lt=end
    )
    if department_code:
        entries = entries.filter(department__code=department_code[:30])
    rows = list(
        entries.values_list(
            "entered_at", "called_at", "ended_at", "state", "visit__priority_groups"
        )
    )
    visits = Visit.objects.filter(facility=facility, day__gte=first, day__lte=last)
    kiosk = visits.filter(channel=Channel.KIOSK, started_at__isnull=False).values_list(
        "started_at", "checked_in_at"
    )
    by_group: dict[str, list[_Times]] = defaultdict(list)
    by_hour: dict[int, list[_Times]] = defaultdict(list)
    for entered, called, ended, state, groups in rows:
        times = (entered, called, ended, state)
        for group in groups or [NO_GROUP]:
            by_group[group].append(times)
        by_hour[entered.astimezone(zone).hour].append(times)
    everything = [(e, c, d, state) for e, c, d, state, _groups in rows]
    return QueueStatistics(
        facility=facility,
        first=first,
        last=last,
        visits=visits.count(),
        kiosk_flow=Spread.of(
            m for started, done in kiosk if (m := _minutes(started, done)) is not None
        ),
        overall=_row("", "", everything),
        by_group=[
            _row(
                group,
                str(PriorityGroup(group).label) if group != NO_GROUP else str(_("No priority")),
                by_group[group],
            )
            for group in [*PriorityGroup.values, NO_GROUP]
            if group in by_group
        ],
        by_hour=[_row(f"{hour:02d}", f"{hour:02d}:00", by_hour[hour]) for hour in sorted(by_hour)],
    )
