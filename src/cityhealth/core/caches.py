"""Caches a process keeps of slow-changing data register how to empty them here, so that
whatever changes the database under them without the usual signals (a test's rollback, a
bulk load) can empty them all without knowing the apps that keep them."""

from __future__ import annotations

from collections.abc import Callable

_forgetters: list[Callable[[], None]] = []


def register(forget: Callable[[], None]) -> None:
    if forget not in _forgetters:
        _forgetters.append(forget)


def forget_all() -> None:
    for forget in _forgetters:
        forget()
