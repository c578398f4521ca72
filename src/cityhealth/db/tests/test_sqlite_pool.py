"""SQLite connections kept per process: reused across threads, handed back only when clean."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from django.db.utils import ConnectionHandler, OperationalError

from cityhealth import settings as project_settings
from cityhealth.db.sqlite.base import DatabaseWrapper, close_idle


@pytest.fixture(autouse=True)
def own_files(django_db_blocker: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """These tests open SQLite files of their own, not the tests' database, configured as
    the web server's (`python -m cityhealth.serve` turns the pool on)."""
    monkeypatch.setattr(project_settings, "DATABASE_POOL", True)
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def database(tmp_path: Path) -> Any:
    """A pooled SQLite wrapper on a file of its own (the tests' database is in memory)."""
    name = str(tmp_path / "pool.sqlite3")
    config = project_settings._database(f"sqlite:///{name}")
    handler = ConnectionHandler({"default": config})
    wrapper = handler["default"]
    assert isinstance(wrapper, DatabaseWrapper)
    with wrapper.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS t (x integer)")
    wrapper.close()
    yield handler
    handler.close_all()
    close_idle(name)


def raw_of(wrapper: Any) -> Any:
    wrapper.ensure_connection()
    return wrapper.connection


def test_a_closed_connection_serves_the_next_thread(database):
    first = database["default"]
    opened = raw_of(first)
    first.close()
    seen: list[Any] = []

    def request() -> None:  # Django's ASGI handler runs each request in a new thread
        wrapper = database["default"]
        seen.append(raw_of(wrapper))
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM t")
        wrapper.close()

    worker = threading.Thread(target=request)
    worker.start()
    worker.join()
    assert seen == [opened]


def test_a_connection_goes_back_without_its_open_transaction(database):
    wrapper = database["default"]
    raw = raw_of(wrapper)
    raw.execute("BEGIN")
    raw.execute("INSERT INTO t VALUES (1)")
    wrapper.close()
    again = raw_of(wrapper)
    assert again is raw
    assert again.in_transaction is False
    assert again.execute("SELECT count(*) FROM t").fetchone() == (0,)
    assert again.execute("PRAGMA journal_mode").fetchone() == ("wal",)  # settings kept


def test_a_connection_without_foreign_keys_is_closed_not_shared(database):
    wrapper = database["default"]
    raw = raw_of(wrapper)
    raw.execute("PRAGMA foreign_keys = OFF")
    wrapper.close()
    fresh = raw_of(wrapper)
    assert fresh is not raw
    assert fresh.execute("PRAGMA foreign_keys").fetchone() == (1,)


def test_closed_inside_an_atomic_block_it_is_really_closed(database):
    wrapper = database["default"]
    raw = raw_of(wrapper)
    wrapper.in_atomic_block = True  # as transaction.atomic() leaves it, without its rollback
    wrapper.close()
    with pytest.raises(sqlite3.ProgrammingError):  # closed, so never handed to another thread
        raw.execute("SELECT 1")
    wrapper.in_atomic_block = False
    wrapper.closed_in_transaction = False
    wrapper.connection = None


def begin(wrapper: Any) -> None:
    """What the outermost transaction.atomic() does on entering."""
    wrapper.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def commit(wrapper: Any) -> None:
    wrapper.commit()
    wrapper.set_autocommit(True)


def test_writers_of_a_process_take_turns(database):
    first = database["default"]
    begin(first)
    first.cursor().execute("INSERT INTO t VALUES (1)")
    order: list[str] = []

    def second_writer() -> None:
        wrapper = database["default"]
        begin(wrapper)  # waits for the first writer's COMMIT
        order.append("second began")
        wrapper.cursor().execute("INSERT INTO t VALUES (2)")
        commit(wrapper)
        wrapper.close()

    worker = threading.Thread(target=second_writer)
    worker.start()
    worker.join(0.3)
    assert worker.is_alive()  # still waiting for its turn
    order.append("first committed")
    commit(first)
    worker.join(5)
    assert order == ["first committed", "second began"]
    with first.cursor() as cursor:
        cursor.execute("SELECT x FROM t ORDER BY x")
        assert cursor.fetchall() == [(1,), (2,)]


def test_a_writer_waits_for_another_process_holding_the_turn(database):
    wrapper = database["default"]
    raw_of(wrapper)
    name = wrapper.settings_dict["NAME"]
    other_process = os.open(f"{name}-writer", os.O_RDWR | os.O_CREAT)  # as another process
    fcntl.flock(other_process, fcntl.LOCK_EX)
    began = threading.Event()

    def writer() -> None:
        mine = database["default"]
        begin(mine)
        began.set()
        commit(mine)
        mine.close()

    worker = threading.Thread(target=writer)
    worker.start()
    try:
        assert not began.wait(0.3)
    finally:
        fcntl.flock(other_process, fcntl.LOCK_UN)
        os.close(other_process)
    assert began.wait(5)
    worker.join(5)


def test_the_turn_passes_on_after_a_rollback_or_a_close(database):
    wrapper = database["default"]
    begin(wrapper)
    wrapper.rollback()
    wrapper.set_autocommit(True)
    begin(wrapper)
    wrapper.close()
    turn = wrapper._writer_turn()
    turn.take(timeout=1)  # free again
    turn.give_back()


def test_a_writer_that_waits_too_long_is_told_the_database_is_locked(tmp_path):
    name = str(tmp_path / "busy.sqlite3")
    config = project_settings._database(f"sqlite:///{name}")
    config["OPTIONS"]["timeout"] = 0.2
    handler = ConnectionHandler({"default": config})
    holder = handler["default"]
    begin(holder)
    failures: list[Exception] = []

    def late_writer() -> None:
        wrapper = handler["default"]
        try:
            begin(wrapper)
        except OperationalError as error:
            failures.append(error)
        finally:
            wrapper.close()

    worker = threading.Thread(target=late_writer)
    worker.start()
    worker.join(5)
    commit(holder)
    handler.close_all()
    close_idle(name)
    assert [str(error) for error in failures] == ["database is locked"]


def test_idle_connections_are_bounded(tmp_path):
    name = str(tmp_path / "small.sqlite3")
    config = project_settings._database(f"sqlite:///{name}")
    config["OPTIONS"]["pool"] = {"max_idle": 1}
    first, second = ConnectionHandler({"default": config}), ConnectionHandler({"default": config})
    kept, dropped = raw_of(first["default"]), raw_of(second["default"])
    first["default"].close()
    second["default"].close()  # one idle already: this one is closed
    try:
        assert raw_of(first["default"]) is kept
        assert raw_of(second["default"]) is not dropped
    finally:
        first.close_all()
        second.close_all()
        close_idle(name)


def test_in_memory_databases_are_never_pooled():
    config = project_settings._database("sqlite:///:memory:")
    wrapper = ConnectionHandler({"default": config})["default"]
    assert isinstance(wrapper, DatabaseWrapper)
    assert wrapper._idle() is None
    assert wrapper._writer_turn() is None


@pytest.mark.parametrize("pool", [True, False])
def test_the_settings_pool_both_databases_and_keep_conn_max_age_at_zero(monkeypatch, pool):
    monkeypatch.setattr(project_settings, "DATABASE_POOL", pool)
    sqlite = project_settings._database("sqlite:////tmp/x.sqlite3")
    postgres = project_settings._database("postgres://u@db:5432/cityhealth")
    # Under ASGI a connection cannot outlive its request's thread: only a pool keeps it.
    assert sqlite["CONN_MAX_AGE"] == postgres["CONN_MAX_AGE"] == 0
    if pool:
        assert sqlite["ENGINE"] == "cityhealth.db.sqlite"
        assert sqlite["OPTIONS"]["pool"] == {"max_idle": project_settings.DATABASE_POOL_SIZE}
        assert postgres["OPTIONS"]["pool"]["max_size"] == project_settings.DATABASE_POOL_SIZE
        assert postgres["CONN_HEALTH_CHECKS"] is True
        assert postgres["ENGINE"] == "cityhealth.db.postgresql"
    else:
        assert sqlite["ENGINE"] == "django.db.backends.sqlite3"
        assert "pool" not in sqlite["OPTIONS"]
        assert "pool" not in postgres.get("OPTIONS", {})
    for config in (sqlite, postgres):
        assert config["ATOMIC_REQUESTS"] is True
