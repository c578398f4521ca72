"""The 115 centre's performance: intervals of the call, response times and unit coverage.

Intervals, in seconds, per incident:

- call-to-answer: received → answered (the caller waiting on the line);
- answer-to-dispatch: answered → first unit assigned (taking the call, location, triage);
- response: received → first unit on scene (what the patient lives through).

Each is summarised by mean, median and 90th centile, over the period and by priority, ward and
hour of the day (Hà Nội time), and compared with the published standards of
`data/emergency/response_standards.json`. An incident lacking one of the two timestamps of an
interval (a call still open, a cancelled one, a field never filled in), or whose timestamps are
out of order, is left out of that interval and counted as missing, never guessed.

The period is read with one `.values()` query and computed here with numpy: about 40,000
incidents a year is a few hundred thousand numbers, well inside one request.

Coverage: the share of residents whose ward centre an available unit could reach within 8 and
15 minutes of driving, now, with the travel-time model of `routing` (travel only: the time to
answer and dispatch comes on top).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from cityhealth.core.datafiles import data_path
from cityhealth.emergency.coverage import (
    LatLon,
    WardPoint,
    quickest,
    ward_travel_table,
)
from cityhealth.emergency.enums import Priority, UnitStatus
from cityhealth.emergency.models import Incident, Unit
from cityhealth.emergency.routing import TravelModel
from cityhealth.emergency.selectors import unit_point

FloatArray = NDArray[np.float64]
Metric = Literal["call_to_answer", "answer_to_dispatch", "response"]

METRICS: dict[Metric, tuple[str, str]] = {
    "call_to_answer": ("received_at", "answered_at"),
    "answer_to_dispatch": ("answered_at", "assigned_at"),
    "response": ("received_at", "on_scene_at"),
}
_FIELDS = ("received_at", "answered_at", "assigned_at", "on_scene_at", "priority", "ward_id")
# The wards listed on the page: the slowest by 90th-centile response, where delays concentrate.
SLOWEST_WARDS = 20
COVERAGE_MINUTES = (8, 15)
# A unit in these states can take a new call now (a returning crew is cleared for work).
AVAILABLE_STATUSES = (UnitStatus.AVAILABLE, UnitStatus.RETURNING)
STANDARDS_FILE = ("emergency", "response_standards.json")


# --- period --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """From `first` to `last`, both days included, on Hà Nội's calendar."""

    first: dt.date
    last: dt.date

    @classmethod
    def last_days(cls, *, today: dt.date, days: int = 7) -> Period:
        return cls(first=today - dt.timedelta(days=days - 1), last=today)

    def bounds(self, *, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """The instants [start, end) of the period, from local midnight to local midnight."""
        start = dt.datetime.combine(self.first, dt.time(), tzinfo=zone)
        end = dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), tzinfo=zone)
        return start, end


def incidents_in_period(
    *, period: Period, zone: ZoneInfo, priority: str = "", ward_code: str = ""
) -> list[dict[str, Any]]:
    """The timestamps, priority and ward of every incident received in the period."""
    start, end = period.bounds(zone=zone)
    query = Incident.objects.filter(received_at__gte=start, received_at__lt=end)
    if priority:
        query = query.filter(priority=priority)
    if ward_code:
        query = query.filter(ward_id=ward_code)
    return list(query.values(*_FIELDS, "ward__name"))


# --- summaries -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    count: int  # incidents with both timestamps in order
    missing: int  # incidents without them
    mean: float | None
    median: float | None
    p90: float | None


def summarize(values: FloatArray) -> Summary:
    """`values`: seconds, NaN where the interval is missing."""
    known = values[~np.isnan(values)]
    missing = int(values.size - known.size)
    if not known.size:
        return Summary(count=0, missing=missing, mean=None, median=None, p90=None)
    return Summary(
        count=int(known.size),
        missing=missing,
        mean=float(known.mean()),
        median=float(np.median(known)),
        p90=float(np.percentile(known, 90)),
    )


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    incidents: int
    metrics: dict[Metric, Summary]


@dataclass(frozen=True)
class Standard:
    code: str
    name_vi: str
    name_en: str
    metric: Metric
    priorities: tuple[str, ...] | None  # None: every incident
    late_after_seconds: float
    source: str
    mean_seconds: float | None = None
    percentile: float | None = None
    percentile_seconds: float | None = None


@dataclass(frozen=True)
class StandardResult:
    standard: Standard
    count: int
    mean: float | None
    centile: float | None  # the standard's own centile, measured
    late: int
    late_share: float | None
    mean_met: bool | None  # None: no target of that kind, or nothing to measure
    centile_met: bool | None


@dataclass(frozen=True)
class Report:
    incidents: int
    overall: dict[Metric, Summary]
    by_priority: list[Group]
    by_ward: list[Group]  # the slowest first, at most SLOWEST_WARDS
    by_hour: list[Group]  # 0 … 23, Hà Nội time
    standards: list[StandardResult]


@dataclass(frozen=True)
class _Columns:
    seconds: dict[Metric, FloatArray]
    priority: NDArray[np.str_]
    ward: NDArray[np.str_]
    ward_names: dict[str, str]
    hour: NDArray[np.int64]


def _columns(rows: Sequence[dict[str, Any]], *, zone: ZoneInfo) -> _Columns:
    seconds = {metric: np.full(len(rows), np.nan) for metric in METRICS}
    for index, row in enumerate(rows):
        for metric, (start, end) in METRICS.items():
            if row[start] is not None and row[end] is not None:
                value = (row[end] - row[start]).total_seconds()
                # A clock set wrong on one screen gives a negative interval: not a measurement.
                if value >= 0:
                    seconds[metric][index] = value
    return _Columns(
        seconds=seconds,
        priority=np.array([row["priority"] or "" for row in rows], dtype=str),
        ward=np.array([row["ward_id"] or "" for row in rows], dtype=str),
        ward_names={row["ward_id"]: row["ward__name"] for row in rows if row["ward_id"]},
        hour=np.array([row["received_at"].astimezone(zone).hour for row in rows], dtype=np.int64),
    )


def _group(columns: _Columns, mask: NDArray[np.bool_], *, key: str, label: str) -> Group:
    return Group(
        key=key,
        label=label,
        incidents=int(mask.sum()),
        metrics={metric: summarize(values[mask]) for metric, values in columns.seconds.items()},
    )


def _slowest_first(group: Group) -> tuple[bool, float]:
    p90 = group.metrics["response"].p90
    return (p90 is None, -(p90 or 0.0))


def compute_report(
    *, rows: Sequence[dict[str, Any]], standards: Iterable[Standard], zone: ZoneInfo
) -> Report:
    columns = _columns(rows, zone=zone)
    everyone = np.ones(len(rows), dtype=bool)
    priorities = [*Priority.values, ""]
    by_priority = [
        _group(columns, columns.priority == p, key=p, label=p or "—")
        for p in priorities
        if (columns.priority == p).any()
    ]
    wards = [
        _group(columns, columns.ward == code, key=code, label=columns.ward_names.get(code, "—"))
        for code in np.unique(columns.ward).tolist()
    ]
    by_hour = [_group(columns, columns.hour == h, key=str(h), label=f"{h:02d}") for h in range(24)]
    return Report(
        incidents=len(rows),
        overall=_group(columns, everyone, key="", label="").metrics,
        by_priority=by_priority,
        by_ward=sorted(wards, key=_slowest_first)[:SLOWEST_WARDS],
        by_hour=by_hour,
        standards=[_against(columns, standard) for standard in standards],
    )


def _against(columns: _Columns, standard: Standard) -> StandardResult:
    values = columns.seconds[standard.metric]
    if standard.priorities is not None:
        values = values[np.isin(columns.priority, standard.priorities)]
    known = values[~np.isnan(values)]
    if not known.size:
        return StandardResult(standard, 0, None, None, 0, None, None, None)
    mean = float(known.mean())
    centile = (
        float(np.percentile(known, standard.percentile))
        if standard.percentile is not None
        else None
    )
    late = int((known > standard.late_after_seconds).sum())
    return StandardResult(
        standard=standard,
        count=int(known.size),
        mean=mean,
        centile=centile,
        late=late,
        late_share=late / known.size,
        mean_met=None if standard.mean_seconds is None else mean <= standard.mean_seconds,
        centile_met=(
            None
            if centile is None or standard.percentile_seconds is None
            else centile <= standard.percentile_seconds
        ),
    )


def load_standards(path: Path | None = None) -> tuple[Standard, ...]:
    return _load_standards(path or data_path(*STANDARDS_FILE))


@lru_cache(maxsize=4)
def _load_standards(path: Path) -> tuple[Standard, ...]:
    items = json.loads(path.read_text(encoding="utf-8"))["standards"]
    return tuple(_standard(item) for item in items)


def _standard(item: dict[str, Any]) -> Standard:
    def number(name: str) -> float | None:
        value = item.get(name)
        return None if value is None else float(value)

    metric = item["metric"]
    if metric not in METRICS:
        raise ValueError(f"standard {item['code']}: unknown metric {metric!r}")
    priorities = item.get("priorities")
    return Standard(
        code=item["code"],
        name_vi=item["name_vi"],
        name_en=item["name_en"],
        metric=metric,
        priorities=None if priorities is None else tuple(priorities),
        late_after_seconds=float(item["late_after_seconds"]),
        source=item["source"],
        mean_seconds=number("mean_seconds"),
        percentile=number("percentile"),
        percentile_seconds=number("percentile_seconds"),
    )


# --- coverage ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WardCoverage:
    ward: WardPoint
    seconds: float | None  # the quickest available unit; None when none can be timed


@dataclass(frozen=True)
class Coverage:
    at: dt.datetime
    units: int
    wards: tuple[WardCoverage, ...]
    population: int
    shares: dict[int, float]  # minutes → share of residents within them


def available_unit_points() -> list[LatLon]:
    """Where each unit free for a call stands: its last reported position, else its base."""
    units = Unit.objects.filter(is_active=True, status__in=AVAILABLE_STATUSES).select_related(
        "home"
    )
    return [point for unit in units if (point := unit_point(unit)) is not None]


def compute_coverage(
    *,
    origins: Sequence[LatLon],
    wards: Sequence[WardPoint],
    at: dt.datetime,
    model: TravelModel | None = None,
) -> Coverage:
    """The quickest available unit for every ward centre."""
    best = quickest(ward_travel_table(origins=origins, at=at, model=model, wards=wards))
    covered = tuple(
        WardCoverage(ward=ward, seconds=float(s) if np.isfinite(s) else None)
        for ward, s in zip(wards, best, strict=True)
    )
    population = sum(ward.population for ward in wards)
    shares = {
        minutes: _share_within(covered, seconds=minutes * 60, population=population)
        for minutes in COVERAGE_MINUTES
    }
    return Coverage(at=at, units=len(origins), wards=covered, population=population, shares=shares)


def _share_within(covered: Iterable[WardCoverage], *, seconds: int, population: int) -> float:
    if not population:
        return 0.0
    reached = sum(
        item.ward.population
        for item in covered
        if item.seconds is not None and item.seconds <= seconds
    )
    return reached / population
