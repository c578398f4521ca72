"""A visit as the shared record's Encounter (`Encounter/visit-{id}`): the hospital's own
record of the outpatient visit, written by the task worker after the commit that opened,
moved or ended the visit, so other hospitals (and the resident) see it with the rest of the
record. Rewritten whole each time: the visit is the source, the Encounter its projection."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_tasks import task

from cityhealth.reception.enums import Priority, VisitStatus
from cityhealth.reception.models import Visit
from cityhealth.records.services import update_resource

_STATUS = {
    VisitStatus.OPEN: "arrived",
    VisitStatus.DONE: "finished",
    VisitStatus.CANCELLED: "cancelled",
}
_PRIORITY = {Priority.NORMAL: "R", Priority.PRIORITY: "UR", Priority.EMERGENCY: "EM"}
VISIT_SYSTEM = "urn:cityhealth:reception-visit"


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


@task()
def record_encounter(*, visit_id: int) -> str:
    """Write the visit's Encounter into the shared record (the worker runs it after the
    commit); the Encounter's version afterwards."""
    visit = Visit.objects.select_related("facility").get(pk=visit_id)
    with transaction.atomic():
        written, _ = update_resource(
            resource_type="Encounter",
            logical_id=logical_id(visit.pk),
            body=encounter_of(visit),
            source=visit.facility.code,
        )
    return f"Encounter/{written.logical_id}/_history/{written.version_id}"


def after_commit(visit_id: int) -> None:
    """Ask the worker, once the visit's transaction has committed, to bring the Encounter up
    to date."""
    transaction.on_commit(lambda: record_encounter.enqueue(visit_id=visit_id))
