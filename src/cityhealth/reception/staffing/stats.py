"""Figures from a simulated morning's service records, computed with NumPy once the morning is
over (keeping running totals inside the event loop would cost more than the events).

A station's queue is the set of intervals [joined the queue, called]; its counters are busy
over [called, done]. The area under "how many are inside" up to a time B is
Σ (B − open)⁺ − Σ (B − close)⁺, which sorted times and prefix sums give for every hour edge
at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class WaitSummary:
    """Waits in minutes; `share_waited` is P(wait > 0), the share not called at once."""

    count: int
    mean: float
    p50: float
    p90: float
    share_waited: float

    @classmethod
    def of(cls, waits: Floats) -> WaitSummary:
        if waits.size == 0:
            return cls(count=0, mean=0.0, p50=0.0, p90=0.0, share_waited=0.0)
        p50, p90 = np.percentile(waits, [50, 90])
        return cls(
            count=int(waits.size),
            mean=float(waits.mean()),
            p50=float(p50),
            p90=float(p90),
            share_waited=float(np.count_nonzero(waits > 0) / waits.size),
        )


def _area_until(opens: Floats, closes: Floats, edges: Floats) -> Floats:
    """∫₀ᴮ (number of open intervals) dt for each edge B."""

    def ramp(points: Floats) -> Floats:
        ordered = np.sort(points)
        prefix = np.concatenate(([0.0], np.cumsum(ordered)))
        before = np.searchsorted(ordered, edges, side="right")
        return np.asarray(before * edges - prefix[before], dtype=np.float64)

    return ramp(opens) - ramp(closes)


def hourly_areas(opens: Floats, closes: Floats, hours: int) -> Floats:
    """Interval-minutes inside each hour [60h, 60h + 60)."""
    if hours <= 0:
        return np.zeros(0)
    edges = 60.0 * np.arange(hours + 1, dtype=float)
    return np.diff(_area_until(opens, closes, edges))


def hourly_peaks(opens: Floats, closes: Floats, hours: int) -> NDArray[np.int64]:
    """The most intervals open at once within each hour (the queue carried over counts)."""
    peaks = np.zeros(max(hours, 0), dtype=np.int64)
    keep = closes > opens  # called at once: never stood in the queue
    if hours <= 0 or not keep.any():
        return peaks
    times = np.concatenate((opens[keep], closes[keep]))
    steps = np.concatenate((np.ones(keep.sum()), -np.ones(keep.sum())))
    # At one instant leaving counts before joining: a peak is never inflated by a tie.
    order = np.lexsort((steps, times))
    times, path = times[order], np.cumsum(steps[order]).astype(np.int64)
    starts = 60.0 * np.arange(hours, dtype=float)
    first = np.searchsorted(times, starts, side="left")
    last = np.searchsorted(times, starts + 60.0, side="left")
    carried = np.where(first > 0, path[np.maximum(first - 1, 0)], 0)
    peaks[:] = carried
    busy = last > first
    if busy.any():
        # Hours are contiguous, so each non-empty hour's segment ends where the next one's
        # starts; the last runs to the end (only departures can lie past it).
        inside = np.maximum.reduceat(path, first[busy])
        peaks[busy] = np.maximum(carried[busy], inside)
    return peaks


def hour_spans(finished: float) -> Floats:
    """Minutes of each hour that the morning lasted (the last hour may be cut short)."""
    hours = int(np.ceil(finished / 60.0)) if finished > 0 else 0
    starts = 60.0 * np.arange(hours, dtype=float)
    return np.minimum(finished, starts + 60.0) - starts
