"""Writing, sealing and verifying the hash-chained audit log.

Writing is a plain insert in the caller's transaction. Sealing, in the background, gives
committed entries gap-free sequence numbers and a hash covering each entry's fields and the
previous entry's hash; the one-row head records the tip. Verifying walks the sealed chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from cityhealth.core import clock
from cityhealth.core.models import AuditEntry, AuditHead
from cityhealth.db import insert_row

GENESIS_HASH = "0" * 64


def _canonical(entry: AuditEntry) -> bytes:
    payload = [
        entry.seq,
        entry.occurred_at.isoformat(timespec="microseconds"),
        entry.actor,
        entry.actor_label,
        entry.action,
        entry.target_type,
        entry.target_id,
        entry.facility_code,
        entry.reason,
        entry.source_ip,
        entry.details,
        entry.prev_hash,
    ]
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def compute_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(_canonical(entry)).hexdigest()


def record_audit(
    *,
    actor: str,
    action: str,
    actor_label: str = "",
    target_type: str = "",
    target_id: str | int = "",
    facility_code: str = "",
    reason: str = "",
    source_ip: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one entry in the caller's transaction (kept only if that commits).

    A plain insert, with no lock: requests that audit never wait for each other. The entry
    joins the chain when the sealer runs, moments after the commit.
    """
    entry = AuditEntry(
        occurred_at=clock.now(),
        actor=actor,
        actor_label=actor_label[:200],
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        facility_code=facility_code,
        reason=reason[:300],
        source_ip=source_ip[:45],
        details=json.loads(json.dumps(details or {}, default=str)),
    )
    insert_row(entry)  # every audited request writes one: made once, not compiled
    transaction.on_commit(request_sealing)
    return entry


def seal_pending(*, batch_size: int = 5000) -> int:
    """Give every unsealed entry its place in the chain, in batches; return how many.

    Each batch is one short transaction holding the head's row lock, so sealers never
    interleave. Entries are sealed in the order they were written (their id) as far as their
    transactions have committed; one that commits late simply gets a later place.
    """
    sealed = 0
    while True:
        with transaction.atomic():
            head = AuditHead.objects.select_for_update().get(pk=1)
            batch = list(AuditEntry.objects.filter(seq__isnull=True).order_by("id")[:batch_size])
            seq, previous = head.seq, head.entry_hash
            for entry in batch:
                seq += 1
                entry.seq, entry.prev_hash = seq, previous
                entry.entry_hash = previous = compute_hash(entry)
            if batch:
                _write_seals(batch)
                head.seq, head.entry_hash = seq, previous
                head.save(update_fields=["seq", "entry_hash"])
        sealed += len(batch)
        if len(batch) < batch_size:
            return sealed


def _write_seals(batch: list[AuditEntry]) -> None:
    # One prepared UPDATE per entry: linear, where bulk_update's CASE expression is quadratic.
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET seq = %s, prev_hash = %s, entry_hash = %s "  # noqa: S608
            "WHERE id = %s AND seq IS NULL",
            [(e.seq, e.prev_hash, e.entry_hash, e.pk) for e in batch],
        )


_SEAL_DELAY = dt.timedelta(seconds=1)
_last_request = 0.0


def request_sealing() -> None:
    """Ask the worker to seal soon: at most once a second per process, a second from now,
    so that one run seals everything written in between."""
    global _last_request
    now = time.monotonic()
    if now - _last_request < _SEAL_DELAY.total_seconds():
        return
    _last_request = now
    from cityhealth.core.tasks import seal_audit_log

    seal_audit_log.using(run_after=clock.now() + _SEAL_DELAY).enqueue()


@dataclass
class ChainReport:
    checked: int = 0
    unsealed: int = 0  # written, not yet in the chain (the sealer has not run since)
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def _sealed_entries(chunk_size: int) -> Iterator[AuditEntry]:
    sealed = AuditEntry.objects.filter(seq__isnull=False).order_by("seq")
    return sealed.iterator(chunk_size=chunk_size)


def verify_chain(*, chunk_size: int = 5000, max_problems: int = 100) -> ChainReport:
    """Walk the sealed chain from the first entry; report every break (edit, deletion,
    truncation) and how many entries still wait to be sealed."""
    report = ChainReport()
    expected_seq = 1
    previous_hash = GENESIS_HASH

    def problem(text: str) -> None:
        if len(report.problems) < max_problems:
            report.problems.append(text)

    for entry in _sealed_entries(chunk_size):
        report.checked += 1
        seq = entry.seq or 0
        if seq != expected_seq:
            problem(f"entries #{expected_seq}..#{seq - 1} are missing (deleted)")
        if entry.prev_hash != previous_hash:
            problem(f"entry #{seq} does not follow the entry before it")
        if compute_hash(entry) != entry.entry_hash:
            problem(f"entry #{seq} was edited after it was written")
        expected_seq = seq + 1
        previous_hash = entry.entry_hash or ""

    report.unsealed = AuditEntry.objects.filter(seq__isnull=True).count()
    head = AuditHead.objects.filter(pk=1).first()
    if head is None:
        problem("the chain head is missing")
    elif head.seq != expected_seq - 1 or head.entry_hash != previous_hash:
        problem(
            f"the chain ends at #{expected_seq - 1} but its head records #{head.seq}: "
            "entries were cut off the end"
        )
    return report
