"""What staff do at a room or counter: call the next patient, call again, mark a no-show,
send the patient on to another queue (lab, imaging, back to the clinic, pharmacy, cashier)
or end the visit. One visit keeps its ticket and priority along the whole journey.

Two members of staff pressing "call next" at once get two different patients: an entry is
taken by a conditional UPDATE (`state = waiting`), which only one of them can win; the loser
takes the next one. Locks are taken visit first, then its entry."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q

from cityhealth.accounts.selectors import actor_of, acts_at
from cityhealth.core import clock
from cityhealth.core.access import ensure_permission
from cityhealth.core.roles import Permission
from cityhealth.facilities.enums import DepartmentKind
from cityhealth.facilities.models import Department, ServicePoint
from cityhealth.reception import encounters, errors
from cityhealth.reception.directory import rooms_of
from cityhealth.reception.enums import OPEN_STATES, EntryState, Priority, VisitStatus
from cityhealth.reception.models import QueueEntry, Visit

_TRIES = 5  # candidates tried when others take them first


def _point(principal: object, service_point_id: int) -> ServicePoint:
    ensure_permission(principal, Permission.CALL_PATIENTS)
    point = (
        ServicePoint.objects.select_related("department")
        .filter(pk=service_point_id, is_active=True)
        .first()
    )
    if point is None or not acts_at(principal, point.department.facility_id):
        raise errors.queue_not_found()
    return point


def _entry(principal: object, entry_id: int) -> QueueEntry:
    ensure_permission(principal, Permission.CALL_PATIENTS)
    entry = QueueEntry.objects.select_related("visit", "department").filter(pk=entry_id).first()
    if entry is None or not acts_at(principal, entry.facility_id):
        raise errors.visit_not_found()
    return entry


def call_next(*, principal: object, service_point_id: int) -> QueueEntry:
    """Call the next patient to this room or counter: highest priority first, then the
    earliest arrival; a room takes those sent to it, a counter anyone in its department's
    queue. The patient it called before, if still there, is done."""
    point = _point(principal, service_point_id)
    now = clock.now()
    actor = actor_of(principal)
    for _ in range(_TRIES):
        candidate = (
            QueueEntry.objects.filter(department_id=point.department_id, state=EntryState.WAITING)
            .filter(Q(service_point_id=point.pk) | Q(service_point__isnull=True))
            .order_by("-priority", "entered_at", "id")
            .values_list("pk", flat=True)
            .first()
        )
        if candidate is None:
            raise errors.nothing_waiting()
        with transaction.atomic():
            _finish_called_at(point, now)
            # Still waiting, and still in this queue (the desk may have moved it to another
            # clinic a moment ago): otherwise another caller or the desk got there first.
            taken = QueueEntry.objects.filter(
                pk=candidate, state=EntryState.WAITING, department_id=point.department_id
            ).update(
                state=EntryState.CALLED, called_at=now, announced_at=now, calls=1,
                service_point_id=point.pk, called_by=actor,
            )  # fmt: skip
        if taken:
            return QueueEntry.objects.select_related("visit").get(pk=candidate)
    raise errors.entry_moved_on()


def _finish_called_at(point: ServicePoint, now: dt.datetime) -> None:
    """The patient called here before is served; a visit left with no queue to go to ends
    (the room sent the patient nowhere else)."""
    called = QueueEntry.objects.filter(service_point_id=point.pk, state=EntryState.CALLED)
    visit_ids = list(called.values_list("visit_id", flat=True))
    if not visit_ids:
        return
    called.update(state=EntryState.DONE, ended_at=now)
    ended = list(
        Visit.objects.filter(pk__in=visit_ids, status=VisitStatus.OPEN)
        .exclude(entries__state__in=OPEN_STATES)
        .values_list("pk", flat=True)
    )
    Visit.objects.filter(pk__in=ended).update(status=VisitStatus.DONE, ended_at=now)
    for visit_id in ended:
        encounters.after_commit(visit_id)


def recall(*, principal: object, entry_id: int) -> QueueEntry:
    """Call the same patient again (the board shows the ticket anew)."""
    entry = _entry(principal, entry_id)
    updated = QueueEntry.objects.filter(pk=entry.pk, state=EntryState.CALLED).update(
        announced_at=clock.now(), calls=entry.calls + 1
    )
    if not updated:
        raise errors.entry_moved_on()
    entry.refresh_from_db()
    return entry


def mark_no_show(*, principal: object, entry_id: int) -> QueueEntry:
    """The called patient did not come: the entry ends; the visit stays open, so the desk can
    put them back in a queue when they turn up."""
    entry = _entry(principal, entry_id)
    updated = QueueEntry.objects.filter(pk=entry.pk, state=EntryState.CALLED).update(
        state=EntryState.NO_SHOW, ended_at=clock.now()
    )
    if not updated:
        raise errors.entry_moved_on()
    entry.refresh_from_db()
    return entry


def send_to(*, principal: object, entry_id: int, department_code: str) -> QueueEntry:
    """Move the patient on to another queue of the same hospital: the entry here ends (served
    if called, transferred if still waiting) and a new one waits there, with the visit's
    priority. Back to a clinic already seen today, the patient returns to the same room."""
    entry = _entry(principal, entry_id)
    target = Department.objects.filter(
        facility_id=entry.facility_id, code=department_code[:30]
    ).first()
    if target is None:
        raise errors.queue_not_found()
    if target.pk == entry.department_id:
        raise errors.same_queue()
    now = clock.now()
    with transaction.atomic():
        visit = Visit.objects.select_for_update().get(pk=entry.visit_id)
        if visit.status != VisitStatus.OPEN:
            raise errors.visit_closed()
        current = QueueEntry.objects.select_for_update().get(pk=entry.pk)
        if current.state not in OPEN_STATES:
            raise errors.entry_moved_on()
        current.state = (
            EntryState.DONE if current.state == EntryState.CALLED else EntryState.TRANSFERRED
        )
        current.ended_at = now
        current.save(update_fields=["state", "ended_at"])
        last_step = visit.entries.order_by("-step").values_list("step", flat=True).first() or 0
        encounters.after_commit(visit.pk)
        return QueueEntry.objects.create(
            visit=visit, facility_id=entry.facility_id, department=target,
            service_point=_room_for(visit, target), step=last_step + 1,
            state=EntryState.WAITING, priority=visit.priority, entered_at=now,
        )  # fmt: skip


def _room_for(visit: Visit, department: Department) -> ServicePoint | None:
    """A clinic's room for the patient (the one seen earlier in the visit, else the least
    busy); other queues are served by whichever counter calls first."""
    if department.kind != DepartmentKind.CLINIC:
        return None
    earlier = (
        visit.entries.filter(department=department, service_point__isnull=False)
        .order_by("step")
        .values_list("service_point_id", flat=True)
        .first()
    )
    if earlier is not None:
        return ServicePoint.objects.get(pk=earlier)
    return least_busy_room(department)


@dataclass(frozen=True)
class RoomChoice:
    room: ServicePoint
    ahead: int  # patients waiting there who will be called before one arriving now


def least_busy_room(department: Department) -> ServicePoint:
    """The clinic's open room with the fewest patients waiting (then the first in order)."""
    return choose_room(department).room


def choose_room(department: Department, *, priority: int = Priority.NORMAL) -> RoomChoice:
    """The least busy room (then the first in the department's order) and how many there
    are ahead of a patient of `priority` arriving now: all waiting there of that priority
    or higher, since they came earlier."""
    rooms = rooms_of(department)
    if not rooms:
        raise errors.no_room(department.name)
    counts = _waiting_by_room(department.pk, priority)
    room = min(rooms, key=lambda r: counts.get(r.pk, (0, 0))[0])  # the first of the least
    return RoomChoice(room, counts.get(room.pk, (0, 0))[1])


def _waiting_by_room(department_id: int, priority: int) -> dict[int, tuple[int, int]]:
    """{room: (waiting, of them at `priority` or higher)} in one pass over the queue's
    waiting entries (its index). Every check-in asks: plain SQL, not the ORM's compiling,
    which cost five times the statement itself."""
    table = QueueEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT service_point_id, COUNT(*), "  # noqa: S608 - the model's own table name
            "SUM(CASE WHEN priority >= %s THEN 1 ELSE 0 END) "
            f"FROM {table} WHERE department_id = %s AND state = %s "
            "AND service_point_id IS NOT NULL GROUP BY service_point_id",
            [priority, department_id, EntryState.WAITING.value],
        )
        return {int(point): (int(waiting), int(ahead)) for point, waiting, ahead in cursor}


def finish_visit(*, principal: object, entry_id: int) -> Visit:
    """The journey is over (last counter served): the entry is served and the visit ends."""
    entry = _entry(principal, entry_id)
    now = clock.now()
    with transaction.atomic():
        visit = Visit.objects.select_for_update().get(pk=entry.visit_id)
        if visit.status != VisitStatus.OPEN:
            raise errors.visit_closed()
        visit.entries.filter(state__in=OPEN_STATES).update(state=EntryState.DONE, ended_at=now)
        visit.status = VisitStatus.DONE
        visit.ended_at = now
        visit.save(update_fields=["status", "ended_at"])
        encounters.after_commit(visit.pk)
    return visit


def close_stale_visit(*, visit: Visit) -> None:
    """A visit left open from an earlier day: its open entries and the visit end now."""
    now = clock.now()
    with transaction.atomic():
        visit.entries.filter(state__in=OPEN_STATES).update(state=EntryState.CANCELLED, ended_at=now)
        Visit.objects.filter(pk=visit.pk, status=VisitStatus.OPEN).update(
            status=VisitStatus.CANCELLED, ended_at=now
        )
        encounters.after_commit(visit.pk)
