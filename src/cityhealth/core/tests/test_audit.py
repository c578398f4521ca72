from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from cityhealth.core import clock
from cityhealth.core.audit import record_audit, verify_chain
from cityhealth.core.models import AuditEntry, AuditHead

pytestmark = pytest.mark.django_db


def _write(n: int) -> list[AuditEntry]:
    return [
        record_audit(
            actor="user:1",
            action="person.read",
            target_type="person",
            target_id=i,
            details={"purpose": "treatment", "i": i},
        )
        for i in range(n)
    ]


def _drop_guard() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE core_audit_entries DISABLE TRIGGER core_audit_entries_no_update"
            )
        else:
            cursor.execute("DROP TRIGGER IF EXISTS core_audit_entries_no_update")


def test_entries_chain_with_gap_free_sequence():
    entries = _write(5)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == "0" * 64
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.entry_hash
    report = verify_chain()
    assert report.intact
    assert report.checked == 5
    head = AuditHead.objects.get()
    assert (head.seq, head.entry_hash) == (5, entries[-1].entry_hash)


def test_verify_command_reports_intact_chain(capsys):
    _write(3)
    call_command("audit", "verify")
    assert "3 entries verified" in capsys.readouterr().out


def test_model_refuses_edit_and_delete():
    entry = _write(1)[0]
    entry.action = "something.else"
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()


def test_database_refuses_update_through_sql():
    _write(1)
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.update(action="tampered")


def test_detects_edited_entry():
    _write(4)
    _drop_guard()
    AuditEntry.objects.filter(seq=2).update(details={"purpose": "curiosity"})
    report = verify_chain()
    assert not report.intact
    assert any("#2 was edited" in p for p in report.problems)
    with pytest.raises(CommandError):
        call_command("audit", "verify")


def test_detects_deleted_middle_entry():
    _write(4)
    _drop_guard()
    AuditEntry.objects.filter(seq=3).delete()
    problems = verify_chain().problems
    assert any("#3..#3 are missing" in p for p in problems)


def test_detects_entries_cut_off_the_end():
    _write(4)
    _drop_guard()
    AuditEntry.objects.filter(seq__gte=3).delete()
    problems = verify_chain().problems
    assert any("cut off the end" in p for p in problems)


def test_detects_rewritten_entry_with_recomputed_hash():
    # An attacker who recomputes the edited entry's own hash still breaks the next link.
    from cityhealth.core.audit import compute_hash

    _write(3)
    _drop_guard()
    entry = AuditEntry.objects.get(seq=2)
    entry.actor = "user:999"
    AuditEntry.objects.filter(seq=2).update(actor="user:999", entry_hash=compute_hash(entry))
    problems = verify_chain().problems
    assert any("#3 does not follow" in p for p in problems)


def test_time_comes_from_the_clock():
    instant = dt.datetime(2026, 3, 1, 1, 30, tzinfo=dt.UTC)
    with clock.frozen_at(instant):
        entry = _write(1)[0]
    entry.refresh_from_db()
    assert entry.occurred_at == instant
    assert verify_chain().intact
