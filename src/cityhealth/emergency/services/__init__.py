"""Use cases of the dispatch centre that write. Keyword-only arguments; they never commit.

Every state change is audited; row locks are taken incident first, then units by id.
"""

from cityhealth.emergency.services.calls import (
    ReceivedCall,
    answer_call,
    cancel_incident,
    confirm_location,
    find_possible_duplicate,
    receive_call,
    record_incident_event,
    record_triage,
    save_call_draft,
    triage_incident,
)
from cityhealth.emergency.services.care import (
    HandoverSummary,
    handover_summary,
    record_treatment,
    record_vitals,
)
from cityhealth.emergency.services.fleet import ensure_demo_fleet
from cityhealth.emergency.services.units import (
    PositionReport,
    PositionsRecorded,
    assign_unit,
    record_positions,
    record_unit_status,
    stand_down,
)

__all__ = [
    "HandoverSummary",
    "PositionReport",
    "PositionsRecorded",
    "ReceivedCall",
    "answer_call",
    "assign_unit",
    "cancel_incident",
    "confirm_location",
    "ensure_demo_fleet",
    "find_possible_duplicate",
    "handover_summary",
    "receive_call",
    "record_incident_event",
    "record_positions",
    "record_treatment",
    "record_triage",
    "record_unit_status",
    "record_vitals",
    "save_call_draft",
    "stand_down",
    "triage_incident",
]
