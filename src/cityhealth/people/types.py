"""Plain values of the person registry that other apps may use: the matcher's input and
output, and the identifier systems a person's FHIR Patient is written with."""

from cityhealth.people.fhir import (
    HOSPITAL_RECORD_SYSTEM,
    IDENTIFIER_SYSTEMS,
    INTERNAL_ID_SYSTEM,
    V2_IDENTIFIER_TYPE,
)
from cityhealth.people.matching.types import Candidate, IncomingRecord, MatchResult

__all__ = [
    "HOSPITAL_RECORD_SYSTEM",
    "IDENTIFIER_SYSTEMS",
    "INTERNAL_ID_SYSTEM",
    "V2_IDENTIFIER_TYPE",
    "Candidate",
    "IncomingRecord",
    "MatchResult",
]
