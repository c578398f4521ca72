"""`cityhealth emergency`: the 115 dispatch simulation, a live day exported for its replay,
and the telephone and AVL feed simulators.

cityhealth emergency simulate --days 365 --policy coverage --stations 50 --seed 1
cityhealth emergency simulate --days 30 --stations 7 --compare --json
cityhealth emergency simulate --replay data/emergency/simulation/example_day.csv --compare
cityhealth emergency export-day --date 2026-03-10 --out day.csv   (then: simulate --replay day.csv)
cityhealth emergency phone-sim --url http://127.0.0.1:8000 --token chk_... --rate 6 --count 20
cityhealth emergency avl-sim --url http://127.0.0.1:8000 --token chk_... --all --speedup 5
(usage and the scopes each token needs: `cityhealth.emergency.feeds.cli`)
"""

from __future__ import annotations

import datetime as dt
import io
import json
from argparse import ArgumentTypeError
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cityhealth.emergency.feeds.cli import add_feed_commands, run_feed_command
from cityhealth.emergency.routing import RoutingError, TravelModel
from cityhealth.emergency.simulation import (
    POLICIES,
    Policy,
    ReplayError,
    Scenario,
    build_network,
    read_recorded_day,
    report,
    run,
)
from cityhealth.emergency.simulation.export import (
    ExportError,
    parse_day,
    recorded_day,
    write_day,
)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError as error:
        raise ArgumentTypeError(f"not a whole number: {text!r}") from error
    if value < 1:
        raise ArgumentTypeError("must be at least 1")
    return value


def _day(text: str) -> dt.date:
    try:
        return parse_day(text)
    except ExportError as error:
        raise ArgumentTypeError(str(error)) from error


def _factor(text: str) -> float:
    try:
        value = float(text)
    except ValueError as error:
        raise ArgumentTypeError(f"not a number: {text!r}") from error
    if not 0.0 < value <= 20.0:
        raise ArgumentTypeError("must be above 0 and at most 20")
    return value


class Command(BaseCommand):
    help = "115 emergency dispatch tools."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(
            dest="what", required=True, metavar="{simulate,export-day,phone-sim,avl-sim}"
        )
        sim = commands.add_parser(
            "simulate", help="discrete-event simulation of 115 demand and dispatch"
        )
        sim.add_argument("--days", type=_positive, default=30, help="days per replication")
        sim.add_argument("--policy", choices=POLICIES, default="closest")
        sim.add_argument("--compare", action="store_true", help="both policies, same calls")
        sim.add_argument("--stations", type=int, choices=(7, 50), default=7)
        sim.add_argument("--seed", type=int, default=1)
        sim.add_argument("--replications", type=_positive, default=5)
        sim.add_argument("--units-per-station", type=_positive, default=1)
        sim.add_argument(
            "--demand-factor",
            type=_factor,
            default=1.0,
            help="multiply today's ≈107 calls a day (unmet need: 115 meets 7–10%%)",
        )
        sim.add_argument("--replay", type=Path, help="a recorded day (CSV) instead of demand")
        sim.add_argument("--json", action="store_true", help="machine-readable output")
        export = commands.add_parser(
            "export-day",
            help="a recorded day of the live dispatch centre, as the CSV that --replay reads",
        )
        export.add_argument(
            "--date",
            type=_day,
            required=True,
            help=f"the day, YYYY-MM-DD, in the city's time zone ({settings.TIME_ZONE})",
        )
        export.add_argument("--out", type=Path, help="the CSV file to write (default: stdout)")
        add_feed_commands(commands)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["what"] in ("phone-sim", "avl-sim"):
            run_feed_command(what=options["what"], options=options, write=self.stdout.write)
            return
        if options["what"] == "export-day":
            self._export_day(day=options["date"], out=options["out"])
            return
        if options["what"] != "simulate":  # pragma: no cover — argparse refuses others
            raise CommandError(f"unknown subcommand {options['what']}")
        policies: tuple[Policy, ...] = POLICIES if options["compare"] else (options["policy"],)
        replay_path: Path | None = options["replay"]
        scenario = Scenario(
            days=1 if replay_path else options["days"],
            demand_factor=options["demand_factor"],
            units_per_station=options["units_per_station"],
        )
        try:
            model = TravelModel.shared()
            network = build_network(stations=options["stations"])
            replay = (
                read_recorded_day(path=replay_path, network=network, model=model)
                if replay_path
                else None
            )
        except (ReplayError, RoutingError) as error:
            raise CommandError(str(error)) from error
        result = run(
            scenario=scenario,
            network=network,
            policies=policies,
            seed=options["seed"],
            replications=options["replications"],
            replay=replay,
        )
        document = report(
            result=result,
            scenario=scenario,
            network=network,
            stations=options["stations"],
            seed=options["seed"],
            source=f"replay of {replay_path.name}" if replay_path else "generated",
        )
        if options["json"]:
            self.stdout.write(json.dumps(document, ensure_ascii=False, indent=2))
        else:
            for line in _table(document):
                self.stdout.write(line)

    def _export_day(self, *, day: dt.date, out: Path | None) -> None:
        try:
            exported = recorded_day(day=day)
        except ExportError as error:
            raise CommandError(str(error)) from error
        if out is None:
            buffer = io.StringIO()
            write_day(exported, buffer)
            self.stdout.write(buffer.getvalue(), ending="")
        else:
            try:
                with out.open("w", encoding="utf-8", newline="") as handle:
                    write_day(exported, handle)
            except OSError as error:
                raise CommandError(f"cannot write {out}: {error.strerror}") from error
        left_out = exported.incidents - len(exported.calls)
        # The summary goes to stderr so that the CSV on stdout can be piped as it is.
        self.stderr.write(
            f"{len(exported.calls)} call(s) of {day.isoformat()} exported"
            + (f" to {out}" if out else "")
            + (
                f"; left out {left_out}: {exported.untriaged} without a priority or a "
                f"location, {exported.cancelled_unsent} cancelled before a unit was sent"
                if left_out
                else ""
            ),
            style_func=lambda text: text,
        )


def _table(document: dict[str, Any]) -> list[str]:
    runs = document["runs"] if document.get("compare") else {document["policy"]: document}
    first = next(iter(runs.values()))
    lines = [
        f"115 simulation: {first['days']} day(s) × {first['replications']} replications, "
        f"{first['station_points']} stations ({first['stations']} network), "
        f"{first['system']['units']} units, seed {first['seed']}, "
        f"demand {first['demand']['source']}",
        f"travel: {first['method']['travel']}",
        f"95% intervals: {first['method']['confidence_intervals']}",
    ]
    for policy, data in runs.items():
        system = data["system"]
        lines += [
            "",
            f"policy {policy}",
            f"  {'':4}{'calls':>8}{'mean min':>10}{'  (95% CI)':<18}{'p90 min':>9}"
            f"{'late >15':>10}{'share':>8}",
        ]
        for name, p in data["priorities"].items():
            ci = p["ci95"]["mean_response_min"]
            ci_text = f"  ({ci[0]:.1f}–{ci[1]:.1f})" if ci else "  (n/a)"
            mean = f"{p['mean_response_min']:.1f}" if p["mean_response_min"] is not None else "-"
            p90 = f"{p['p90_response_min']:.1f}" if p["p90_response_min"] is not None else "-"
            share = f"{p['late_share']:.1%}" if p["late_share"] is not None else "-"
            lines.append(
                f"  {name.upper():4}{p['calls']:>8}{mean:>10}{ci_text:<18}{p90:>9}"
                f"{p['late']:>10}{share:>8}"
            )
        lines.append(
            f"  utilisation {system['utilisation']['mean']:.1%}, demand covered by an "
            f"available unit within 8 min {system['demand_covered_within_8_min']['mean']:.1%}"
            f", within 15 min {system['demand_covered_within_15_min']['mean']:.1%}, "
            f"move-up suggestions {system['move_up_suggestions_per_day']}/day, "
            f"{data['elapsed_s']} s"
        )
    if document.get("compare"):
        late = document["late_p1"]
        ci = late["difference_ci95"]
        ci_text = f"[{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else "n/a (one replication)"
        lines += [
            "",
            f"late P1 per day: closest {late['closest_late_p1_per_day']}, coverage "
            f"{late['coverage_late_p1_per_day']}; difference {late['difference_per_day']:+.3f}"
            f"/day, 95% CI {ci_text} (paired, same calls)",
        ]
    return lines
