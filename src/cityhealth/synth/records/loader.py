"""`cityhealth synth records`: the clinical history of the first N persons of the registry,
written through the store's bulk path (`records.bulk`).

First the directory (an Organization and a Location per facility, practitioners and their
roles), whatever of it is not stored yet. Then the persons in id order, a page at a time:
those whose records from this seed are already stored are skipped, the others' resources are
generated and written in batches of about `batch` resources, one transaction per batch, a
person never split across two. An interrupted run therefore keeps every batch it committed
and the next run goes on from there. Memory holds one page of persons and one batch.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import multiprocessing.queues
import queue
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, connections, transaction
from tqdm import tqdm

from cityhealth.facilities.models import Facility
from cityhealth.people.models import InsuranceCard, Person
from cityhealth.records.bulk import (
    NewResource,
    analyze_store,
    existing_ids,
    persons_with_resources,
    write_new_resources,
)
from cityhealth.synth.records.catalog import load_catalog
from cityhealth.synth.records.directory import (
    City,
    FacilityInfo,
    build_city,
    directory_resources,
)
from cityhealth.synth.records.generator import PersonInput, RecordsGenerator

SOURCE_PREFIX = "synth:records:"
DIRECTORY_SOURCE = "synth:directory"
DEFAULT_BATCH = 20_000  # resources per transaction
_PAGE = 1000  # persons read from the registry at a time


def source_tag(seed: int) -> str:
    """`meta.source` (and the store's source column) of every resource of this seed."""
    return f"{SOURCE_PREFIX}{seed}"


@dataclass
class RecordsReport:
    seed: int
    years: int
    vendor: str
    persons: int = 0  # persons whose records were written by this run
    skipped: int = 0  # persons whose records were already there
    directory: int = 0  # directory resources written by this run
    counts: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def written(self) -> int:
        return sum(self.counts.values())

    def lines(self) -> list[str]:
        rate = self.written / self.seconds if self.seconds else 0.0
        per_person = (self.written - self.directory) / self.persons if self.persons else 0.0
        out = [
            f"Wrote {self.written:,} resources into {self.vendor} in {self.seconds:.1f} s "
            f"({rate:,.0f} resources/s): {self.persons:,} persons (seed {self.seed}, "
            f"{self.years} years, {per_person:.1f} resources each), {self.directory:,} "
            f"directory resources; {self.skipped:,} persons already loaded were skipped.",
        ]
        out += [f"  {kind}: {n:,}" for kind, n in sorted(self.counts.items())]
        return out


def registry_facilities() -> list[FacilityInfo]:
    return [
        FacilityInfo(
            code=f.code,
            name=f.name,
            name_en=f.name_en,
            kind=f.kind,
            specialty=f.specialty,
            insurance_code=f.insurance_code,
            ward_code=f.ward_id or "",
            address=f.address,
            latitude=f.latitude,
            longitude=f.longitude,
            parent_code=f.parent.code if f.parent_id and f.parent else "",
        )
        for f in Facility.objects.filter(is_active=True).select_related("parent").order_by("code")
    ]


def registry_persons(limit: int) -> Iterator[list[PersonInput]]:
    """The first `limit` persons of the registry (merged ones left out), a page at a time."""
    last_id = 0
    remaining = limit
    while remaining > 0:
        page = list(
            Person.objects.filter(id__gt=last_id, merged_into__isnull=True)
            .order_by("id")
            .values_list("id", "birth_date", "birth_year", "sex", "ward_id")[
                : min(_PAGE, remaining)
            ]
        )
        if not page:
            return
        last_id = page[-1][0]
        remaining -= len(page)
        cards: dict[int, str] = {}
        for person_id, facility in (
            InsuranceCard.objects.filter(person_id__in=[row[0] for row in page])
            .exclude(primary_care_facility="")
            .order_by("person_id", "valid_to")
            .values_list("person_id", "primary_care_facility")
        ):
            cards[person_id] = facility  # the card valid longest wins
        yield [
            PersonInput(
                person_id=person_id,
                birth_date=born or dt.date(year or 1970, 1, 1),
                sex=sex,
                ward_code=ward or "",
                primary_care=cards.get(person_id, ""),
            )
            for person_id, born, year, sex, ward in page
        ]


def load_records(
    *,
    seed: int,
    persons: int,
    years: int | None = None,
    batch: int = DEFAULT_BATCH,
    trusted: bool = False,
    workers: int = 1,
    progress: bool = False,
) -> RecordsReport:
    """Write the directory and the records of the first `persons` persons (see the module's
    docstring); `trusted` skips validation (the generator's output is validated by its tests).

    With `workers` > 1 (PostgreSQL), that many processes share the persons (every
    `workers`-th of the list each), each with its own connection and transactions: the
    generator and the index extraction are Python, so one process keeps one core busy."""
    catalog = load_catalog()
    years = years or catalog.default_years
    city = build_city(registry_facilities(), catalog)
    generator = RecordsGenerator(catalog=catalog, city=city, seed=seed, years=years)
    report = RecordsReport(seed=seed, years=years, vendor=connection.vendor)
    started = time.perf_counter()
    report.directory = _load_directory(city, trusted=trusted, counts=report.counts)
    job = _Job(generator, persons, source_tag(seed), batch, trusted)
    with tqdm(
        total=persons, unit=" persons", disable=not progress, smoothing=0.05, mininterval=1.0
    ) as bar:

        def tally(done: _Done) -> None:
            report.persons += done.persons
            report.skipped += done.skipped
            report.counts.update(done.counts)
            bar.update(done.persons + done.skipped)
            rate = report.written / (time.perf_counter() - started)
            bar.set_postfix_str(f"{report.written:,} resources, {rate:,.0f}/s")

        # Other processes cannot see an uncommitted registry: in a transaction, load here.
        if workers > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block:
            _in_processes(job, workers, tally)
        else:
            job.run(shard=0, shards=1, tally=tally)
    if report.written:
        analyze_store()
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class _Done:
    """What one batch (or one page of persons already loaded) did."""

    persons: int = 0
    skipped: int = 0
    counts: Counter[str] = field(default_factory=Counter)


@dataclass
class _Job:
    generator: RecordsGenerator
    persons: int
    source: str
    batch: int
    trusted: bool

    def run(self, *, shard: int, shards: int, tally: Callable[[_Done], None]) -> None:
        """Load every `shards`-th person of the list, starting at the `shard`-th."""
        pending: list[NewResource] = []
        pending_persons = 0

        def flush() -> None:
            nonlocal pending_persons
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    # A lost batch after a crash is loaded again by the next run.
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL synchronous_commit = off")
                result = write_new_resources(
                    resources=pending, source=self.source, trusted=self.trusted
                )
            tally(_Done(persons=pending_persons, counts=result.by_type))
            pending.clear()
            pending_persons = 0

        position = 0
        for page in registry_persons(self.persons):
            mine = [p for i, p in enumerate(page, start=position) if i % shards == shard]
            position += len(page)
            done = persons_with_resources(
                person_ids=[p.person_id for p in mine], source=self.source
            )
            if done:
                tally(_Done(skipped=len(done)))
            for person in mine:
                if person.person_id in done:
                    continue
                pending.extend(
                    NewResource(body=body, person_id=person.person_id)
                    for body in self.generator.person(person)
                )
                pending_persons += 1
                if len(pending) >= self.batch:
                    flush()
        if pending or pending_persons:
            flush()


def _in_processes(job: _Job, workers: int, tally: Callable[[_Done], None]) -> None:
    """Run `job` in `workers` forked processes, tallying their batches as they come."""
    context = multiprocessing.get_context("fork")
    messages: multiprocessing.queues.Queue[tuple[str, Any]] = context.Queue()
    connections.close_all()  # each process opens its own

    def work(shard: int) -> None:
        try:
            job.run(shard=shard, shards=workers, tally=lambda done: messages.put(("batch", done)))
            messages.put(("finished", shard))
        except BaseException:
            messages.put(("failed", traceback.format_exc()))
        finally:
            connections.close_all()

    processes = [context.Process(target=work, args=(shard,)) for shard in range(workers)]
    for process in processes:
        process.start()
    running, failure = workers, ""
    try:
        while running:
            try:
                kind, value = messages.get(timeout=5)
            except queue.Empty:
                if not any(process.is_alive() for process in processes):
                    failure = failure or "a loader process ended without a word (killed?)"
                    break
                continue
            if kind == "batch":
                tally(value)
            else:
                running -= 1
                failure = failure or (value if kind == "failed" else "")
    finally:
        for process in processes:
            process.join()
    if failure:
        raise RuntimeError(f"a loader process failed:\n{failure}")


def _load_directory(city: City, *, trusted: bool, counts: Counter[str]) -> int:
    """Write the directory resources not yet stored; how many were written."""
    resources = list(directory_resources(city))
    missing: list[NewResource] = []
    for resource_type in sorted({r["resourceType"] for r in resources}):
        of_type = [r for r in resources if r["resourceType"] == resource_type]
        stored = existing_ids(resource_type=resource_type, logical_ids=[r["id"] for r in of_type])
        missing += [NewResource(body=r) for r in of_type if r["id"] not in stored]
    if not missing:
        return 0
    with transaction.atomic():
        result = write_new_resources(resources=missing, source=DIRECTORY_SOURCE, trusted=trusted)
    counts.update(result.by_type)
    return result.written
