"""Background work of the dispatch centre (run by the task worker, after the commit that
asked for it)."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from cityhealth.emergency.models import Incident


@task()
def suggest_move_up_after_assignment(*, incident_id: int) -> int | None:
    """Work out the move-up the new assignment calls for; the suggestion's id, if any."""
    from cityhealth.emergency.services.moveups import suggest_move_up

    with transaction.atomic():
        incident = Incident.objects.filter(pk=incident_id).first()
        move_up = suggest_move_up(after_incident=incident)
        return move_up.pk if move_up else None
