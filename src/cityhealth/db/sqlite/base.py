"""Django's SQLite backend, with each process keeping closed connections for its next request.

Under ASGI, Django runs the synchronous part of every request in a thread made for that
request, and database connections belong to a thread: a connection cannot outlive its
request, whatever CONN_MAX_AGE says (Django's documentation asks to keep it at 0 under ASGI
and to use the backend's connection pool instead). PostgreSQL has such a pool (psycopg_pool,
`OPTIONS["pool"]`); Django's SQLite backend has none. A new SQLite connection per request is
not cheap: its first statement parses the whole schema again, and when the last connection
to a WAL database closes, SQLite checkpoints the WAL into the database and deletes it, with
an fsync. On the busiest endpoint (a position from every ambulance every few seconds) that
was more than half of the request's cost.

Here `close()` hands the connection back to an idle stack of its process, and the next
`connect()` of any thread takes it from there (Django opens SQLite connections with
`check_same_thread=False`; a connection is only ever used by one thread at a time). A
connection goes back only when it is clean: no open transaction, foreign keys enforced.
In-memory databases (the tests' default) are never pooled: Django keeps them open anyway.

Writers also take turns. With `transaction_mode` IMMEDIATE every transaction takes SQLite's
write lock at BEGIN; a connection that finds it taken sleeps and retries with growing pauses
(1, 2, 5, 10… up to 100 ms), so under load a writer that had waited a while kept sleeping
through the moments the lock was free and lost it to newcomers: a status change from the
console could wait a second behind a stream of positions. Before BEGIN a writer now takes
its process's turn (a thread lock, which gives up after the connection's `timeout` as
SQLite would) and then the database's (an flock on "<database>-writer", which the kernel
hands on as soon as it is released). The flock waits without a limit: its holder is a
transaction that holds SQLite's lock anyway.

`OPTIONS["pool"]`: True, or `{"max_idle": n}` (connections kept idle per process, default 8).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
from typing import Any

from django.db.backends.sqlite3 import base, creation
from django.db.utils import OperationalError

DEFAULT_MAX_IDLE = 8


class _IdleConnections:
    """The connections a process closed, most recently used first (its pages are warm)."""

    def __init__(self, max_idle: int) -> None:
        self.max_idle = max_idle
        self._lock = threading.Lock()
        self._stack: list[sqlite3.Connection] = []

    def take(self) -> sqlite3.Connection | None:
        with self._lock:
            return self._stack.pop() if self._stack else None

    def give(self, conn: sqlite3.Connection) -> bool:
        """Keep `conn` for the next request; False when it must be closed instead."""
        try:
            if conn.in_transaction:
                conn.rollback()
            # The schema editor switches foreign keys off for a while; such a connection
            # is not handed to a request.
            (enforced,) = conn.execute("PRAGMA foreign_keys").fetchone()
        except sqlite3.Error:
            return False
        if enforced != 1:
            return False
        with self._lock:
            if len(self._stack) >= self.max_idle:
                return False
            self._stack.append(conn)
            return True

    def close_all(self) -> None:
        with self._lock:
            stack, self._stack = self._stack, []
        for conn in stack:
            conn.close()


# Keyed by process too: a forked child must not share its parent's SQLite connections.
_IDLE: dict[tuple[int, str], _IdleConnections] = {}
_IDLE_LOCK = threading.Lock()


class _WriterTurn:
    """Whose turn it is to write to one database file, for the threads of this process and
    then against the other processes."""

    def __init__(self, name: str) -> None:
        self.in_process = threading.Lock()
        self.lock_file = os.open(f"{name}-writer", os.O_RDWR | os.O_CREAT, 0o644)

    def take(self, timeout: float) -> None:
        if not self.in_process.acquire(timeout=timeout):
            raise OperationalError("database is locked")  # what SQLite says after its timeout
        try:
            fcntl.flock(self.lock_file, fcntl.LOCK_EX)
        except BaseException:
            self.in_process.release()
            raise

    def give_back(self) -> None:
        try:
            fcntl.flock(self.lock_file, fcntl.LOCK_UN)
        finally:
            self.in_process.release()


_TURNS: dict[tuple[int, str], _WriterTurn] = {}


def close_idle(name: str) -> None:
    """Close this process's idle connections to the database file `name` (and its lock file
    when no transaction holds it)."""
    key = (os.getpid(), str(name))
    with _IDLE_LOCK:
        idle = _IDLE.pop(key, None)
        turn = _TURNS.get(key)
        if turn is not None and not turn.in_process.locked():
            del _TURNS[key]
            os.close(turn.lock_file)
    if idle is not None:
        idle.close_all()


class DatabaseCreation(creation.DatabaseCreation):
    def _destroy_test_db(self, test_database_name: str, verbosity: int) -> None:
        # Idle connections would keep the deleted file open, and a test database made
        # again under the same name would be served by them.
        close_idle(test_database_name)
        super()._destroy_test_db(test_database_name, verbosity)  # type: ignore[misc]
        if test_database_name and not self.is_in_memory_db(test_database_name):
            with contextlib.suppress(FileNotFoundError):
                os.remove(f"{test_database_name}-writer")


class DatabaseWrapper(base.DatabaseWrapper):
    creation_class = DatabaseCreation
    _turn: _WriterTurn | None = None  # while this connection's transaction holds it

    def get_connection_params(self) -> dict[str, Any]:
        params = dict(super().get_connection_params())
        params.pop("pool", None)  # ours, not sqlite3.connect()'s
        return params

    def _idle(self) -> _IdleConnections | None:
        options = self.settings_dict["OPTIONS"].get("pool")
        if not options or self.is_in_memory_db():
            return None
        max_idle = DEFAULT_MAX_IDLE
        if isinstance(options, dict):
            max_idle = int(options.get("max_idle", DEFAULT_MAX_IDLE))
        key = (os.getpid(), str(self.settings_dict["NAME"]))
        with _IDLE_LOCK:
            idle = _IDLE.get(key)
            if idle is None:
                idle = _IDLE[key] = _IdleConnections(max_idle)
        return idle

    def get_new_connection(self, conn_params: dict[str, Any]) -> sqlite3.Connection:
        idle = self._idle()
        reused = idle.take() if idle is not None else None
        if reused is not None:
            return reused
        conn: sqlite3.Connection = super().get_new_connection(conn_params)
        return conn

    def _close(self) -> None:
        idle = self._idle()
        # Closed inside an atomic block, the wrapper still holds on to the connection until
        # the block ends: that one is really closed, never shared.
        if (
            self.connection is not None
            and idle is not None
            and not self.in_atomic_block
            and idle.give(self.connection)
        ):
            self._end_turn()
            return
        try:
            super()._close()  # type: ignore[misc]  # not in django-stubs
        finally:
            self._end_turn()

    def _writer_turn(self) -> _WriterTurn | None:
        if (
            not self.settings_dict["OPTIONS"].get("pool")
            or self.is_in_memory_db()
            # Set on connecting; these two take SQLite's write lock at BEGIN.
            or getattr(self, "transaction_mode", None) not in {"IMMEDIATE", "EXCLUSIVE"}
        ):
            return None
        key = (os.getpid(), str(self.settings_dict["NAME"]))
        with _IDLE_LOCK:
            turn = _TURNS.get(key)
            if turn is None:
                turn = _TURNS[key] = _WriterTurn(key[1])
        return turn

    def _start_transaction_under_autocommit(self) -> None:
        turn = self._writer_turn()
        if turn is not None and self._turn is None:
            turn.take(timeout=float(self.settings_dict["OPTIONS"].get("timeout", 5)))
            self._turn = turn
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._end_turn()
            raise

    def _end_turn(self) -> None:
        turn, self._turn = self._turn, None
        if turn is not None:
            turn.give_back()

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]  # not in django-stubs
        finally:
            self._end_turn()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]  # not in django-stubs
        finally:
            self._end_turn()

    def close_pool(self) -> None:
        """Close this process's idle connections (as PostgreSQL's backend names it)."""
        close_idle(self.settings_dict["NAME"])
