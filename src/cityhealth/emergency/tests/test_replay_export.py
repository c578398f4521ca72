"""A recorded day of the live dispatch centre, exported as the simulation's replay file and
replayed: the calls taken through the services come back as the same calls, at the same local
times, with the same priorities and wards."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from cityhealth.core import clock
from cityhealth.emergency import services
from cityhealth.emergency.models import Incident
from cityhealth.emergency.routing import TravelModel
from cityhealth.emergency.simulation import Scenario, build_network, read_recorded_day, run
from cityhealth.emergency.simulation.demand import replay_calls

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("hanoi_units")]

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = dt.date(2026, 3, 10)  # a Tuesday
HOAN_KIEM = (21.0285, 105.8542)
HA_DONG = (20.9734, 105.7780)
XUAN_PHUONG = (21.03023, 105.74589)
MY_DUC = (20.64557, 105.68992)


@pytest.fixture(scope="module")
def network():
    return build_network(stations=7)


def take_call(
    call_id: str,
    at: dt.datetime,
    *,
    point: tuple[float, float] | None = HOAN_KIEM,
    priority: str = "P2",
    cancel: bool = False,
) -> Incident:
    """A call as the centre takes it: rung, answered, located, triaged (and maybe cancelled)."""
    with clock.frozen_at(at):
        incident = services.receive_call(
            call_id=call_id, caller_number="0912345678", actor="pbx"
        ).incident
        if point is None:  # rang off before anything was known
            return incident
        services.answer_call(incident=incident, actor="taker")
        services.confirm_location(
            incident=incident, latitude=point[0], longitude=point[1], method="map", actor="taker"
        )
        incident = services.record_triage(
            incident=incident, priority=priority, complaint="X", outcome={}, actor="taker"
        )
        if cancel:
            incident = services.cancel_incident(incident=incident, reason="hoax", actor="taker")
    return incident


def local(hour: int, minute: int = 0, second: int = 0, micro: int = 0, day: dt.date = DAY):
    return dt.datetime.combine(day, dt.time(hour, minute, second, micro), tzinfo=HANOI)


def a_recorded_day() -> list[Incident]:
    """Four calls to replay, two to leave out, and one on each neighbouring day."""
    kept = [
        # Local midnight is 17:00 UTC the day before: the day is the city's, not UTC's.
        take_call("pbx-1", local(0, 0), point=HA_DONG, priority="P2"),
        take_call("pbx-2", local(6, 15, 30, 250_000), point=HOAN_KIEM, priority="P1"),
        take_call("pbx-3", local(12, 0), point=MY_DUC, priority="P3"),
        take_call("pbx-4", local(23, 59, 59), point=XUAN_PHUONG, priority="P4"),
    ]
    take_call("pbx-5", local(9, 0), point=None)  # never located nor triaged
    take_call("pbx-6", local(18, 0), priority="P1", cancel=True)  # a hoax, no unit sent
    take_call("pbx-7", local(23, 59, 59, day=DAY - dt.timedelta(days=1)), priority="P1")
    take_call("pbx-8", local(0, 0, day=DAY + dt.timedelta(days=1)), priority="P1")
    return kept


def test_an_exported_day_replays_as_exactly_its_calls(network, tmp_path: Path):
    kept = a_recorded_day()
    out = tmp_path / "day.csv"
    summary = StringIO()
    call_command(
        "emergency", "export-day", "--date", DAY.isoformat(), "--out", str(out), stderr=summary
    )
    assert "4 call(s) of 2026-03-10 exported" in summary.getvalue()
    assert "left out 2: 1 without a priority or a location, 1 cancelled" in summary.getvalue()
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "received_at,latitude,longitude,priority"
    assert lines[2] == "2026-03-10T06:15:30.250000,21.0285,105.8542,P1"

    model = TravelModel.shared()
    day = read_recorded_day(path=out, network=network, model=model)
    assert day.start_minute_of_week == 1 * 24 * 60  # Tuesday 00:00
    calls = replay_calls(day=day, scenario=Scenario(days=1), rng=np.random.default_rng(1))
    assert len(calls) == len(kept)
    midnight = local(0, 0)
    np.testing.assert_array_equal(
        calls.at_s, [(i.received_at - midnight).total_seconds() for i in kept]
    )
    assert calls.at_s.tolist() == [0.0, 22_530.25, 43_200.0, 86_399.0]
    assert calls.priority.tolist() == [1, 0, 2, 3]  # P2, P1, P3, P4
    assert [f"P{p + 1}" for p in calls.priority] == [i.priority for i in kept]
    # Each call is replayed from the centroid of the ward the live system put it in.
    wards = [i.ward.code if i.ward else None for i in kept]
    assert [network.names[p] for p in calls.point] == wards
    assert len({network.names[p] for p in calls.point}) == 4

    # And through the simulator itself, by the command as an operator would run it.
    result = run(
        scenario=Scenario(days=1),
        network=network,
        policies=("closest",),
        seed=1,
        replications=1,
        replay=day,
    )
    assert sorted(result.outcomes["closest"][0].priority.tolist()) == [0, 1, 2, 3]
    document = StringIO()
    call_command(
        "emergency", "simulate", "--replay", str(out), "--replications", "1", "--json",
        stdout=document,
    )  # fmt: skip
    figures = json.loads(document.getvalue())
    assert {name: p["calls"] for name, p in figures["priorities"].items()} == {
        "p1": 1,
        "p2": 1,
        "p3": 1,
        "p4": 1,
    }
    assert figures["demand"]["source"] == "replay of day.csv"


def test_without_out_the_file_goes_to_stdout():
    take_call("pbx-1", local(8, 30, 5), priority="P3")
    out, summary = StringIO(), StringIO()
    call_command("emergency", "export-day", "--date", "2026-03-10", stdout=out, stderr=summary)
    assert out.getvalue() == (
        "received_at,latitude,longitude,priority\n2026-03-10T08:30:05,21.0285,105.8542,P3\n"
    )
    assert "1 call(s) of 2026-03-10 exported" in summary.getvalue()


@pytest.mark.parametrize(
    ("date", "message"),
    [
        ("10/03/2026", "not a date in the form YYYY-MM-DD: '10/03/2026'"),
        ("2026-3-10", "not a date in the form YYYY-MM-DD"),
        ("2026-02-30", "not a valid date: '2026-02-30'"),
        ("", "not a date in the form YYYY-MM-DD"),
    ],
)
def test_a_malformed_date_is_named(date: str, message: str):
    with pytest.raises(CommandError, match=message):
        call_command("emergency", "export-day", "--date", date)


def test_a_day_without_calls_says_so(tmp_path: Path):
    out = tmp_path / "day.csv"
    with pytest.raises(CommandError, match=r"no calls were received on 2026-03-10 \(Asia/Ho_"):
        call_command("emergency", "export-day", "--date", "2026-03-10", "--out", str(out))
    assert not out.exists()
    with clock.frozen_at(local(12, 0)), pytest.raises(CommandError, match="a day still to come"):
        call_command("emergency", "export-day", "--date", "2026-03-11")
    # Calls that took no unit, or that nothing is known of, are no demand to replay.
    take_call("pbx-1", local(9, 0), point=None)
    take_call("pbx-2", local(10, 0), cancel=True)
    with pytest.raises(CommandError, match="2 incident\\(s\\) on 2026-03-10 but none to replay"):
        call_command("emergency", "export-day", "--date", "2026-03-10", "--out", str(out))
    assert not out.exists()


def test_an_unwritable_file_is_a_command_error(tmp_path: Path):
    take_call("pbx-1", local(8, 0))
    with pytest.raises(CommandError, match="cannot write"):
        call_command(
            "emergency", "export-day", "--date", "2026-03-10", "--out", str(tmp_path / "no" / "x")
        )
