"""How long until a ticket is called: the patients ahead of it (higher priority, or the same
priority and earlier), times the queue's service time, shared among the points that serve it.
The service time is today's measured median once enough patients were served, else a default
per kind of department (the simplest predictor hospitals use: position × consultation time)."""

from __future__ import annotations

import math
import statistics

from django.db.models import Q

from cityhealth.core import clock
from cityhealth.core.caches import KeptFor
from cityhealth.facilities.enums import DepartmentKind
from cityhealth.facilities.models import Department, ServicePoint
from cityhealth.reception.enums import EntryState
from cityhealth.reception.models import QueueEntry

DEFAULT_MINUTES = {
    DepartmentKind.CLINIC: 6.0,
    DepartmentKind.LAB: 3.0,
    DepartmentKind.IMAGING: 8.0,
    DepartmentKind.DIAGNOSTICS: 10.0,
    DepartmentKind.PHARMACY: 2.0,
    DepartmentKind.CASHIER: 2.0,
    DepartmentKind.RECEPTION: 2.0,
}
MEASURED_AFTER = 5  # served patients today before their median replaces the default
# Every check-in asks it: worked out again at most every 30 s per process.
_service_times = KeptFor(30.0)


def service_minutes(department: Department) -> float:
    """Median minutes from call to end over today's served entries of the queue."""
    return _service_times.get(department.pk, lambda: _measured_minutes(department))


def _measured_minutes(department: Department) -> float:
    day_start = clock.local_now().replace(hour=0, minute=0, second=0, microsecond=0)
    spans = [
        (ended - called).total_seconds() / 60
        for called, ended in QueueEntry.objects.filter(
            department=department, state=EntryState.DONE, called_at__gte=day_start
        ).values_list("called_at", "ended_at")[:500]
        if called is not None and ended is not None and ended > called
    ]
    if len(spans) >= MEASURED_AFTER:
        return statistics.median(spans)
    return DEFAULT_MINUTES.get(DepartmentKind(department.kind), 5.0)


def ahead_of(entry: QueueEntry) -> int:
    """Patients waiting who will be called before `entry` at the same room (or counter pool)."""
    if entry.state != EntryState.WAITING:
        return 0
    before = Q(priority__gt=entry.priority) | Q(
        priority=entry.priority, entered_at__lt=entry.entered_at
    )
    waiting = QueueEntry.objects.filter(
        department_id=entry.department_id, state=EntryState.WAITING
    ).filter(before)
    if entry.service_point_id is not None:
        waiting = waiting.filter(
            Q(service_point_id=entry.service_point_id) | Q(service_point__isnull=True)
        )
    return waiting.count()


def estimate_wait(entry: QueueEntry) -> int:
    """Whole minutes until the entry is likely called (0 once called)."""
    if entry.state != EntryState.WAITING:
        return 0
    department = entry.department
    points = 1
    if entry.service_point_id is None:
        points = max(1, ServicePoint.objects.filter(department=department, is_active=True).count())
    return minutes_for(ahead=ahead_of(entry), department=department, points=points)


def minutes_for(*, ahead: int, department: Department, points: int = 1) -> int:
    """Whole minutes until `ahead` patients are served by `points` rooms or counters."""
    return math.ceil(ahead * service_minutes(department) / points)
