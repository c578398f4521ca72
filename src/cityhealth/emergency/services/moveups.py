"""Move-ups: after an assignment the system suggests moving a standing ambulance to another
post (computed in the background, `emergency.tasks`); the dispatcher orders or dismisses it.

Only the newest suggestion is open: a new one expires the ones before it, since the fleet
it was computed for has changed.
"""

from __future__ import annotations

import datetime as dt

from cityhealth.core import clock
from cityhealth.emergency import errors
from cityhealth.emergency.enums import MoveUpStatus, UnitStatus
from cityhealth.emergency.models import Incident, MoveUp
from cityhealth.emergency.moveup import plan_move_up
from cityhealth.emergency.routing import TravelModel
from cityhealth.emergency.services._shared import audit, lock_unit
from cityhealth.emergency.services.units import record_unit_status


def suggest_move_up(
    *,
    after_incident: Incident | None = None,
    at: dt.datetime | None = None,
    model: TravelModel | None = None,
    actor: str = "system",
) -> MoveUp | None:
    """Compute the move-up worth making now and put it before the dispatcher (or nothing)."""
    when = at or clock.now()
    planned = plan_move_up(at=when, model=model)
    MoveUp.objects.filter(status=MoveUpStatus.PROPOSED).update(
        status=MoveUpStatus.EXPIRED, decided_at=when, decided_by=actor
    )
    if planned is None:
        return None
    move_up = MoveUp.objects.create(
        unit=planned.unit,
        post=planned.post,
        after_incident=after_incident,
        gain_share=planned.gain_share,
        gain_residents=planned.gain_residents,
        drive_seconds=planned.drive_seconds,
        suggested_at=when,
    )
    audit(
        "unit.move_up_suggested",
        actor=actor,
        target_type="unit",
        target_id=planned.unit.pk,
        details={
            "post": planned.post.code,
            "gain_residents": planned.gain_residents,
            "after_incident": after_incident.number if after_incident else None,
        },
    )
    return move_up


def order_move_up(*, move_up: MoveUp, actor: str) -> MoveUp:
    """Send the unit to the post: it drives there (returning) and waits there for its next
    job. Refused if the suggestion is no longer open or the unit is no longer standing."""
    move_up = MoveUp.objects.select_for_update().get(pk=move_up.pk)
    if move_up.status != MoveUpStatus.PROPOSED:
        raise errors.move_up_closed()
    unit = lock_unit(move_up.unit_id)
    if unit.status != UnitStatus.AVAILABLE:
        raise errors.unit_not_available(unit=unit.code, status=unit.status)
    unit = record_unit_status(
        unit=unit, status=UnitStatus.RETURNING, actor=actor, source="dispatcher"
    )
    unit.standby_post_id = move_up.post_id
    unit.save(update_fields=["standby_post"])
    return _decide(move_up, MoveUpStatus.ORDERED, actor=actor)


def dismiss_move_up(*, move_up: MoveUp, actor: str) -> MoveUp:
    move_up = MoveUp.objects.select_for_update().get(pk=move_up.pk)
    if move_up.status != MoveUpStatus.PROPOSED:
        raise errors.move_up_closed()
    return _decide(move_up, MoveUpStatus.DISMISSED, actor=actor)


def _decide(move_up: MoveUp, status: MoveUpStatus, *, actor: str) -> MoveUp:
    move_up.status = status
    move_up.decided_at = clock.now()
    move_up.decided_by = actor
    move_up.save(update_fields=["status", "decided_at", "decided_by"])
    audit(
        f"unit.move_up_{status.value}",
        actor=actor,
        target_type="unit",
        target_id=move_up.unit_id,
        details={"move_up": move_up.pk, "post": move_up.post_id},
    )
    return move_up
