"""The PostgreSQL pool's check: a connection that went out a moment ago is handed out again
without a ping; one that sat idle is pinged, and replaced when the server dropped it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection
from psycopg_pool import ConnectionPool

from cityhealth.db.postgresql import base

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pool() -> Iterator[ConnectionPool]:
    params = connection.get_connection_params()
    made = ConnectionPool(
        kwargs={**params, "autocommit": True},
        min_size=1,
        max_size=1,
        check=base.check_when_idle,
        open=True,
    )
    yield made
    made.close()


def _drop(conn: Any) -> None:
    """The server ends this connection, as a restart or a failover would."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [conn.info.backend_pid])


def test_a_connection_used_a_moment_ago_is_not_pinged(pool, monkeypatch):
    monkeypatch.setattr(base, "IDLE_BEFORE_CHECK", 60.0)
    with pool.connection() as conn:
        conn.execute("SELECT 1")
    with pool.connection() as conn:
        _drop(conn)  # handed out again at once: no ping finds out
    with pool.connection() as conn, pytest.raises(psycopg.OperationalError):
        conn.execute("SELECT 1")


def test_an_idle_connection_is_pinged_and_a_dropped_one_replaced(pool, monkeypatch):
    monkeypatch.setattr(base, "IDLE_BEFORE_CHECK", 0.0)
    with pool.connection() as conn:
        first = conn.info.backend_pid
        _drop(conn)
    with pool.connection() as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        assert conn.info.backend_pid != first
