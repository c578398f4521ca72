"""A simulated telephone system: reports ringing 115 calls the way a PBX webhook does.

Real webhooks are retried (the same `call_id` arrives twice) and can overtake each other
(a later ring reported first), and some callers hide their number. Most smartphones also
send their own position a moment after dialling (Advanced Mobile Location), with an accuracy
from a few metres outdoors to a few hundred indoors. The plan is fixed by the
seed, so a run can be repeated; `prefix` keeps one run's call ids apart from another's.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass

from cityhealth.emergency.feeds.client import DispatchClient

# Vietnamese mobile prefixes after the 2018 renumbering (Viettel, Vinaphone, MobiFone, ...).
MOBILE_PREFIXES = (
    "032", "033", "034", "035", "036", "037", "038", "039",
    "070", "076", "077", "078", "079",
    "081", "082", "083", "084", "085", "086", "088", "089",
    "090", "091", "093", "094", "096", "097", "098",
)  # fmt: skip
HIDDEN_SHARE = 0.08  # callers who withhold their number
REPEAT_SHARE = 0.10  # webhooks delivered twice
SWAP_SHARE = 0.10  # a ring reported after the next one
HANDSET_SHARE = 0.70  # callers whose phone sends its position
CENTRE = (21.0285, 105.8542)
SPREAD_DEG = 0.03  # about 3 km around the centre


@dataclass(frozen=True)
class CallReport:
    call_id: str
    caller_number: str  # "" when hidden
    rang_s: float  # seconds after the start of the run when it rang
    repeat: bool = False
    handset: tuple[float, float, int] | None = None  # latitude, longitude, accuracy (m)


@dataclass(frozen=True)
class PhoneRun:
    reports: int  # requests sent
    created: int  # new incidents
    repeated: int  # answered with an incident already open
    handset_locations: int  # positions sent by callers' phones
    failed: list[str]  # "call_id: error" for each report refused


def mobile_number(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**7):07d}"


def plan_calls(*, count: int, seed: int, rate_per_min: float, prefix: str) -> list[CallReport]:
    """`count` distinct calls as they will be reported: with repeats, some out of order."""
    rng = random.Random(seed)  # noqa: S311 — a repeatable simulation, not a secret
    calls: list[CallReport] = []
    rang = 0.0
    for index in range(count):
        rang += rng.expovariate(rate_per_min / 60.0)  # Poisson arrivals
        number = "" if rng.random() < HIDDEN_SHARE else mobile_number(rng)
        handset = None
        if rng.random() < HANDSET_SHARE:  # sent even when the number is hidden to the PBX
            handset = (
                round(rng.gauss(CENTRE[0], SPREAD_DEG), 6),
                round(rng.gauss(CENTRE[1], SPREAD_DEG), 6),
                min(int(rng.lognormvariate(3.3, 0.9)), 2000),  # median ~27 m
            )
        calls.append(CallReport(f"{prefix}-{index:05d}", number, round(rang, 3), handset=handset))
    sent: list[CallReport] = []
    for call in calls:
        sent.append(call)
        if rng.random() < REPEAT_SHARE:
            sent.append(CallReport(call.call_id, call.caller_number, call.rang_s, repeat=True))
    for index in range(len(sent) - 1):
        if rng.random() < SWAP_SHARE:
            sent[index], sent[index + 1] = sent[index + 1], sent[index]
    return sent


def run_phone(
    *,
    client: DispatchClient,
    reports: list[CallReport],
    speedup: float = 1.0,
    sleep: Callable[[float], None],
    now: Callable[[], dt.datetime],
    on_report: Callable[[CallReport, bool, str], None] | None = None,
) -> PhoneRun:
    """Send the planned reports, pausing between rings (`speedup` shortens the pauses).

    Each call carries the real time it rang, so a report that arrives late or out of order
    still sorts right in the queue (and is never stamped in the future)."""
    started = now()
    created = repeated = handset_locations = 0
    failed: list[str] = []
    clock_s = 0.0  # how far into the plan the switchboard is
    for report in reports:
        wait = (report.rang_s - clock_s) / speedup
        if wait > 0:
            sleep(wait)
            clock_s = report.rang_s
        rang_at = started + dt.timedelta(seconds=report.rang_s / speedup)
        try:
            answer = client.report_call(
                call_id=report.call_id, caller_number=report.caller_number, received_at=rang_at
            )
        except Exception as error:  # one refused call must not stop the switchboard
            failed.append(f"{report.call_id}: {error}")
            continue
        created += answer.created
        repeated += not answer.created
        if on_report is not None:
            on_report(report, answer.created, str(answer.incident.get("number", "?")))
        if report.handset is not None and report.caller_number and not report.repeat:
            lat, lon, accuracy = report.handset
            try:
                client.report_handset_location(
                    message_id=f"{report.call_id}-aml",
                    caller_number=report.caller_number,
                    latitude=lat,
                    longitude=lon,
                    accuracy_m=accuracy,
                )
            except Exception as error:  # the call itself is in; only its position is missing
                failed.append(f"{report.call_id}-aml: {error}")
                continue
            handset_locations += 1
    return PhoneRun(
        reports=len(reports),
        created=created,
        repeated=repeated,
        handset_locations=handset_locations,
        failed=failed,
    )
