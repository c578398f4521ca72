"""Reads of the dispatch centre: incidents and units, for the console and the crews."""

from __future__ import annotations

from django.db.models import QuerySet

from cityhealth.emergency import errors
from cityhealth.emergency.enums import OPEN_INCIDENT_STATUSES
from cityhealth.emergency.models import Incident, Unit

MAX_ID = 2**63 - 1


def get_incident(incident_id: int) -> Incident:
    incident = (
        Incident.objects.select_related("ward", "possible_duplicate_of")
        .filter(pk=incident_id)
        .first()
        if 0 < incident_id <= MAX_ID
        else None
    )
    if incident is None:
        raise errors.incident_not_found()
    return incident


def open_incidents() -> QuerySet[Incident]:
    """The dispatch queue: open incidents, the most urgent first, then the oldest."""
    return (
        Incident.objects.filter(status__in=OPEN_INCIDENT_STATUSES)
        .select_related("ward", "possible_duplicate_of")
        .order_by("priority", "received_at")
    )


def get_unit(code: str) -> Unit:
    unit = Unit.objects.select_related("incident").filter(code=code.strip()[:30]).first()
    if unit is None:
        raise errors.unit_not_found()
    return unit


def list_units() -> QuerySet[Unit]:
    return Unit.objects.filter(is_active=True).select_related("incident", "home")
