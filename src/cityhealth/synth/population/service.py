"""Generate a population and load it: detection of an earlier run, the streamed load, legacy
records. Runs inside the caller's transaction (the command opens it) and never commits."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
from django.db import connection
from tqdm import tqdm

from cityhealth.people.enums import IdentifierKind
from cityhealth.people.models import Person, PersonIdentifier
from cityhealth.synth.population.generator import (
    SOURCE_PREFIX,
    Chunk,
    IdBases,
    PersonFacts,
    PopulationGenerator,
    source_tag,
)
from cityhealth.synth.population.legacy import build_legacy_records, write_legacy_csv
from cityhealth.synth.population.loading import TABLES, IndexMode, Prepared, make_sink
from cityhealth.synth.population.params import load_parameters
from cityhealth.synth.population.tables import Tables, load_tables

T = TypeVar("T")


class PopulationConflict(RuntimeError):
    """The database already holds another synthetic population."""


@dataclass
class PopulationReport:
    persons: int
    seed: int
    vendor: str
    already_present: bool = False
    first_person_id: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    index_mode: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    legacy_records: list[dict[str, str]] = field(default_factory=list)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    def lines(self) -> list[str]:
        if self.already_present:
            return [
                f"The database already holds the population of seed {self.seed} with "
                f"{self.persons:,} persons (ids from {self.first_person_id}): nothing to do."
            ]
        rate = self.persons / self.total_seconds if self.total_seconds else 0.0
        out = [
            f"Loaded {self.persons:,} persons (seed {self.seed}) into {self.vendor} "
            f"in {self.total_seconds:.1f} s ({rate:,.0f} persons/s; indexes: {self.index_mode})",
        ]
        out += [f"  {table}: {n:,} rows" for table, n in self.counts.items()]
        out += [f"  {phase}: {s:.1f} s" for phase, s in self.seconds.items()]
        return out


def _prefetch(items: Iterator[T], depth: int) -> Iterator[T]:
    """Produce `items` in a background thread, at most `depth` ahead of the consumer.

    The producer (NumPy and string building) holds the GIL; the consumer mostly waits on the
    database socket, which releases it, so generation and loading overlap.
    """
    slots: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                slots.put((True, item))
            slots.put((False, None))
        except BaseException as error:  # handed to the consumer, which re-raises it
            slots.put((False, error))

    worker = threading.Thread(target=produce, name="synth-population", daemon=True)
    worker.start()
    try:
        while True:
            more, value = slots.get()
            if not more:
                if isinstance(value, BaseException):
                    raise value
                return
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        while worker.is_alive():
            with contextlib.suppress(queue.Empty):
                slots.get(timeout=0.1)


@dataclass
class _LegacyPlan:
    matches: np.ndarray  # row numbers (sorted) of persons copied into legacy records
    namesakes: np.ndarray  # row numbers whose names are reused for non-matches
    others: int  # persons not in the registry
    found: dict[int, PersonFacts] = field(default_factory=dict)

    @property
    def rows(self) -> np.ndarray:
        return np.union1d(self.matches, self.namesakes)

    def collect(self, chunk: Chunk, tables: Tables) -> None:
        wanted = self.rows
        lo, hi = np.searchsorted(wanted, [chunk.start, chunk.start + chunk.size])
        local = wanted[lo:hi] - chunk.start
        for row, facts in zip(
            (local + chunk.start).tolist(), chunk.facts(local, tables), strict=True
        ):
            self.found[row] = facts


def _legacy_plan(persons: int, seed: int, tables: Tables, count: int | None) -> _LegacyPlan:
    legacy = tables.params.legacy
    k = round(persons * legacy.default_share) if count is None else count
    k = max(0, min(k, persons))
    non_matches = round(k * legacy.non_match_share)
    namesakes = min(round(non_matches * legacy.namesake_share_of_non_matches), persons - k)
    rng = np.random.default_rng([seed, 0x1E6AC7, 1])
    picked = rng.choice(persons, size=k + namesakes, replace=False) if persons else np.zeros(0)
    picked = picked.astype(np.int64)
    return _LegacyPlan(
        matches=np.sort(picked[:k]),
        namesakes=np.sort(picked[k:]),
        others=non_matches - namesakes,
    )


def _legacy_records(plan: _LegacyPlan, tables: Tables, seed: int) -> list[dict[str, str]]:
    others: list[PersonFacts] = []
    if plan.others:
        outsiders = PopulationGenerator(tables, persons=plan.others, seed=seed + 1_000_003)
        for chunk in outsiders.chunks():
            others += chunk.facts(np.arange(chunk.size, dtype=np.int64), tables)
    return build_legacy_records(
        tables=tables,
        seed=seed,
        matches=[plan.found[r] for r in plan.matches.tolist()],
        namesakes=[plan.found[r] for r in plan.namesakes.tolist()],
        others=others,
    )


def _existing(generator: PopulationGenerator) -> int | None:
    """Where this very population starts in the database (its first person id), if loaded."""
    if generator.persons == 0:
        return None
    first = next(generator.chunks())
    row = next((i for i, cid in enumerate(first.citizen_id) if cid), None)
    if row is None:
        return None
    identifier = (
        PersonIdentifier.objects.filter(
            kind=IdentifierKind.CITIZEN_ID, value=first.citizen_id[row], source=generator.source
        )
        .values_list("person_id", flat=True)
        .first()
    )
    if identifier is None:
        return None
    start = identifier - row
    loaded = Person.objects.filter(id__gte=start, id__lt=start + generator.persons).count()
    return start if loaded == generator.persons else None


def _other_population(tag: str) -> str | None:
    """The source tag of another synthetic population in the database, if any."""
    found = (
        PersonIdentifier.objects.filter(source__startswith=SOURCE_PREFIX)
        .exclude(source=tag)
        .values_list("source", flat=True)
        .first()
    )
    return str(found) if found else None


def generate_population(
    *,
    persons: int,
    seed: int,
    legacy_count: int | None = None,
    want_legacy: bool = False,
    batch_size: int | None = None,
    indexes: IndexMode = IndexMode.AUTO,
    nguyen_share: float | None = None,
    province_code: str = "01",
    progress: bool = False,
    log: Callable[[str], None] = print,
) -> PopulationReport:
    """Generate `persons` people for `seed` and load them, unless they are already there.

    Must run inside a transaction (the caller's). Returns what was done; with `want_legacy`,
    also the legacy records (for the caller to write after commit).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("generate_population must run inside a transaction")
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    params = load_parameters()
    tables = load_tables(params, province_code=province_code, nguyen_share=nguyen_share)
    report = PopulationReport(persons=persons, seed=seed, vendor=connection.vendor)
    plan = _legacy_plan(persons, seed, tables, legacy_count) if want_legacy else None

    start = _existing(PopulationGenerator(tables, persons=persons, seed=seed))
    if start is not None:
        report.already_present = True
        report.first_person_id = start
        if plan is not None:
            # The rows are known from the seed: regenerate them (nothing is written).
            dry = PopulationGenerator(tables, persons=persons, seed=seed, bases=IdBases(start))
            for chunk in dry.chunks():
                plan.collect(chunk, tables)
            report.legacy_records = _legacy_records(plan, tables, seed)
        return report
    other = _other_population(source_tag(seed, persons))
    if other:
        raise PopulationConflict(
            f"the database already holds another synthetic population ({other}); its ID "
            "numbers could collide with this one's: load into a fresh database"
        )

    sink = make_sink(batch_size=batch_size)
    bases = sink.reserve(persons)
    report.first_person_id = bases.person
    mode = sink.before_load(persons, indexes)
    report.index_mode = mode.value
    timings["prepare"] = time.perf_counter() - clock

    clock = time.perf_counter()
    generator = PopulationGenerator(tables, persons=persons, seed=seed, bases=bases)
    counts = dict.fromkeys(TABLES, 0)

    def produce() -> Iterator[Prepared]:
        for chunk in generator.chunks():
            if plan is not None:
                plan.collect(chunk, tables)
            yield sink.prepare(chunk)

    flush_at = sink.flush_persons
    pending: list[Prepared] = []
    pending_persons = 0
    with tqdm(
        total=persons, unit=" persons", unit_scale=True, disable=not progress, smoothing=0.1
    ) as bar:

        def flush() -> None:
            nonlocal pending_persons
            sink.write(pending)
            for p in pending:
                for table, n in p.counts.items():
                    counts[table] += n
            bar.update(pending_persons)
            pending.clear()
            pending_persons = 0

        stream = _prefetch(produce(), depth=2) if connection.vendor == "postgresql" else produce()
        for prepared in stream:
            pending.append(prepared)
            pending_persons += prepared.persons
            if pending_persons >= flush_at:
                flush()
        if pending:
            flush()
    timings["generate and load"] = time.perf_counter() - clock

    clock = time.perf_counter()
    sink.finish_ids(bases, counts)
    sink.after_load(mode, log=log)
    timings["indexes and statistics"] = time.perf_counter() - clock
    report.counts = counts
    report.seconds = timings
    if plan is not None:
        report.legacy_records = _legacy_records(plan, tables, seed)
    return report


def write_legacy(path: Path, report: PopulationReport) -> None:
    write_legacy_csv(path, report.legacy_records)
