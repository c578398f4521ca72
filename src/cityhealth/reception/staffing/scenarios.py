"""Ready-made scenarios: one queue (to check the simulation against Erlang C) and an
outpatient morning of a Vietnamese public hospital, its stations sized by Erlang C.

The morning follows the outpatient path hospitals publish (register with the citizen ID card
→ clinic → lab or imaging → back to the clinic with results → pay the co-payment → pharmacy).
Service times and branch shares below are planning assumptions to be replaced by a
hospital's own statistics; only the 4-minute staffed counter comes from a published
illustration (the 600-arrivals-an-hour morning peak example).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cityhealth.reception.staffing import errors
from cityhealth.reception.staffing.erlang import Recommendation, counters_needed
from cityhealth.reception.staffing.model import (
    ArrivalProfile,
    Journey,
    PriorityClass,
    Scenario,
    ServiceTime,
    Station,
    Step,
    mean_service,
    station_passes,
)

START_HOUR = 6
# Arrivals per hour relative to the peak hour (07:00–08:00): most outpatients come in the
# first two hours after the doors open; an assumed shape until a hospital's own counts replace it.
PEAK_SHAPE = (0.45, 1.0, 0.85, 0.6, 0.35, 0.15)
PRIORITY_SHARE = 0.2  # children under 6, pregnant women, 75 and over, severe disability, …
LAB_SHARE = 0.6  # of first consultations that order tests or imaging
PRESCRIPTION_SHARE = 0.8  # of visits that pay and then collect medicine

STATIONS = ("reception", "clinic", "lab", "cashier", "pharmacy")

_SERVICES = {
    "reception": ServiceTime(4.0),
    "clinic": ServiceTime(8.0, "lognormal", cv=0.5),
    "lab": ServiceTime(6.0, "lognormal", cv=0.6),
    "cashier": ServiceTime(2.0),
    "pharmacy": ServiceTime(3.0),
}

OUTPATIENT_JOURNEY = Journey(
    first="register",
    steps=(
        Step("register", "reception", then=(("consult", 1.0),)),
        Step("consult", "clinic", then=(("tests", LAB_SHARE), ("pay", 1.0 - LAB_SHARE))),
        Step("tests", "lab", then=(("review", 1.0),)),
        # Reading results takes half a first consultation.
        Step("review", "clinic", ServiceTime(4.0, "lognormal", cv=0.5), then=(("pay", 1.0),)),
        Step("pay", "cashier", then=(("dispense", PRESCRIPTION_SHARE),)),
        Step("dispense", "pharmacy"),
    ),
)

STATUTORY_CLASSES = (
    PriorityClass("priority", PRIORITY_SHARE),
    PriorityClass("general", 1.0 - PRIORITY_SHARE),
)


def single_queue(
    *,
    arrivals_per_hour: float,
    service_minutes: float,
    counters: int,
    hours: int,
    warmup_minutes: float = 0.0,
    classes: tuple[PriorityClass, ...] = (PriorityClass("general", 1.0),),
) -> Scenario:
    """One station, exponential service, a constant rate for `hours`: Erlang C's own model."""
    return Scenario(
        stations=(Station("counter", counters, ServiceTime(service_minutes)),),
        journey=Journey(first="serve", steps=(Step("serve", "counter"),)),
        arrivals=ArrivalProfile(start_hour=0, per_hour=(float(arrivals_per_hour),) * hours),
        classes=classes,
        warmup_minutes=warmup_minutes,
    )


@dataclass(frozen=True)
class MorningPlan:
    scenario: Scenario
    # Erlang C at the peak hour, station by station (the load a station sees is the peak
    # arrivals times its services per visit).
    recommendations: dict[str, Recommendation]


def outpatient_morning(
    *,
    peak_per_hour: float,
    target_minutes: float,
    target_share: float,
    max_occupancy: float = 1.0,
    reception_minutes: float | None = None,
    priority_share: float = PRIORITY_SHARE,
    counters: Mapping[str, int] | None = None,
) -> MorningPlan:
    """The outpatient morning with `peak_per_hour` arrivals in its busiest hour, each station
    given the counters Erlang C asks for at the peak unless `counters` names them."""
    if not 0.0 <= priority_share < 1.0:
        raise errors.share_out_of_range(field="priority_share", value=priority_share)
    services = dict(_SERVICES)
    if reception_minutes is not None:
        services["reception"] = ServiceTime(reception_minutes)
    classes = (
        (PriorityClass("priority", priority_share), PriorityClass("general", 1.0 - priority_share))
        if 0.0 < priority_share < 1.0
        else (PriorityClass("general", 1.0),)
    )
    draft = Scenario(
        stations=tuple(Station(name, 1, services[name]) for name in STATIONS),
        journey=OUTPATIENT_JOURNEY,
        arrivals=ArrivalProfile(
            start_hour=START_HOUR, per_hour=tuple(peak_per_hour * k for k in PEAK_SHAPE)
        ),
        classes=classes,
    )
    per_visit = station_passes(draft)
    recommendations = {
        name: counters_needed(
            arrivals_per_hour=peak_per_hour * per_visit[name],
            service_minutes=mean_service(draft, name),
            target_minutes=target_minutes,
            target_share=target_share,
            max_occupancy=max_occupancy,
        )
        for name in STATIONS
    }
    chosen = dict(counters or {})
    stations = tuple(
        Station(name, chosen.get(name, recommendations[name].counters), services[name])
        for name in STATIONS
    )
    return MorningPlan(
        scenario=Scenario(
            stations=stations,
            journey=draft.journey,
            arrivals=draft.arrivals,
            classes=draft.classes,
        ),
        recommendations=recommendations,
    )
