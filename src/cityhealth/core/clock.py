"""The one clock of the platform. Code asks `now()`; tests set it with `frozen_at(...)`.

Times are aware and in UTC; `local_now()` and `today()` give the wall clock of the city
(settings.TIME_ZONE), which is what "today" means to a hospital.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

from django.conf import settings

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """The current instant, aware, in UTC."""
    if _frozen is not None:
        return _frozen
    return dt.datetime.now(tz=dt.UTC)


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_now() -> dt.datetime:
    """The current instant on the city's wall clock."""
    return now().astimezone(local_zone())


def today() -> dt.date:
    """Today's date in the city (a visit at 06:30 local is today, not yesterday in UTC)."""
    return local_now().date()


def _as_utc(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None:
        raise ValueError("the clock takes aware datetimes only")
    return instant.astimezone(dt.UTC)


@contextmanager
def frozen_at(instant: dt.datetime) -> Iterator[None]:
    """Stop the clock at `instant` inside the block (tests and simulations)."""
    global _frozen
    previous = _frozen
    _frozen = _as_utc(instant)
    try:
        yield
    finally:
        _frozen = previous


def advance(delta: dt.timedelta) -> None:
    """Move a frozen clock forward; it is an error to advance a running clock."""
    global _frozen
    if _frozen is None:
        raise RuntimeError("advance() needs a clock frozen with frozen_at()")
    _frozen = _frozen + delta
