"""The 115 dispatch simulation: determinism, sanity of the queueing figures, the policies,
the JSON document, replay and the command's errors. No database: the network is built from
the files in data/ (a few seconds, once per test session)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from cityhealth.emergency.simulation import Network, Policy, Run, Scenario, build_network, run
from cityhealth.emergency.simulation.kpi import ci95

EXAMPLE = Path(settings.DATA_DIR) / "emergency" / "simulation" / "example_day.csv"


@pytest.fixture(scope="module")
def network():
    return build_network(stations=7)


def _run(
    network: Network,
    *,
    days: int = 5,
    seed: int = 3,
    policies: tuple[Policy, ...] = ("closest",),
    replications: int = 2,
    units_per_station: int = 1,
) -> Run:
    return run(
        scenario=Scenario(days=days, units_per_station=units_per_station),
        network=network,
        policies=policies,
        seed=seed,
        replications=replications,
    )


def test_same_seed_same_result_other_seed_other_result(network):
    a = _run(network).outcomes["closest"][0]
    b = _run(network).outcomes["closest"][0]
    c = _run(network, seed=4).outcomes["closest"][0]
    np.testing.assert_array_equal(a.response_s, b.response_s)
    assert len(a.response_s) != len(c.response_s) or not np.array_equal(a.response_s, c.response_s)


def test_every_call_served_and_busy_time_matches_littles_law(network):
    result = _run(network, days=7)
    for outcome in result.outcomes["closest"]:
        assert not np.isnan(outcome.response_s).any()
        assert (outcome.response_s >= Scenario(days=1).timings.call_processing).all()
        # busy unit-time = calls × mean service time (λ·E[S]·T)
        assert outcome.busy_s.sum() == pytest.approx(
            len(outcome.service_s) * outcome.service_s.mean()
        )
        utilisation = outcome.busy_s.sum() / (len(outcome.busy_s) * outcome.horizon_s)
        assert 0.5 * result.busy_estimate < utilisation < 1.5 * result.busy_estimate
        # a unit's service is at least its on-scene time plus turnout
        assert outcome.service_s.mean() > 15 * 60


def test_more_units_shorter_responses(network):
    one = _run(network, days=7).outcomes["closest"]
    two = _run(network, days=7, units_per_station=2).outcomes["closest"]
    assert np.mean([o.response_s.mean() for o in two]) < np.mean([o.response_s.mean() for o in one])


def test_coverage_policy_never_sends_a_slower_unit_to_p1(network):
    result = _run(network, days=7, policies=("closest", "coverage"))
    for outcome in result.outcomes["coverage"]:
        p1 = outcome.priority == 0
        np.testing.assert_array_equal(outcome.eta_s[p1], outcome.fastest_eta_s[p1])
        # and it does trade speed for coverage on lower priorities
        assert (outcome.eta_s[~p1] > outcome.fastest_eta_s[~p1]).any()
    closest = result.outcomes["closest"][0]
    np.testing.assert_array_equal(closest.eta_s, closest.fastest_eta_s)


def test_json_document_keys():
    out = StringIO()
    call_command(
        "emergency", "simulate", "--days", "2", "--replications", "2", "--json", stdout=out
    )
    document = json.loads(out.getvalue())
    assert {"policy", "days", "stations", "seed", "priorities"} <= set(document)
    assert document["policy"] == "closest"
    assert document["days"] == 2
    assert set(document["priorities"]) == {"p1", "p2", "p3", "p4"}
    for figures in document["priorities"].values():
        assert {"calls", "mean_response_min", "p90_response_min", "late", "late_share", "ci95"} <= (
            set(figures)
        )


def test_compare_reports_the_late_p1_difference():
    out = StringIO()
    call_command(
        "emergency", "simulate", "--days", "2", "--replications", "3", "--compare", "--json",
        stdout=out,
    )  # fmt: skip
    document = json.loads(out.getvalue())
    assert set(document["runs"]) == {"closest", "coverage"}
    late = document["late_p1"]
    assert late["difference_per_day"] == pytest.approx(
        late["coverage_late_p1_per_day"] - late["closest_late_p1_per_day"], abs=0.002
    )
    assert len(late["difference_ci95"]) == 2


def test_replay_of_the_example_day():
    out = StringIO()
    call_command(
        "emergency", "simulate", "--replay", str(EXAMPLE), "--replications", "2", "--json",
        stdout=out,
    )  # fmt: skip
    document = json.loads(out.getvalue())
    recorded = len(EXAMPLE.read_text(encoding="utf-8").strip().splitlines()) - 1
    assert sum(p["calls"] for p in document["priorities"].values()) == 2 * recorded
    assert document["demand"]["source"] == "replay of example_day.csv"


def test_readable_table():
    out = StringIO()
    call_command("emergency", "simulate", "--days", "1", "--replications", "2", stdout=out)
    assert "policy closest" in out.getvalue()
    assert "P1" in out.getvalue()


@pytest.mark.parametrize(
    "arguments",
    [
        ["--days", "0"],
        ["--days", "x"],
        ["--policy", "random"],
        ["--stations", "12"],
        ["--demand-factor", "-1"],
        ["--replications", "0"],
    ],
)
def test_bad_arguments_are_a_command_error(arguments):
    with pytest.raises(CommandError):
        call_command("emergency", "simulate", *arguments)


def test_bad_replay_files_are_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("emergency", "simulate", "--replay", str(tmp_path / "none.csv"))
    outside = tmp_path / "outside.csv"
    outside.write_text(
        "received_at,latitude,longitude,priority\n2026-03-10T08:00:00,10.77,106.70,P1\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="outside Hà Nội"):
        call_command("emergency", "simulate", "--replay", str(outside))
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "received_at,latitude,longitude,priority\n2026-03-10T08:00:00,21.03,105.85,P9\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="line 2"):
        call_command("emergency", "simulate", "--replay", str(bad))


def test_confidence_interval_helper():
    assert ci95([1.0]) is None
    assert ci95([2.0, 2.0, 2.0]) == [2.0, 2.0]
    low, high = ci95([1.0, 2.0, 3.0]) or [0.0, 0.0]
    assert low < 2.0 < high
