"""What goes into and comes out of the matcher."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cityhealth.people.enums import DatePrecision, MatchOutcome


@dataclass(frozen=True)
class IncomingRecord:
    """A person as another system describes them (a legacy hospital record, a guardian's
    registration of a child, a foreigner's papers). Every field may be missing or wrong."""

    full_name: str
    birth_date: dt.date | None = None
    birth_year: int | None = None
    birth_date_precision: DatePrecision = DatePrecision.DAY
    sex: str = ""  # "male", "female" or ""
    citizen_id: str = ""
    social_insurance_number: str = ""
    passport: str = ""
    nationality: str = ""
    phone: str = ""
    ward_code: str = ""
    address: str = ""
    guardian_citizen_id: str = ""  # for a child registered on a guardian's ID
    source_record_id: str = ""  # the sender's own id for this record


@dataclass(frozen=True)
class Candidate:
    person_id: int
    match_probability: float  # 0..1
    match_weight: float  # log2 Bayes factor, summed over the comparisons
    reasons: tuple[str, ...] = ()  # which comparisons agreed, for the review page


@dataclass(frozen=True)
class MatchResult:
    outcome: MatchOutcome
    person_id: int | None  # the linked person, for LINK
    candidates: tuple[Candidate, ...] = field(default_factory=tuple)  # best first
    method: str = ""  # "citizen_id", "guardian_key", "probabilistic", ...
