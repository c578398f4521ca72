"""FHIR dates as the instants they span: `2024` is the whole year, `2024-03` the whole month,
`2024-03-01T10:00` that minute. Both ends are inclusive. A date without a time zone is read in
the city's time (Asia/Ho_Chi_Minh, UTC+7 all year), the same at write and at search time."""

from __future__ import annotations

import datetime as dt
import functools
import re

LOCAL = dt.timezone(dt.timedelta(hours=7))
EARLIEST = dt.datetime(1, 1, 2, tzinfo=dt.UTC)
LATEST = dt.datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=dt.UTC)
_ONE = dt.timedelta(microseconds=1)
_DATE = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})"
    r"(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


@functools.lru_cache(maxsize=8192)
def date_range(text: str) -> tuple[dt.datetime, dt.datetime] | None:
    """(first instant, last instant) of a FHIR date, dateTime or instant; None if it is not
    one."""
    match = _DATE.match(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    tz = _zone(zone)
    try:
        if month is None:
            start = dt.datetime(int(year), 1, 1, tzinfo=tz)
            end = dt.datetime(int(year) + 1, 1, 1, tzinfo=tz) if int(year) < 9999 else None
        elif day is None:
            start = dt.datetime(int(year), int(month), 1, tzinfo=tz)
            following = (int(year) + int(month) // 12, int(month) % 12 + 1)
            end = dt.datetime(following[0], following[1], 1, tzinfo=tz)
        elif hour is None:
            start = dt.datetime(int(year), int(month), int(day), tzinfo=tz)
            end = start + dt.timedelta(days=1)
        else:
            start = dt.datetime(
                int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                tzinfo=tz,
            )  # fmt: skip
            if second is None:
                end = start + dt.timedelta(minutes=1)
            elif fraction is None:
                end = start + dt.timedelta(seconds=1)
            else:
                digits = fraction[:6]
                start = start.replace(microsecond=int(digits.ljust(6, "0")))
                end = start + dt.timedelta(microseconds=10 ** (6 - len(digits)))
    except (ValueError, OverflowError):
        return None
    low = max(start.astimezone(dt.UTC), EARLIEST)
    high = LATEST if end is None else min((end - _ONE).astimezone(dt.UTC), LATEST)
    return low, high


@functools.lru_cache(maxsize=64)
def _zone(zone: str | None) -> dt.tzinfo:
    if zone is None:
        return LOCAL
    if zone == "Z":
        return dt.UTC
    sign = 1 if zone[0] == "+" else -1
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
