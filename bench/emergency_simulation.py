"""The 115 dispatch simulation over a year: time per policy and the late-P1 comparison.

    .venv/bin/python bench/emergency_simulation.py            # 365 days × 5 replications
    .venv/bin/python bench/emergency_simulation.py --smoke    # 7 days, 50 stations; CI runs it

For each station network (7 today, 50 from 2026) both policies serve the same calls (common
random numbers). The budget is 60 s per policy for 365 simulated days (one replication);
the time of all replications is printed too. The travel-time matrices are built once per
network beforehand and timed separately.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.people_population import machine_line, setup_django

BUDGET_S = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--smoke", action="store_true", help="7 days, 3 replications, the 50-station network"
    )
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stations", type=int, choices=(7, 50), nargs="+")
    args = parser.parse_args()
    days, replications = (7, 3) if args.smoke else (args.days, args.replications)
    # Building a network's matrices is most of a smoke run: it builds the 50-station one only
    # (the test suite builds and simulates the 7-station network).
    networks = args.stations or ([50] if args.smoke else [7, 50])
    with tempfile.TemporaryDirectory() as workdir:
        setup_django("sqlite:///:memory:", workdir)
        print(machine_line("none (no database used)"))
        failed = False
        for stations in networks:
            failed |= _bench(
                stations=stations, days=days, replications=replications, seed=args.seed
            )
    sys.exit(1 if failed else 0)


def _bench(*, stations: int, days: int, replications: int, seed: int) -> bool:
    from cityhealth.emergency.simulation import Scenario, build_network, report, run

    started = time.perf_counter()
    network = build_network(stations=7 if stations == 7 else 50)
    print(
        f"\n{stations}-station network: {len(network.stations)} stations, "
        f"{len(network.names)} points × {len(network.level_names)} congestion levels, "
        f"matrices built in {time.perf_counter() - started:.1f} s"
    )
    scenario = Scenario(days=days)
    result = run(
        scenario=scenario,
        network=network,
        policies=("closest", "coverage"),
        seed=seed,
        replications=replications,
    )
    document: dict[str, Any] = report(
        result=result,
        scenario=scenario,
        network=network,
        stations=stations,
        seed=seed,
        source="generated",
    )
    failed = False
    for policy, data in document["runs"].items():
        per_year = result.elapsed_s[policy] / replications * 365 / days
        over = per_year > BUDGET_S
        failed |= over
        p1 = data["priorities"]["p1"]
        calls = sum(p["calls"] for p in data["priorities"].values())
        print(
            f"  {policy:8} {days} days × {replications}: {result.elapsed_s[policy]:.1f} s "
            f"({per_year:.1f} s per simulated year{' OVER BUDGET' if over else ''}); "
            f"{calls} calls; P1 mean {p1['mean_response_min']} min "
            f"(95% CI {p1['ci95']['mean_response_min']}), p90 {p1['p90_response_min']} min, "
            f"late {p1['late']} ({p1['late_share']:.1%}); "
            f"utilisation {data['system']['utilisation']['mean']:.1%}"
        )
        means = {n: p["mean_response_min"] for n, p in data["priorities"].items()}
        print(f"           mean response by priority (min): {means}")
    late = document["late_p1"]
    print(
        f"  late P1 per day: closest {late['closest_late_p1_per_day']}, coverage "
        f"{late['coverage_late_p1_per_day']}, difference {late['difference_per_day']:+} "
        f"(95% CI {late['difference_ci95']}, relative {late['relative_change']})"
    )
    return failed


if __name__ == "__main__":
    main()
