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
from cityhealth.emergency.services.destination import (
    CapabilitiesLoaded,
    DestinationOption,
    acknowledge_pre_alert,
    choose_destination,
    close_pre_alert,
    load_hospital_capabilities,
    required_capability,
    send_pre_alert,
    update_ed_status,
)
from cityhealth.emergency.services.fleet import ensure_demo_fleet
from cityhealth.emergency.services.handset import (
    HandsetLocationReceived,
    record_handset_location,
)
from cityhealth.emergency.services.moveups import (
    dismiss_move_up,
    order_move_up,
    suggest_move_up,
)
from cityhealth.emergency.services.units import (
    PositionReport,
    PositionsRecorded,
    assign_unit,
    record_positions,
    record_unit_status,
    stand_down,
)

__all__ = [
    "CapabilitiesLoaded",
    "DestinationOption",
    "HandoverSummary",
    "HandsetLocationReceived",
    "PositionReport",
    "PositionsRecorded",
    "ReceivedCall",
    "acknowledge_pre_alert",
    "answer_call",
    "assign_unit",
    "cancel_incident",
    "choose_destination",
    "close_pre_alert",
    "confirm_location",
    "dismiss_move_up",
    "ensure_demo_fleet",
    "find_possible_duplicate",
    "handover_summary",
    "load_hospital_capabilities",
    "order_move_up",
    "receive_call",
    "record_handset_location",
    "record_incident_event",
    "record_positions",
    "record_treatment",
    "record_triage",
    "record_unit_status",
    "record_vitals",
    "required_capability",
    "save_call_draft",
    "send_pre_alert",
    "stand_down",
    "suggest_move_up",
    "triage_incident",
    "update_ed_status",
]
