"""Writing to and verifying the hash-chained audit log.

Every entry's hash covers its own fields and the previous entry's hash. Appends lock the
single head row, so entries get gap-free sequence numbers in commit order on both databases.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from cityhealth.core import clock
from cityhealth.core.models import AuditEntry, AuditHead

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
    """Append one entry. Runs inside the caller's transaction: it is kept only if that commits."""
    with transaction.atomic():
        head = AuditHead.objects.select_for_update().get(pk=1)
        entry = AuditEntry(
            seq=head.seq + 1,
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
            prev_hash=head.entry_hash,
        )
        entry.entry_hash = compute_hash(entry)
        entry.save()
        head.seq = entry.seq
        head.entry_hash = entry.entry_hash
        head.save(update_fields=["seq", "entry_hash"])
    return entry


@dataclass
class ChainReport:
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def _entries(chunk_size: int) -> Iterator[AuditEntry]:
    return AuditEntry.objects.order_by("seq").iterator(chunk_size=chunk_size)


def verify_chain(*, chunk_size: int = 5000, max_problems: int = 100) -> ChainReport:
    """Walk the chain from the first entry; report every break (edit, deletion, truncation)."""
    report = ChainReport()
    expected_seq = 1
    previous_hash = GENESIS_HASH

    def problem(text: str) -> None:
        if len(report.problems) < max_problems:
            report.problems.append(text)

    for entry in _entries(chunk_size):
        report.checked += 1
        if entry.seq != expected_seq:
            problem(f"entries #{expected_seq}..#{entry.seq - 1} are missing (deleted)")
        if entry.prev_hash != previous_hash:
            problem(f"entry #{entry.seq} does not follow the entry before it")
        if compute_hash(entry) != entry.entry_hash:
            problem(f"entry #{entry.seq} was edited after it was written")
        expected_seq = entry.seq + 1
        previous_hash = entry.entry_hash

    head = AuditHead.objects.filter(pk=1).first()
    if head is None:
        problem("the chain head is missing")
    elif head.seq != expected_seq - 1 or head.entry_hash != previous_hash:
        problem(
            f"the chain ends at #{expected_seq - 1} but its head records #{head.seq}: "
            "entries were cut off the end"
        )
    return report
