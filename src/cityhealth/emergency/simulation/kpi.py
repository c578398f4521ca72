"""Key figures of a run and their 95% confidence intervals.

The intervals come from independent replications (each its own year of calls from its own
seed stream): the replication values are treated as independent and the interval is the
Student-t one, mean ± t(0.975, R − 1) · s / √R. Point figures pool all replications.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from cityhealth.emergency.simulation.engine import Outcome
from cityhealth.emergency.simulation.params import PRIORITY_NAMES

Interval = list[float] | None


def ci95(values: Sequence[float]) -> Interval:
    """Student-t 95% interval of the mean of independent values; None with fewer than two."""
    data = np.asarray(values, dtype=np.float64)
    if len(data) < 2:
        return None
    half = float(stats.t.ppf(0.975, len(data) - 1) * data.std(ddof=1) / np.sqrt(len(data)))
    mean = float(data.mean())
    return [round(mean - half, 3), round(mean + half, 3)]


def priority_figures(*, outcomes: Sequence[Outcome], late_after_s: float) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for p, name in enumerate(PRIORITY_NAMES):
        per_run = [o.response_s[o.priority == p] / 60.0 for o in outcomes]
        pooled = np.concatenate(per_run) if per_run else np.empty(0)
        days = [o.horizon_s / 86_400.0 for o in outcomes]
        late = [int((r > late_after_s / 60.0).sum()) for r in per_run]
        figures[name] = {
            "calls": len(pooled),
            "mean_response_min": _round(pooled.mean()) if len(pooled) else None,
            "p90_response_min": _round(np.percentile(pooled, 90)) if len(pooled) else None,
            "late": int(sum(late)),
            "late_share": _round(sum(late) / len(pooled), 4) if len(pooled) else None,
            "late_after_min": late_after_s / 60.0,
            "ci95": {
                "mean_response_min": ci95([float(r.mean()) for r in per_run if len(r)]),
                "p90_response_min": ci95([float(np.percentile(r, 90)) for r in per_run if len(r)]),
                "late_share": ci95(
                    [lt / len(r) for lt, r in zip(late, per_run, strict=False) if len(r)]
                ),
                "late_per_day": ci95([lt / d for lt, d in zip(late, days, strict=False)]),
            },
        }
    return figures


def system_figures(*, outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Utilisation, coverage and the busy-time check (Little's law: busy unit-time equals
    calls × mean service time, so utilisation = λ · E[S] / units)."""
    utilisation = [float(o.busy_s.sum() / (len(o.busy_s) * o.horizon_s)) for o in outcomes]
    littles = [
        float(len(o.service_s) / o.horizon_s * o.service_s.mean() / len(o.busy_s))
        if len(o.service_s)
        else 0.0
        for o in outcomes
    ]
    covered = [o.covered[~np.isnan(o.response_s)] for o in outcomes]
    return {
        "units": len(outcomes[0].busy_s) if outcomes else 0,
        "utilisation": {"mean": _round(np.mean(utilisation), 4), "ci95": ci95(utilisation)},
        "utilisation_by_littles_law": _round(np.mean(littles), 4),
        "mean_service_min": _round(
            np.mean([o.service_s.mean() / 60.0 for o in outcomes if len(o.service_s)])
        ),
        "demand_covered_within_8_min": _share([c[:, 0] for c in covered]),
        "demand_covered_within_15_min": _share([c[:, 1] for c in covered]),
        "move_up_suggestions_per_day": _round(
            np.mean([o.move_ups / (o.horizon_s / 86_400.0) for o in outcomes]), 2
        ),
    }


def late_p1_difference(
    *, closest: Sequence[Outcome], coverage: Sequence[Outcome], late_after_s: float
) -> dict[str, Any]:
    """Late P1 arrivals per day, coverage minus closest, paired by replication (the same
    calls in both: common random numbers), with the paired-t 95% interval."""

    def per_day(o: Outcome) -> float:
        late = int((o.response_s[o.priority == 0] > late_after_s).sum())
        return late / (o.horizon_s / 86_400.0)

    a = [per_day(o) for o in closest]
    b = [per_day(o) for o in coverage]
    diff = [y - x for x, y in zip(a, b, strict=False)]
    base = float(np.mean(a)) if a else 0.0
    return {
        "closest_late_p1_per_day": _round(base, 3),
        "coverage_late_p1_per_day": _round(np.mean(b), 3),
        "difference_per_day": _round(np.mean(diff), 3),
        "difference_ci95": ci95(diff),
        "relative_change": _round(np.mean(diff) / base, 4) if base else None,
        "closest_late_p1": round(
            sum(x * o.horizon_s / 86_400.0 for x, o in zip(a, closest, strict=False))
        ),
        "coverage_late_p1": round(
            sum(x * o.horizon_s / 86_400.0 for x, o in zip(b, coverage, strict=False))
        ),
    }


def _share(values: Sequence[np.ndarray[Any, Any]]) -> dict[str, Any]:
    means = [float(v.mean()) for v in values if len(v)]
    return {"mean": _round(np.mean(means), 4) if means else None, "ci95": ci95(means)}


def _round(value: Any, digits: int = 2) -> float:
    return round(float(value), digits)
