from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django_tasks_db.models import DBTaskResult

from cityhealth.core import audit, clock
from cityhealth.core.audit import compute_hash, record_audit, seal_pending, verify_chain
from cityhealth.core.models import AuditEntry, AuditHead

pytestmark = pytest.mark.django_db


def _write(n: int, *, seal: bool = True) -> list[AuditEntry]:
    for i in range(n):
        record_audit(
            actor="user:1",
            action="person.read",
            target_type="person",
            target_id=i,
            details={"purpose": "treatment", "i": i},
        )
    if seal:
        seal_pending()
    return list(AuditEntry.objects.order_by("id"))


def _drop_guard() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE core_audit_entries DISABLE TRIGGER core_audit_entries_no_update"
            )
        else:
            cursor.execute("DROP TRIGGER IF EXISTS core_audit_entries_no_update")


def test_entries_are_written_unsealed_then_sealed_in_order():
    written = _write(5, seal=False)
    assert all(e.seq is None and e.entry_hash is None for e in written)
    assert verify_chain().unsealed == 5
    assert seal_pending() == 5
    assert seal_pending() == 0
    entries = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert [e.target_id for e in entries] == ["0", "1", "2", "3", "4"]
    assert entries[0].prev_hash == "0" * 64
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.entry_hash
    report = verify_chain()
    assert report.intact
    assert (report.checked, report.unsealed) == (5, 0)
    head = AuditHead.objects.get()
    assert (head.seq, head.entry_hash) == (5, entries[-1].entry_hash)


def test_sealing_in_batches_continues_the_chain():
    _write(7, seal=False)
    assert seal_pending(batch_size=3) == 7
    _write(2, seal=False)
    assert seal_pending(batch_size=3) == 2
    assert [e.seq for e in AuditEntry.objects.order_by("id")] == list(range(1, 10))
    assert verify_chain().intact


def test_verify_command_reports_intact_chain_and_waiting_entries(capsys):
    _write(3)
    _write(2, seal=False)
    call_command("audit", "verify")
    out = capsys.readouterr().out
    assert "3 entries verified" in out
    assert "2 newer entries wait to be sealed" in out
    call_command("audit", "seal")
    assert "sealed: 2" in capsys.readouterr().out


def test_model_refuses_edit_and_delete():
    entry = _write(1)[0]
    entry.action = "something.else"
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()


@pytest.mark.parametrize("sealed", [True, False])
def test_database_refuses_content_changes_sealed_or_not(sealed):
    _write(1, seal=sealed)
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.update(action="tampered")


def test_database_refuses_resealing():
    _write(1)
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.update(seq=99, entry_hash="f" * 64)


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
        _write(1, seal=False)
    seal_pending()
    assert AuditEntry.objects.get().occurred_at == instant
    assert verify_chain().intact


@pytest.mark.django_db(transaction=True)
def test_commit_asks_the_worker_to_seal_once_a_second(monkeypatch):
    monkeypatch.setattr(audit, "_last_request", 0.0)
    instant = dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.UTC)
    with clock.frozen_at(instant):
        _write(3, seal=False)  # three commits (autocommit)
    tasks = list(DBTaskResult.objects.all())
    assert len(tasks) == 1  # three commits' worth of entries, one request
    assert tasks[0].task_path == "cityhealth.core.tasks.seal_audit_log"
    assert tasks[0].run_after == instant + dt.timedelta(seconds=1)
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert verify_chain().unsealed == 0
    assert verify_chain().checked == 3
