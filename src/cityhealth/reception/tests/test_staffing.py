"""Counter staffing: Erlang C against published figures, the counter recommendation, the
simulation against Erlang C on a single queue, priority classes, journey routing, and bad
input refused in Vietnamese and English. No database."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from cityhealth.core.errors import InvalidInput
from cityhealth.reception.staffing import (
    ArrivalProfile,
    Journey,
    PriorityClass,
    Scenario,
    ServiceTime,
    Station,
    Step,
    counters_needed,
    erlang_b,
    evaluate,
    expected_passes,
    mean_wait,
    outpatient_morning,
    probability_of_waiting,
    service_level,
    simulate,
    single_queue,
    wait_percentile,
)

SECONDS = 1 / 60  # minutes

# --- Erlang B and C against published numbers ------------------------------------------------


@pytest.mark.parametrize(
    ("servers", "load", "blocking"),
    [
        # Erlang B traffic tables (as printed in telephony handbooks): the load N lines carry
        # at a grade of service of 1 % and 5 %, given to two decimals.
        (10, 4.46, 0.01),
        (10, 6.22, 0.05),
        (20, 12.03, 0.01),
        (100, 84.06, 0.01),
    ],
)
def test_erlang_b_matches_the_traffic_tables(servers, load, blocking):
    assert erlang_b(load=load, servers=servers) == pytest.approx(blocking, abs=2e-4)


def test_erlang_c_matches_the_r_erlangc_example():
    """The R `ErlangC` package's example (pyworkforce's README gives the same): 100 calls in
    30 minutes, 180 s handling, 14 agents, 20 s target → A = 10, P(wait) = 0.1741,
    service level 0.8884, average speed of answer 7.84 s, occupancy 0.714."""
    figures = evaluate(
        arrivals_per_hour=200, service_minutes=3, counters=14, target_minutes=20 * SECONDS
    )
    assert figures.load == pytest.approx(10)
    assert figures.probability_of_waiting == pytest.approx(0.1741, abs=5e-5)
    assert figures.service_level == pytest.approx(0.8884, abs=5e-5)
    assert figures.mean_wait_minutes / SECONDS == pytest.approx(7.84, abs=0.005)
    assert figures.occupancy == pytest.approx(0.714, abs=5e-4)
    # The same figures through the single-purpose functions.
    assert probability_of_waiting(load=10, servers=14) == figures.probability_of_waiting
    assert mean_wait(load=10, servers=14, service_minutes=3) == figures.mean_wait_minutes
    assert service_level(
        load=10, servers=14, service_minutes=3, target_minutes=20 * SECONDS
    ) == pytest.approx(figures.service_level)
    # pyworkforce: 80 % within 20 s needs 14 positions before shrinkage.
    advice = counters_needed(
        arrivals_per_hour=200, service_minutes=3, target_minutes=20 * SECONDS, target_share=0.8
    )
    assert advice.counters == 14


def test_counters_match_the_call_centre_example_with_an_occupancy_cap():
    """call-center-tools: 1,000 calls an hour, 120 s handling, 80 % within 20 s, occupancy at
    most 85 % → 40 agents, service level 93.72 %, average speed of answer 3.43 s."""
    advice = counters_needed(
        arrivals_per_hour=1000,
        service_minutes=2,
        target_minutes=20 * SECONDS,
        target_share=0.8,
        max_occupancy=0.85,
    )
    assert advice.counters == 40
    assert advice.limited_by_occupancy
    assert advice.for_service_level < 40
    assert advice.figures.service_level == pytest.approx(0.9372, abs=5e-5)
    assert advice.figures.mean_wait_minutes / SECONDS == pytest.approx(3.43, abs=0.005)


@pytest.mark.parametrize(
    ("service_minutes", "counters", "asa_seconds", "occupancy", "capped"),
    [
        # The illustrative hospital morning peak: 600 arrivals an hour, 80 % within 5 min.
        (4.0, 42, 80, 0.95, 48),  # staffed counter
        (1.5, 16, 66, 0.94, 18),  # kiosk
    ],
)
def test_the_hospital_peak_illustration(service_minutes, counters, asa_seconds, occupancy, capped):
    plain = counters_needed(
        arrivals_per_hour=600, service_minutes=service_minutes, target_minutes=5, target_share=0.8
    )
    assert plain.counters == counters
    assert plain.figures.mean_wait_minutes / SECONDS == pytest.approx(asa_seconds, abs=1)
    assert plain.figures.occupancy == pytest.approx(occupancy, abs=0.005)
    with_cap = counters_needed(
        arrivals_per_hour=600,
        service_minutes=service_minutes,
        target_minutes=5,
        target_share=0.8,
        max_occupancy=0.85,
    )
    assert with_cap.counters == capped


def test_one_counter_is_the_textbook_m_m_1_queue():
    """M/M/1: P(wait) = ρ and Wq = ρ / (μ − λ); λ = 6/h, 8 min service → ρ = 0.8, Wq = 32 min."""
    figures = evaluate(arrivals_per_hour=6, service_minutes=8, counters=1, target_minutes=0)
    assert figures.probability_of_waiting == pytest.approx(0.8)
    assert figures.mean_wait_minutes == pytest.approx(32)
    assert figures.service_level == pytest.approx(0.2)  # served at once


def test_large_stations_stay_finite():
    """Past 170 counters N! overflows a float; the recursion does not care."""
    c = probability_of_waiting(load=5000, servers=5100)
    assert 0 < c < 1
    advice = counters_needed(
        arrivals_per_hour=300_000, service_minutes=2, target_minutes=0.5, target_share=0.9
    )
    load = 10_000
    assert load < advice.counters < load + 4 * math.sqrt(load)  # square-root staffing
    assert advice.figures.service_level >= 0.9
    below = evaluate(
        arrivals_per_hour=300_000,
        service_minutes=2,
        counters=advice.counters - 1,
        target_minutes=0.5,
    )
    assert below.service_level < 0.9


def test_the_recommendation_is_the_least_that_meets_the_target():
    advice = counters_needed(
        arrivals_per_hour=90, service_minutes=5, target_minutes=2, target_share=0.8
    )
    assert advice.figures.service_level >= 0.8
    fewer = evaluate(
        arrivals_per_hour=90,
        service_minutes=5,
        counters=advice.counters - 1,
        target_minutes=2,
    )
    assert fewer.service_level < 0.8
    # Stricter targets never need fewer counters.
    stricter = counters_needed(
        arrivals_per_hour=90, service_minutes=5, target_minutes=2, target_share=0.95
    )
    assert stricter.counters >= advice.counters


def test_wait_percentiles_follow_the_exponential_tail():
    p90 = wait_percentile(load=10, servers=14, service_minutes=3, share=0.9)
    assert service_level(
        load=10, servers=14, service_minutes=3, target_minutes=p90
    ) == pytest.approx(0.9)
    # More than half are served at once (P(wait) = 0.17): the median wait is zero.
    assert wait_percentile(load=10, servers=14, service_minutes=3, share=0.5) == 0.0


# --- bad input ---------------------------------------------------------------------------------


def _refused(error: pytest.ExceptionInfo[InvalidInput], code: str) -> None:
    assert error.value.code == code
    assert error.value.message("vi") != error.value.message("en")
    assert error.value.message("vi")
    assert error.value.message("en")


def test_an_overloaded_station_is_refused_in_both_languages():
    with pytest.raises(InvalidInput) as error:
        evaluate(arrivals_per_hour=60, service_minutes=5, counters=5, target_minutes=2)
    _refused(error, "staffing.overloaded")
    assert "quầy" in error.value.message("vi")
    assert "counters" in error.value.message("en")
    assert error.value.field == "counters"
    with pytest.raises(InvalidInput, match=r"staffing\.overloaded"):
        probability_of_waiting(load=4.5, servers=4)


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda: counters_needed(arrivals_per_hour=-1, service_minutes=4, target_minutes=2,
                                 target_share=0.8), "staffing.negative_rate"),
        (lambda: counters_needed(arrivals_per_hour=10, service_minutes=0, target_minutes=2,
                                 target_share=0.8), "staffing.not_positive"),
        (lambda: counters_needed(arrivals_per_hour=10, service_minutes=4, target_minutes=-1,
                                 target_share=0.8), "staffing.not_positive"),
        (lambda: counters_needed(arrivals_per_hour=10, service_minutes=4, target_minutes=2,
                                 target_share=1.0), "staffing.share_out_of_range"),
        (lambda: counters_needed(arrivals_per_hour=10, service_minutes=4, target_minutes=2,
                                 target_share=0.8, max_occupancy=1.2),
         "staffing.occupancy_out_of_range"),
        (lambda: counters_needed(arrivals_per_hour=math.nan, service_minutes=4,
                                 target_minutes=2, target_share=0.8), "staffing.not_a_number"),
        (lambda: erlang_b(load=-2, servers=3), "staffing.negative_rate"),
        (lambda: erlang_b(load=2, servers=0), "staffing.not_positive"),
        (lambda: single_queue(arrivals_per_hour=-5, service_minutes=4, counters=2, hours=1),
         "staffing.negative_rate"),
    ],
)  # fmt: skip
def test_bad_numbers_are_refused(call, code):
    with pytest.raises(InvalidInput) as error:
        _run(call)
    _refused(error, code)


def _run(call: Callable[[], object]) -> None:
    """Call; a scenario is checked when it runs, so run it."""
    result = call()
    if isinstance(result, Scenario):
        simulate(result, seed=1)


def _journey_scenario(*steps: Step, first: str = "a") -> Scenario:
    return Scenario(
        stations=(Station("desk", 2, ServiceTime(3.0)),),
        journey=Journey(first=first, steps=steps),
        arrivals=ArrivalProfile(start_hour=7, per_hour=(10.0,)),
    )


@pytest.mark.parametrize(
    "scenario",
    [
        _journey_scenario(Step("a", "desk", then=(("b", 0.5),))),  # no such step
        _journey_scenario(Step("a", "nowhere")),  # no such station
        _journey_scenario(Step("a", "desk", then=(("a", 0.7), ("b", 0.6))), Step("b", "desk")),
        _journey_scenario(Step("a", "desk", then=(("b", 1.0),)), Step("b", "desk",
                          then=(("a", 1.0),))),  # a loop with no way home
        _journey_scenario(Step("a", "desk"), first="z"),
    ],
)  # fmt: skip
def test_impossible_journeys_are_refused(scenario):
    with pytest.raises(InvalidInput) as error:
        simulate(scenario, seed=1)
    _refused(error, "staffing.bad_journey")


def test_priority_shares_must_add_up():
    scenario = single_queue(
        arrivals_per_hour=10,
        service_minutes=3,
        counters=1,
        hours=1,
        classes=(PriorityClass("priority", 0.3), PriorityClass("general", 0.3)),
    )
    with pytest.raises(InvalidInput) as error:
        simulate(scenario, seed=1)
    _refused(error, "staffing.bad_journey")


def test_a_city_sized_request_is_refused_before_it_runs():
    scenario = single_queue(arrivals_per_hour=1e6, service_minutes=1, counters=20_000, hours=5)
    with pytest.raises(InvalidInput) as error:
        simulate(scenario, seed=1)
    _refused(error, "staffing.too_large")


# --- the simulation ---------------------------------------------------------------------------

# 3 counters, 4-minute exponential service, a steady 30 an hour: occupancy 2/3,
# P(wait) = 0.444, mean wait 1.78 min. Over 1.5 million customers the simulated mean wait
# varies by 1.2 % from seed to seed (P(wait) by 0.4 %, the 90th centile by 1.1 %), so 5 % is
# more than four standard deviations: the check holds for any seed, not for a lucky one.
STEADY: dict[str, Any] = {"arrivals_per_hour": 30.0, "service_minutes": 4.0, "counters": 3}


def test_the_simulation_agrees_with_erlang_c_on_one_queue():
    scenario = single_queue(**STEADY, hours=50_000, warmup_minutes=120)
    outcome = simulate(scenario, seed=20261126)
    figures = evaluate(**STEADY, target_minutes=2)
    station = outcome.station("counter")
    assert outcome.counted > 1_490_000
    assert station.wait.mean == pytest.approx(figures.mean_wait_minutes, rel=0.05)
    assert station.wait.share_waited == pytest.approx(figures.probability_of_waiting, rel=0.05)
    assert station.utilisation == pytest.approx(figures.occupancy, rel=0.02)
    assert station.wait.p90 == pytest.approx(figures.p90_wait_minutes, rel=0.05)


def test_queue_lengths_by_hour_add_up_to_the_waits():
    """Little's law, exactly: the area under the queue-length curve is the sum of the waits."""
    scenario = single_queue(**STEADY, hours=6)
    outcome = simulate(scenario, seed=3)
    station = outcome.station("counter")
    area = sum(h.mean_queue * min(60.0, outcome.finished_minutes - 60 * i)
               for i, h in enumerate(station.hours))  # fmt: skip
    assert area == pytest.approx(station.wait.mean * station.served, rel=1e-9)
    assert [h.clock_hour for h in station.hours][:3] == [0, 1, 2]
    assert all(h.peak_queue >= h.mean_queue for h in station.hours)


def test_a_seed_gives_the_same_morning():
    scenario = outpatient_morning(peak_per_hour=200, target_minutes=5, target_share=0.8).scenario
    assert simulate(scenario, seed=7) == simulate(scenario, seed=7)
    assert simulate(scenario, seed=7) != simulate(scenario, seed=8)


def test_priority_classes_wait_less_as_cobhams_formula_says():
    """Non-pre-emptive priority, one exponential service time for all (Cobham 1954):
    W_k = C·S/N / ((1 − σ_(k−1)) (1 − σ_k)), σ_k the occupancy of classes 1…k. With a fifth of
    visits in the priority class at occupancy 2/3: 0.684 min for them, 2.051 for the rest."""
    classes = (PriorityClass("priority", 0.2), PriorityClass("general", 0.8))
    outcome = simulate(single_queue(**STEADY, hours=10_000, classes=classes), seed=5)
    erlang = evaluate(**STEADY, target_minutes=2)
    base = erlang.probability_of_waiting * STEADY["service_minutes"] / STEADY["counters"]
    above = 0.2 * erlang.occupancy
    priority, general = outcome.by_class["priority"], outcome.by_class["general"]
    assert priority.mean == pytest.approx(base / (1 - above), rel=0.06)
    assert general.mean == pytest.approx(base / ((1 - above) * (1 - erlang.occupancy)), rel=0.06)
    assert priority.count / outcome.counted == pytest.approx(0.2, abs=0.005)
    # Calling out of turn never leaves a counter idle while someone waits: the same morning
    # first come first served has exactly the same total waiting (the conservation law).
    fifo = simulate(single_queue(**STEADY, hours=10_000), seed=5)
    assert outcome.total_wait.mean == pytest.approx(fifo.total_wait.mean, rel=1e-9)


def test_priority_keeps_its_place_through_the_journey():
    plan = outpatient_morning(peak_per_hour=500, target_minutes=5, target_share=0.8)
    outcome = simulate(plan.scenario, seed=23)
    assert outcome.by_class["priority"].mean < outcome.by_class["general"].mean / 2
    assert outcome.by_class["priority"].p90 < outcome.by_class["general"].p90


def test_arrivals_follow_the_hourly_profile():
    scenario = Scenario(
        stations=(Station("desk", 40, ServiceTime(1.0)),),
        journey=Journey(first="a", steps=(Step("a", "desk"),)),
        arrivals=ArrivalProfile(start_hour=6, per_hour=(400.0, 1600.0, 900.0, 0.0, 100.0)),
    )
    outcome = simulate(scenario, seed=11)
    for seen, rate in zip(outcome.arrivals_by_hour, scenario.arrivals.per_hour, strict=True):
        assert abs(seen - rate) <= 4 * math.sqrt(rate) + 1e-9  # Poisson: sd = √rate
    assert [h.clock_hour for h in outcome.station("desk").hours][:5] == [6, 7, 8, 9, 10]


def test_the_journey_sends_the_right_shares():
    plan = outpatient_morning(peak_per_hour=400, target_minutes=5, target_share=0.8)
    outcome = simulate(plan.scenario, seed=13)
    expected = expected_passes(plan.scenario.journey)
    assert expected == pytest.approx(
        {"register": 1, "consult": 1, "tests": 0.6, "review": 0.6, "pay": 1, "dispense": 0.8}
    )
    n = outcome.counted
    for step, share in expected.items():
        sd = math.sqrt(n * share * (1 - share)) if share < 1 else 0
        assert abs(outcome.step_passes[step] - n * share) <= 4 * sd
    # The clinic sees first consultations and the returns from the lab.
    clinic = outcome.station("clinic").served
    assert clinic == outcome.step_passes["consult"] + outcome.step_passes["review"]


def test_a_repeated_step_is_taken_as_often_as_its_loop_says():
    """A lab that repeats a sample 20 % of the time: 1 / (1 − 0.2) = 1.25 passes a visit."""
    scenario = Scenario(
        stations=(Station("clinic", 6, ServiceTime(5.0)), Station("lab", 4, ServiceTime(3.0))),
        journey=Journey(
            first="consult",
            steps=(
                Step("consult", "clinic", then=(("sample", 1.0),)),
                Step("sample", "lab", then=(("sample", 0.2),)),
            ),
        ),
        arrivals=ArrivalProfile(start_hour=7, per_hour=(50.0,) * 200),
    )
    assert expected_passes(scenario.journey)["sample"] == pytest.approx(1.25)
    outcome = simulate(scenario, seed=17)
    assert outcome.step_passes["sample"] / outcome.counted == pytest.approx(1.25, abs=0.03)


def test_lognormal_service_keeps_its_mean_and_waits_less_than_exponential():
    def run(service: ServiceTime) -> float:
        scenario = Scenario(
            stations=(Station("clinic", 4, service),),
            journey=Journey(first="consult", steps=(Step("consult", "clinic"),)),
            arrivals=ArrivalProfile(start_hour=7, per_hour=(36.0,) * 3000),
            warmup_minutes=120,
        )
        outcome = simulate(scenario, seed=19)
        station = outcome.station("clinic")
        assert station.utilisation == pytest.approx(36 * 5 / 60 / 4, rel=0.03)
        return station.wait.mean

    steady = run(ServiceTime(5.0, "lognormal", cv=0.4))
    # Waiting grows with (1 + cv²) / 2 (the Allen–Cunneen approximation): 0.58 of the
    # exponential's here.
    assert steady < 0.7 * run(ServiceTime(5.0))


def test_the_morning_sizes_each_station_by_its_peak_load():
    plan = outpatient_morning(
        peak_per_hour=300, target_minutes=5, target_share=0.8, reception_minutes=4
    )
    reception = plan.recommendations["reception"]
    assert reception.figures.arrivals_per_hour == 300
    assert (
        reception.counters
        == counters_needed(
            arrivals_per_hour=300, service_minutes=4, target_minutes=5, target_share=0.8
        ).counters
    )
    # The clinic: 300 first consultations of 8 min and 180 returns of 4 min an hour.
    clinic = plan.recommendations["clinic"].figures
    assert clinic.arrivals_per_hour == pytest.approx(480)
    assert clinic.load == pytest.approx((300 * 8 + 180 * 4) / 60)
    servers = {s.name: s.servers for s in plan.scenario.stations}
    assert servers == {name: r.counters for name, r in plan.recommendations.items()}
    pinned = outpatient_morning(
        peak_per_hour=300, target_minutes=5, target_share=0.8, counters={"reception": 3}
    )
    assert {s.name: s.servers for s in pinned.scenario.stations}["reception"] == 3
