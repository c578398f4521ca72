"""The `phone-sim` and `avl-sim` subcommands of `cityhealth emergency`.

cityhealth issue_api_token pbx-sim --scope report_calls
cityhealth emergency phone-sim --url http://127.0.0.1:8000 --token chk_... --rate 6 --count 20

# reading the units and their incidents needs both scopes:
cityhealth issue_api_token avl-sim --scope report_unit_status --scope dispatch
cityhealth emergency avl-sim --url http://127.0.0.1:8000 --token chk_... --all --speedup 5
# or only report_unit_status, naming the units (they then roam near the centre):
cityhealth emergency avl-sim --url ... --token ... --units 115-00-A1,115-00-A2
"""

from __future__ import annotations

import time
from argparse import ArgumentParser, ArgumentTypeError, _SubParsersAction
from collections.abc import Callable
from typing import Any

from django.core.management.base import CommandError

from cityhealth.core import clock
from cityhealth.emergency.feeds.avl import AvlRun, AvlSimulator, UnitStart, run_avl, starts_from_api
from cityhealth.emergency.feeds.client import DispatchClient, FeedError
from cityhealth.emergency.feeds.phone import CallReport, plan_calls, run_phone

Write = Callable[[str], None]


def _above_zero(text: str) -> float:
    try:
        value = float(text)
    except ValueError as error:
        raise ArgumentTypeError(f"not a number: {text!r}") from error
    if value <= 0:
        raise ArgumentTypeError("must be above 0")
    return value


def _connection(parser: ArgumentParser) -> None:
    parser.add_argument("--url", required=True, help="base URL of the platform")
    parser.add_argument("--token", required=True, help="API token (Bearer)")
    parser.add_argument("--seed", type=int, default=1)


def add_feed_commands(commands: _SubParsersAction[Any]) -> None:
    phone = commands.add_parser("phone-sim", help="a telephone system reporting ringing calls")
    _connection(phone)
    phone.add_argument("--rate", type=_above_zero, default=6.0, help="calls per minute")
    phone.add_argument("--count", type=int, default=20, help="distinct calls to report")
    phone.add_argument("--speedup", type=_above_zero, default=1.0, help="shorten the pauses")
    phone.add_argument("--prefix", help="call id prefix (default: one per run)")

    avl = commands.add_parser("avl-sim", help="crew devices driving units along the roads")
    _connection(avl)
    which = avl.add_mutually_exclusive_group(required=True)
    which.add_argument("--units", help="unit codes, comma-separated (no read: roam)")
    which.add_argument("--all", action="store_true", help="every unit (token needs dispatch)")
    avl.add_argument("--speedup", type=_above_zero, default=1.0, help="simulated s per real s")
    avl.add_argument("--interval", type=_above_zero, default=5.0, help="simulated s per fix")
    avl.add_argument("--duration", type=_above_zero, default=600.0, help="simulated seconds")
    avl.add_argument("--batch", type=int, default=1, help="fixes per request")
    avl.add_argument(
        "--silent-after",
        type=_above_zero,
        default=None,
        help="simulated seconds after which one device stops reporting (stale-GPS alert)",
    )


def run_feed_command(*, what: str, options: dict[str, Any], write: Write) -> None:
    client = DispatchClient(base_url=options["url"], token=options["token"])
    try:
        if what == "phone-sim":
            _phone(client, options, write)
        else:
            _avl(client, options, write)
    except FeedError as error:
        raise CommandError(str(error)) from error


def _phone(client: DispatchClient, options: dict[str, Any], write: Write) -> None:
    reports = plan_calls(
        count=options["count"],
        seed=options["seed"],
        rate_per_min=options["rate"],
        prefix=options["prefix"] or f"pbx-{int(time.time())}",
    )

    def show(report: CallReport, created: bool, number: str) -> None:
        caller = report.caller_number or "(hidden)"
        write(f"{report.call_id} {caller:>12} → {'new' if created else 'repeat'} {number}")

    result = run_phone(
        client=client,
        reports=reports,
        speedup=options["speedup"],
        sleep=time.sleep,
        now=clock.now,
        on_report=show,
    )
    write(
        f"{result.reports} reports: {result.created} new incidents, "
        f"{result.repeated} repeats, {result.handset_locations} handset positions, "
        f"{len(result.failed)} refused"
    )
    for failure in result.failed:
        write(f"  refused {failure}")


def _avl(client: DispatchClient, options: dict[str, Any], write: Write) -> None:
    if options["all"]:
        starts = starts_from_api(client)
    else:
        codes = [c.strip() for c in options["units"].split(",") if c.strip()]
        starts = [UnitStart(code, None) for code in codes]
    if not starts:
        raise CommandError("no units to drive")
    simulator = AvlSimulator(
        units=starts,
        started_at=clock.now(),
        seed=options["seed"],
        interval=options["interval"],
        speedup=options["speedup"],
        batch=options["batch"],
        silent_after=options["silent_after"],
    )
    going = sum(1 for s in starts if s.destination is not None)
    write(f"{len(starts)} units ({going} to an incident); silent device: {simulator.silent_code}")

    def show(index: int, run: AvlRun) -> None:
        if index % 10 == 0:
            write(f"t={simulator.elapsed:.0f}s sent {run.sent} stored {run.stored}")

    ticks = max(1, int(options["duration"] / options["interval"]))
    run = run_avl(client=client, simulator=simulator, ticks=ticks, sleep=time.sleep, on_tick=show)
    write(
        f"{run.requests} requests, {run.sent} positions sent, {run.stored} stored, "
        f"{run.rejected} refused, {len(run.failed)} failed"
    )
    for failure in run.failed[:10]:
        write(f"  failed {failure}")
