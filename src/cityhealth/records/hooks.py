"""Where other apps hear that resources were written.

The store sits below the apps that act on its writes (the FHIR API's Subscriptions), so it
cannot call them; they register a function here at start-up (`AppConfig.ready`). Every write
path calls `rows_written` with the current rows it wrote, inside its transaction, after the
rows and their index are stored: the one-by-one writes of `records.services` and the bulk
path (`records.bulk`, which saves no row one by one and so sends no save signal). A listener
that acts on the outside world defers that to `transaction.on_commit`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cityhealth.records.models import Resource

RowsListener = Callable[[Sequence[Resource]], None]

_listeners: list[RowsListener] = []


def on_rows_written(listener: RowsListener) -> None:
    """Call `listener(rows)` after every write of current rows (registered once)."""
    if listener not in _listeners:
        _listeners.append(listener)


def rows_written(rows: Sequence[Resource]) -> None:
    """Tell every listener these current rows were just written (in this transaction). A
    listener's error propagates: the write fails with it."""
    if rows:
        for listener in list(_listeners):
            listener(rows)
