"""A circuit breaker for one remote system: after `failures` failed calls in a row it opens
and refuses calls for `cooldown` seconds, then lets one trial call through (half-open); the
trial's success closes it, its failure opens it again.

It keeps a down gateway from costing every check-in its full timeout, and gives the gateway
room to come back. The clock is injectable so that tests move time instead of sleeping.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from enum import StrEnum

from cityhealth.core import clock


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        *,
        failures: int,
        cooldown: float,
        now: Callable[[], dt.datetime] = clock.now,
    ) -> None:
        self.failures = max(1, failures)
        self.cooldown = dt.timedelta(seconds=cooldown)
        self._now = now
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._failed_in_row = 0
        self._opened_at: dt.datetime | None = None
        self._trial_running = False

    @property
    def state(self) -> BreakerState:
        with self._lock:
            self._cool_down()
            return self._state

    def allow(self) -> bool:
        """Whether a call may go out now. In half-open state only one trial at a time."""
        with self._lock:
            self._cool_down()
            if self._state is BreakerState.CLOSED:
                return True
            if self._state is BreakerState.HALF_OPEN and not self._trial_running:
                self._trial_running = True
                return True
            return False

    def record_success(self) -> None:
        with self._lock:
            self._state = BreakerState.CLOSED
            self._failed_in_row = 0
            self._opened_at = None
            self._trial_running = False

    def record_failure(self) -> None:
        with self._lock:
            self._failed_in_row += 1
            if self._state is BreakerState.HALF_OPEN or self._failed_in_row >= self.failures:
                self._state = BreakerState.OPEN
                self._opened_at = self._now()
            self._trial_running = False

    def _cool_down(self) -> None:
        if (
            self._state is BreakerState.OPEN
            and self._opened_at is not None
            and self._now() >= self._opened_at + self.cooldown
        ):
            self._state = BreakerState.HALF_OPEN
            self._trial_running = False
