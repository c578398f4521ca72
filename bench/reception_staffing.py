"""Counter staffing: the simulation's speed and its agreement with Erlang C.

    .venv/bin/python bench/reception_staffing.py            # mornings up to 2,500/h; 5 × 200,000
    .venv/bin/python bench/reception_staffing.py --smoke    # seconds; what CI runs

Speed: the outpatient morning (register → clinic → lab → clinic → cashier → pharmacy, stations
sized by Erlang C at the peak) at a few peak sizes, best of three runs: simulated visits, station
services and events per second.

Agreement: a single station with exponential service at several loads, simulated for many
customers after a warm-up (independent replications, seeds 1…R), beside Erlang C's mean wait
and probability of waiting; the relative difference and the replications' 95 % interval. The
full run exits 1 when a difference is over 5 % even at the near end of its interval (noise
alone, at a heavy load and few customers, can stray past 5 %: that is reported, not failed).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bench.people_population import machine_line

TOLERANCE = 0.05
# (arrivals per hour, service minutes, counters): occupancy 0.5 to 0.9, one to fifty counters.
LOADS = (
    (15.0, 2.0, 1),
    (60.0, 4.0, 5),
    (510.0, 1.0, 10),
    (600.0, 4.0, 42),
    (675.0, 4.0, 50),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="small mornings, few customers")
    parser.add_argument("--customers", type=int, default=200_000, help="per replication")
    parser.add_argument("--replications", type=int, default=5)
    args = parser.parse_args()
    print(machine_line("none (no database used)"))
    peaks = (300.0,) if args.smoke else (300.0, 1000.0, 2500.0)
    customers, replications = (20_000, 2) if args.smoke else (args.customers, args.replications)
    _speed(peaks)
    failed = _agreement(customers=customers, replications=replications, judge=not args.smoke)
    sys.exit(1 if failed else 0)


def _speed(peaks: tuple[float, ...]) -> None:
    from cityhealth.reception.staffing import outpatient_morning, simulate

    print("\nspeed: outpatient morning, stations sized for 80 % within 5 min (best of 3)")
    for peak in peaks:
        plan = outpatient_morning(peak_per_hour=peak, target_minutes=5, target_share=0.8)
        best = float("inf")
        for seed in (1, 2, 3):
            started = time.perf_counter()
            outcome = simulate(plan.scenario, seed=seed)
            elapsed = time.perf_counter() - started
            if elapsed < best:
                best, fastest = elapsed, outcome
        services = sum(s.served for s in fastest.stations)
        counters = sum(s.servers for s in fastest.stations)
        print(
            f"  peak {peak:>6,.0f}/h: {fastest.arrivals:>6,} visits, {services:>6,} services, "
            f"{counters:>4} counters, {best * 1000:7.1f} ms = {fastest.arrivals / best:>9,.0f} "
            f"visits/s, {fastest.events / best:>9,.0f} events/s; mean total wait "
            f"{fastest.total_wait.mean:.1f} min, p90 {fastest.total_wait.p90:.1f} min"
        )


def _interval(values: list[float]) -> float:
    """Half-width of the 95 % interval of the mean of the replications (normal quantile)."""
    return 1.96 * statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else 0.0


def _agreement(*, customers: int, replications: int, judge: bool) -> bool:
    from cityhealth.reception.staffing import evaluate, simulate, single_queue

    print(
        f"\nErlang C agreement: one station, exponential service, {replications} × "
        f"{customers:,} customers after 2 h of warm-up"
        + ("" if judge else " (too few to judge agreement: the full run does)")
    )
    failed = False
    for rate, service, counters in LOADS:
        figures = evaluate(
            arrivals_per_hour=rate, service_minutes=service, counters=counters, target_minutes=0
        )
        hours = max(1, round(customers / rate))
        scenario = single_queue(
            arrivals_per_hour=rate,
            service_minutes=service,
            counters=counters,
            hours=hours + 2,
            warmup_minutes=120,
        )
        started = time.perf_counter()
        waits, waited = [], []
        for seed in range(1, replications + 1):
            station = simulate(scenario, seed=seed).station("counter")
            waits.append(station.wait.mean)
            waited.append(station.wait.share_waited)
        elapsed = time.perf_counter() - started
        mean_wait, share = statistics.fmean(waits), statistics.fmean(waited)
        wait_diff = mean_wait / figures.mean_wait_minutes - 1
        share_diff = share / figures.probability_of_waiting - 1
        wait_ci = _interval(waits) / figures.mean_wait_minutes
        share_ci = _interval(waited) / figures.probability_of_waiting
        bad = abs(wait_diff) - wait_ci > TOLERANCE or abs(share_diff) - share_ci > TOLERANCE
        failed |= bad and judge
        verdict = ("OVER 5 %" if bad else "ok") if judge else "-"
        print(
            f"  λ {rate:>5.0f}/h, {service:.1f} min, N {counters:>2} (occupancy "
            f"{figures.occupancy:.2f}): mean wait {mean_wait:7.3f} ± {_interval(waits):.3f} "
            f"vs {figures.mean_wait_minutes:7.3f} min ({wait_diff:+.1%}); P(wait) "
            f"{share:.4f} ± {_interval(waited):.4f} vs {figures.probability_of_waiting:.4f} "
            f"({share_diff:+.1%}) {verdict} [{elapsed:.1f} s, "
            f"{replications * hours * rate / elapsed:,.0f} customers/s]"
        )
    return failed


if __name__ == "__main__":
    main()
