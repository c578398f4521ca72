"""Caches a process keeps of slow-changing data: values kept a fixed time, per key. Every
cache made here is known to `forget_all`, so whatever changes the database under them
without the usual signals (a test's rollback, a bulk load) can empty them all without
knowing the apps that keep them."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")
_made: list[KeptFor] = []


class KeptFor:
    """Values kept `seconds` in this process, each under its key."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._kept: dict[Hashable, tuple[float, Any]] = {}
        _made.append(self)

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        """The value kept under `key`, or `load()`'s, kept from now on."""
        now = time.monotonic()
        hit = self._kept.get(key)
        if hit is not None and hit[0] > now:
            value: T = hit[1]
            return value
        value = load()
        self._kept[key] = (now + self.seconds, value)
        return value

    def clear(self, **_: Any) -> None:
        """Forget everything (its keyword arguments let it be a signal receiver)."""
        self._kept.clear()


def forget_all() -> None:
    for cache in _made:
        cache.clear()
