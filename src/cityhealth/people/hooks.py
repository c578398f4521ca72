"""Where other apps hear that persons changed.

The registry sits below the apps that keep copies of its persons (the shared record keeps
each person as a FHIR Patient), so it cannot call them; they register a function here
instead, at start-up (`AppConfig.ready`). Every use case of `people.services` that changes
what a person is (created, identifiers added or re-issued, fields filled, merged, unmerged)
calls `persons_changed` after its writes, inside its transaction: a copy written by a
listener commits or rolls back with the person, so nobody ever sees one without the other.

Loaders that write persons in bulk (the synthetic population's COPY) call no use case and
so no listener: the copy is brought up to date afterwards in batches (`cityhealth records
sync-patients`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

PersonsListener = Callable[[list[int]], None]

_listeners: list[PersonsListener] = []
# Ids changed inside the outermost `gathered()` block still running, if any.
_gathering: ContextVar[set[int] | None] = ContextVar("people_persons_changed", default=None)


def on_persons_changed(listener: PersonsListener) -> None:
    """Call `listener(person_ids)` whenever persons change (registered once per listener)."""
    if listener not in _listeners:
        _listeners.append(listener)


def persons_changed(person_ids: Iterable[int]) -> None:
    """Tell every listener that these persons changed (their current rows, in this
    transaction). A listener's error propagates: the use case fails with it."""
    ids = {int(pk) for pk in person_ids if pk is not None}
    pending = _gathering.get()
    if pending is not None:
        pending |= ids
        return
    if ids:
        for listener in list(_listeners):
            listener(sorted(ids))


@contextmanager
def gathered() -> Iterator[None]:
    """Tell the listeners once, when the block ends, about every person changed inside it:
    a use case built of others (register, then keep a record number) makes one change."""
    if _gathering.get() is not None:  # an outer block tells them
        yield
        return
    pending: set[int] = set()
    token = _gathering.set(pending)
    try:
        yield
    finally:
        _gathering.reset(token)
    persons_changed(pending)
