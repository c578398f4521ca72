"""How many patients and hospital transports to expect, and what resources to bring.

Two methods, both reported:

* an Arbon-style rate model. Arbon, Bridgewater & Smith (Prehosp Disaster Med 2001;16:150)
  surveyed 201 Australian events over 25,000 people: 0.992 patients and 0.027 transports per
  1,000 attendees. Their regression coefficients are not in our reference, only the directions
  (rates fall slightly with crowd size, rise with humidity, depend on crowd mobility and event
  type), so the planner scales the published mean rates by multipliers whose sizes are ASSUMED
  (listed in `FACTORS`, data/emergency/planning/SOURCE.md);
* Maurer's score (`maurer.py`), which sizes resources from crowd, event type and risk.

Transports: the A80 parade sent ≈ 9% of its patients to hospital (43 of 482, hanoi.md §5.3),
against 2.7% in Arbon's data, so the expected figure uses the local share.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cityhealth.emergency.planning import maurer
from cityhealth.emergency.planning.event import (
    EventKind,
    EventSpec,
    Locator,
    Mobility,
    Place,
    check_event,
)

ARBON_PPR_PER_1000 = 0.992
ARBON_TTHR_PER_1000 = 0.027
ARBON_MEAN_CROWD = 60_000  # 12 M attendees / 201 events: the crowd the mean rates describe
LOCAL_TRANSPORT_SHARE = 43 / 482  # A80 parade, 10–30/08/2025 (hanoi.md §5.3)
# The band around the expected count: Rome's 0.5 per 1,000 is half Arbon's rate; twice the
# expected count is an assumed ceiling (Ghent's festivities ran above the models' predictions).
LOW_FACTOR = 0.5
HIGH_FACTOR = 2.0

# ASSUMED multipliers on the rate (direction from the literature, size a judgement).
CROWD_EXPONENT = -0.1  # "PPR falls slightly with crowd size" (Arbon 2001)
HEAT_PER_DEGREE = 0.03  # per °C of heat index above the comfort threshold
HEAT_THRESHOLD_C = 27.0  # the NWS heat index starts its "caution" band at 80 °F ≈ 27 °C
INDOOR_HEAT_INDEX_C = 24.0  # a ventilated hall
KIND: dict[EventKind, float] = {
    EventKind.EXHIBITION: 0.6,
    EventKind.SPORT: 0.8,
    EventKind.PARADE: 1.0,
    EventKind.FESTIVAL: 1.0,
    EventKind.RELIGIOUS: 1.0,
    EventKind.CONCERT: 1.5,
    EventKind.MARATHON: 2.0,
}
MOBILITY: dict[Mobility, float] = {
    Mobility.SEATED: 0.8,
    Mobility.STANDING: 1.0,
    Mobility.MOBILE: 1.2,
}
ALCOHOL = 1.2
OVER_60_SLOPE = 1.5  # +15% per 10 points of over-60s above a 10% baseline
REFERENCE_HOURS = 6.0  # a typical single-day event of Arbon's sample (assumed)


@dataclass(frozen=True)
class Band:
    low: float
    expected: float
    high: float


@dataclass(frozen=True)
class Factor:
    code: str
    value: float
    en: str
    vi: str


@dataclass(frozen=True)
class Recommendation:
    """What to deploy: Maurer's per-place sum, at least one first-aid post per place."""

    first_aid_teams: int
    ambulances: int
    physicians: int
    posts: int
    staff: int


@dataclass(frozen=True)
class CasualtyEstimate:
    crowd: int
    heat_index_c: float
    ppr_per_1000: float  # crowd-weighted, after every factor
    tthr_per_1000: float  # Arbon's transport rate after every factor
    factors: tuple[Factor, ...]
    patients: Band
    transports: Band
    arbon_transports: float
    maurer_places: tuple[maurer.MaurerResources, ...]
    maurer_total: maurer.MaurerResources
    maurer_whole_event: maurer.MaurerResources
    recommended: Recommendation
    method_en: str
    method_vi: str


def estimate_casualties(
    *, event: EventSpec, inside_city: Locator | None = None
) -> CasualtyEstimate:
    """Patients and transports (low / expected / high) and the resources Maurer recommends."""
    check_event(event, inside_city=inside_city)
    heat = heat_index_c(event.temperature_c, event.humidity_pct)
    felt = INDOOR_HEAT_INDEX_C if event.indoor else heat
    factors = _event_factors(event, felt)
    common = math.prod(f.value for f in factors)
    patients = sum(
        place.crowd / 1000 * ARBON_PPR_PER_1000 * _crowd(place) for place in event.places
    )
    patients *= common
    arbon_transports = patients * ARBON_TTHR_PER_1000 / ARBON_PPR_PER_1000
    places = maurer.per_place(event)
    total = places[0]
    for extra in places[1:]:
        total = total + extra
    return CasualtyEstimate(
        crowd=event.crowd,
        heat_index_c=heat,
        ppr_per_1000=patients / event.crowd * 1000,
        tthr_per_1000=arbon_transports / event.crowd * 1000,
        factors=factors,
        patients=Band(patients * LOW_FACTOR, patients, patients * HIGH_FACTOR),
        transports=Band(
            low=arbon_transports * LOW_FACTOR,
            expected=patients * LOCAL_TRANSPORT_SHARE,
            high=patients * HIGH_FACTOR * LOCAL_TRANSPORT_SHARE,
        ),
        arbon_transports=arbon_transports,
        maurer_places=places,
        maurer_total=total,
        maurer_whole_event=maurer.whole_event(event),
        recommended=Recommendation(
            first_aid_teams=total.first_aid_teams,
            ambulances=total.ambulances,
            physicians=total.physicians,
            posts=max(total.treatment_posts, len(event.places)),
            staff=total.helpers + total.physicians + 2 * total.ambulances,
        ),
        method_en=(
            "Arbon 2001 mean rates (0.992 patients, 0.027 transports per 1,000) scaled by "
            "assumed factors; transports at the A80 local share (9%); resources by Maurer's "
            "score per place."
        ),
        method_vi=(
            "Tỷ lệ trung bình của Arbon 2001 (0,992 bệnh nhân; 0,027 ca chuyển viện trên 1.000 "
            "người) nhân với các hệ số giả định; ca chuyển viện theo tỷ lệ thực tế A80 (9%); "
            "nguồn lực theo thang điểm Maurer cho từng địa điểm."
        ),
    )


def heat_index_c(temperature_c: float, humidity_pct: float) -> float:
    """The US National Weather Service heat index (Rothfusz regression), in °C.

    Below 80 °F the regression does not apply and the air temperature is returned.
    """
    t = temperature_c * 9 / 5 + 32
    rh = min(max(humidity_pct, 0.0), 100.0)
    if t < 80:
        return temperature_c
    hi = (
        -42.379
        + 2.04901523 * t
        + 10.14333127 * rh
        - 0.22475541 * t * rh
        - 6.83783e-3 * t * t
        - 5.481717e-2 * rh * rh
        + 1.22874e-3 * t * t * rh
        + 8.5282e-4 * t * rh * rh
        - 1.99e-6 * t * t * rh * rh
    )
    return (hi - 32) * 5 / 9


def _crowd(place: Place) -> float:
    return float((place.crowd / ARBON_MEAN_CROWD) ** CROWD_EXPONENT)


def _event_factors(event: EventSpec, felt_c: float) -> tuple[Factor, ...]:
    hours = event.duration_hours
    one_day = min(max(math.sqrt(min(hours, 24.0) / REFERENCE_HOURS), 0.7), 2.0)
    return (
        Factor(
            "heat",
            math.exp(HEAT_PER_DEGREE * max(0.0, felt_c - HEAT_THRESHOLD_C)),
            f"heat index {felt_c:.0f} °C",
            f"chỉ số nhiệt {felt_c:.0f} °C",
        ),
        Factor(
            "kind", KIND[event.kind], f"event kind: {event.kind}", f"loại sự kiện: {event.kind}"
        ),
        Factor(
            "mobility",
            MOBILITY[event.mobility],
            f"crowd: {event.mobility}",
            f"đám đông: {event.mobility}",
        ),
        Factor("alcohol", ALCOHOL if event.alcohol else 1.0, "alcohol", "rượu bia"),
        Factor(
            "age",
            max(0.5, 1 + OVER_60_SLOPE * (event.share_over_60 - 0.10)),
            f"over 60: {event.share_over_60:.0%}",
            f"trên 60 tuổi: {event.share_over_60:.0%}",
        ),
        # Longer exposure, more patients, but less than in proportion within a day (people come
        # and go); each further day counts in full.
        Factor(
            "duration",
            one_day * max(1.0, hours / 24.0),
            f"duration {hours:g} h",
            f"thời lượng {hours:g} giờ",
        ),
    )
