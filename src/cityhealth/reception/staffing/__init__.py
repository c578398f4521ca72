"""Counter staffing for reception and the stations of an outpatient visit.

Erlang C answers "how many counters does one station need for 80 % called within 2 minutes"
(`counters_needed`, `evaluate`); the discrete-event simulation (`simulate`) follows a whole
morning through the multi-step journey with priority classes, where Erlang C no longer applies.
Pure Python and NumPy: no tables, no Django models.
"""

from cityhealth.reception.staffing.erlang import (
    Recommendation,
    StaffingFigures,
    counters_needed,
    erlang_b,
    evaluate,
    mean_wait,
    offered_load,
    probability_of_waiting,
    service_level,
    wait_percentile,
)
from cityhealth.reception.staffing.model import (
    MAX_VISITS,
    ArrivalProfile,
    Journey,
    PriorityClass,
    Scenario,
    ServiceTime,
    Station,
    Step,
    expected_passes,
    station_passes,
    validate,
)
from cityhealth.reception.staffing.scenarios import (
    MorningPlan,
    outpatient_morning,
    single_queue,
)
from cityhealth.reception.staffing.simulation import (
    HourFigures,
    MorningOutcome,
    StationOutcome,
    simulate,
)
from cityhealth.reception.staffing.stats import WaitSummary

__all__ = [
    "MAX_VISITS",
    "ArrivalProfile",
    "HourFigures",
    "Journey",
    "MorningOutcome",
    "MorningPlan",
    "PriorityClass",
    "Recommendation",
    "Scenario",
    "ServiceTime",
    "StaffingFigures",
    "Station",
    "StationOutcome",
    "Step",
    "WaitSummary",
    "counters_needed",
    "erlang_b",
    "evaluate",
    "expected_passes",
    "mean_wait",
    "offered_load",
    "outpatient_morning",
    "probability_of_waiting",
    "service_level",
    "simulate",
    "single_queue",
    "station_passes",
    "validate",
    "wait_percentile",
]
