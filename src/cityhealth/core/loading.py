"""What a loader of reference data did: counts of created, updated and unchanged records."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass
class LoadCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class LoadReport:
    """What a loader of reference data did, per kind of record ("wards", "facilities", ...)."""

    counts: dict[str, LoadCounts] = field(default_factory=dict)

    def add(self, kind: str, outcome: Outcome, n: int = 1) -> None:
        counts = self.counts.setdefault(kind, LoadCounts())
        setattr(counts, outcome.value, getattr(counts, outcome.value) + n)

    def __getitem__(self, kind: str) -> LoadCounts:
        return self.counts.get(kind, LoadCounts())

    def merge(self, other: LoadReport) -> LoadReport:
        for kind, counts in other.counts.items():
            self.add(kind, Outcome.CREATED, counts.created)
            self.add(kind, Outcome.UPDATED, counts.updated)
            self.add(kind, Outcome.UNCHANGED, counts.unchanged)
        return self

    @property
    def created(self) -> int:
        return sum(c.created for c in self.counts.values())

    @property
    def updated(self) -> int:
        return sum(c.updated for c in self.counts.values())

    @property
    def changed(self) -> bool:
        return self.created > 0 or self.updated > 0

    def __str__(self) -> str:
        return "; ".join(
            f"{kind}: {c.created} created, {c.updated} updated, {c.unchanged} unchanged"
            for kind, c in self.counts.items()
        )
