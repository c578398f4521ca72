"""`prepared_statements()`: the ORM's statements of a hot path prepared once per connection
on PostgreSQL, with no prepared statement for a text that never repeats (a savepoint)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from cityhealth.core.models import AuditEntry
from cityhealth.db import prepared_statements

pytestmark = pytest.mark.django_db


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL prepares")
def test_a_statement_run_twice_in_the_block_is_prepared_and_a_savepoint_never():
    before = _prepared()
    with prepared_statements():
        for actor in ("user:1", "user:2", "user:3"):
            with transaction.atomic():  # a savepoint inside the test's transaction
                assert not AuditEntry.objects.filter(actor=actor).exists()
    made = [s for s in _prepared() if s not in before]
    assert len(made) == 1  # the read, once, whatever its value
    assert "core_audit_entries" in made[0]
    assert "$1" in made[0]  # bound on the server
    assert not any("SAVEPOINT" in s for s in made)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL prepares")
def test_after_the_block_statements_are_as_before():
    connection.ensure_connection()
    raw = connection.connection
    factory, threshold = raw.cursor_factory, raw.prepare_threshold
    with prepared_statements():
        assert raw.cursor_factory is not factory
    assert (raw.cursor_factory, raw.prepare_threshold) == (factory, threshold)
    before = _prepared()
    for actor in ("user:4", "user:5", "user:6"):
        assert not AuditEntry.objects.filter(actor=actor).exists()
    assert _prepared() == before


def test_elsewhere_the_block_changes_nothing():
    with prepared_statements():
        assert AuditEntry.objects.filter(actor="user:7").count() == 0
