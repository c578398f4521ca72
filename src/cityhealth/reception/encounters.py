"""A visit as the shared record's Encounter (`Encounter/visit-{id}`): the hospital's own
record of the outpatient visit, written by the task worker after the commit that opened,
moved or ended the visit, so other hospitals (and the resident) see it with the rest of the
record. Rewritten whole each time: the visit is the source, the Encounter its projection.

Which visits are behind is kept in the database (`EncounterDue`, written with the change),
not in one queued task per change: a check-in adds one small row, and one worker run a
second later writes every Encounter that fell behind meanwhile."""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

from django.db import connection, transaction
from django.db.models.constants import OnConflict
from django_tasks import task

from cityhealth.core import clock
from cityhealth.reception.enums import Priority, VisitStatus
from cityhealth.reception.models import EncounterDue, Visit
from cityhealth.records.services import update_resource

_STATUS = {
    VisitStatus.OPEN: "arrived",
    VisitStatus.DONE: "finished",
    VisitStatus.CANCELLED: "cancelled",
}
_PRIORITY = {Priority.NORMAL: "R", Priority.PRIORITY: "UR", Priority.EMERGENCY: "EM"}
VISIT_SYSTEM = "urn:cityhealth:reception-visit"
logger = logging.getLogger(__name__)


def logical_id(visit_id: int) -> str:
    return f"visit-{visit_id}"


def encounter_of(visit: Visit) -> dict[str, Any]:
    """The Encounter: status, ambulatory class, priority, the patient, the period, and the
    rooms and counters the visit passed through, in order."""
    period: dict[str, str] = {"start": visit.checked_in_at.isoformat()}
    if visit.ended_at is not None:
        period["end"] = visit.ended_at.isoformat()
    locations = [
        {"location": {"display": entry.service_point.name}, "status": "completed"}
        for entry in visit.entries.select_related("service_point").order_by("step")
        if entry.service_point is not None
    ]
    body: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": logical_id(visit.pk),
        "identifier": [{"system": VISIT_SYSTEM, "value": f"{visit.facility.code}/{visit.pk}"}],
        "status": _STATUS[VisitStatus(visit.status)],
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "AMB",
            "display": "ambulatory",
        },
        "priority": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ActPriority",
                    "code": _PRIORITY[Priority(visit.priority)],
                }
            ]
        },
        "subject": {"reference": f"Patient/{visit.person_id}"},
        "period": period,
        "serviceProvider": {"display": visit.facility.name},
    }
    if locations:
        body["location"] = locations
    return body


def record_encounter(visit_id: int) -> str:
    """Write the visit's Encounter into the shared record (in the caller's transaction);
    the Encounter's version afterwards."""
    visit = Visit.objects.select_related("facility").get(pk=visit_id)
    written, _ = update_resource(
        resource_type="Encounter",
        logical_id=logical_id(visit.pk),
        body=encounter_of(visit),
        source=visit.facility.code,
    )
    return f"Encounter/{written.logical_id}/_history/{written.version_id}"


@task()
def record_due_encounters() -> int:
    """Bring every due visit's Encounter up to date, one visit per transaction (its due row
    locked meanwhile, so two workers never write the same one, and a change to the visit
    made meanwhile makes it due again); how many were written. A visit that fails is left
    due for the next run and does not hold up the others."""
    written, failed = 0, set[int]()
    while True:
        with transaction.atomic():
            due = (
                EncounterDue.objects.select_for_update(skip_locked=True)
                .exclude(visit_id__in=failed)
                .order_by("visit_id")
                .first()
            )
            if due is None:
                return written
            try:
                with transaction.atomic():
                    record_encounter(due.visit_id)
            except Exception:
                logger.exception("Encounter of visit %s not written; left due", due.visit_id)
                failed.add(due.visit_id)
                continue
            EncounterDue.objects.filter(visit_id=due.visit_id).delete()
            written += 1


def after_commit(visit_id: int) -> None:
    """The visit changed: its Encounter is due (marked in the caller's transaction), and the
    worker is asked, once that commits, to write the due ones."""
    with connection.cursor() as cursor:
        cursor.execute(_mark_due_sql(), [visit_id])
    transaction.on_commit(request_recording)


def _mark_due_sql() -> str:
    # Already due (changed again before the worker came): nothing to add. Plain SQL, as it
    # runs in every check-in: INSERT OR IGNORE on SQLite, ON CONFLICT DO NOTHING elsewhere.
    ops, table = connection.ops, EncounterDue._meta.db_table
    insert = ops.insert_statement(on_conflict=OnConflict.IGNORE)
    suffix = ops.on_conflict_suffix_sql([], OnConflict.IGNORE, [], [])
    return f"{insert} {table} (visit_id) VALUES (%s) {suffix}"


_RECORD_DELAY = dt.timedelta(seconds=1)
_last_request = 0.0


def request_recording() -> None:
    """Ask the worker to write the due Encounters: at most once a second per process, a
    second from now, so that one run writes all that became due in between (each of those
    commits came before the run's time)."""
    global _last_request
    now = time.monotonic()
    if now - _last_request < _RECORD_DELAY.total_seconds():
        return
    _last_request = now
    record_due_encounters.using(run_after=clock.now() + _RECORD_DELAY).enqueue()
