"""115 call triage by the platform's own open protocol, kept as versioned data.

The protocol (data/emergency/triage/protocol-v*.json) maps a chief complaint and a few key
questions to a priority P1 (life-threatening) … P4 (non-urgent), a level of care and the
pre-arrival instructions read to the caller. This package loads and checks it and walks it;
storing the outcome on an incident is the caller's business (`TriageOutcome.as_record()`).

    protocol = current_protocol()
    search_complaints(protocol, text="dau nguc")            # → (CHEST, …)
    next_question(protocol, complaint_code="CHEST", answers={"U.conscious": "yes"})
    evaluate(protocol, complaint_code="CHEST", answers={...})  # → TriageOutcome
"""

from cityhealth.emergency.triage.engine import evaluate, next_question, search_complaints
from cityhealth.emergency.triage.loader import ProtocolError, load_protocol, parse_protocol
from cityhealth.emergency.triage.model import (
    AskedQuestion,
    Care,
    Complaint,
    Instruction,
    Motorbike,
    Option,
    Outcome,
    Priority,
    Protocol,
    Question,
    Text,
    TriageOutcome,
)
from cityhealth.emergency.triage.versions import (
    available_protocols,
    current_protocol,
    protocol,
    reload_protocols,
)

__all__ = [
    "AskedQuestion",
    "Care",
    "Complaint",
    "Instruction",
    "Motorbike",
    "Option",
    "Outcome",
    "Priority",
    "Protocol",
    "ProtocolError",
    "Question",
    "Text",
    "TriageOutcome",
    "available_protocols",
    "current_protocol",
    "evaluate",
    "load_protocol",
    "next_question",
    "parse_protocol",
    "protocol",
    "reload_protocols",
    "search_complaints",
]
