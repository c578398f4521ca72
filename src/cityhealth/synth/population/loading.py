"""Writing generated rows: PostgreSQL `COPY` on the Django connection, SQLite `executemany`.

Ids come from the generator: the loader reads each table's sequence once, the generator numbers
rows from there, and the sequence is moved past the last id at the end (`setval`). The tables
are locked against other writers for the run, so nobody else takes ids meanwhile.

On PostgreSQL a large load into (nearly) empty tables goes faster without the secondary indexes
and foreign keys: they are dropped inside the transaction and rebuilt after the data is in
(index builds sort once instead of inserting row by row; a foreign key is then checked by one
join). Either way the transaction sees the tables as they were, or complete.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.db import connection

from cityhealth.synth.population.generator import Batch, Chunk, Const, IdBases

TABLES = ("people_persons", "people_identifiers", "people_insurance_cards", "people_guardianships")
_COPY_SLICE = 4 << 20  # bytes per write to the COPY stream


class IndexMode(StrEnum):
    AUTO = "auto"  # rebuild on PostgreSQL when the load is large next to what is there
    KEEP = "keep"  # insert with every index and constraint in place
    REBUILD = "rebuild"  # drop secondary indexes and foreign keys, load, rebuild


# A load rebuilds indexes (in auto mode) when it brings at least this many persons and at
# least as many as the table already holds; below it, keeping them is as fast (see README).
REBUILD_THRESHOLD = 200_000


class UnsafeText(ValueError):
    """A value would need escaping in COPY text format; generated values never should."""


@dataclass
class Prepared:
    """A chunk made ready for the database, off the main thread (no database access).

    Holds only what is written (COPY bytes, or rows for SQLite), not the chunk itself."""

    persons: int
    counts: dict[str, int]
    columns: dict[str, tuple[str, ...]]
    payload: dict[str, Any] = field(default_factory=dict)  # table → COPY bytes or Batch

    @classmethod
    def of(cls, chunk: Chunk, payload: dict[str, Any]) -> Prepared:
        return cls(
            persons=chunk.size,
            counts={b.table: b.count for b in chunk.batches},
            columns={b.table: b.columns for b in chunk.batches},
            payload=payload,
        )


class Sink:
    vendor = ""
    flush_persons = 1  # write once at least this many persons are ready

    def reserve(self, persons: int) -> IdBases:
        raise NotImplementedError

    def finish_ids(self, bases: IdBases, counts: dict[str, int]) -> None:
        raise NotImplementedError

    def prepare(self, chunk: Chunk) -> Prepared:
        raise NotImplementedError

    def write(self, prepared: Sequence[Prepared]) -> None:
        raise NotImplementedError

    def before_load(self, persons: int, mode: IndexMode) -> IndexMode:
        return IndexMode.KEEP

    def after_load(self, mode: IndexMode, log: Callable[[str], None]) -> None:
        return None


def _columns(columns: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    return ", ".join(quote(c) for c in columns)


# --- PostgreSQL ------------------------------------------------------------------------------


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    text = str(value)
    if any(ch in text for ch in "\t\n\r\\"):
        raise UnsafeText(f"cannot write {text!r} to COPY text")
    return text


def _copy_column(values: list[Any]) -> list[str]:
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, bool):
        return ["\\N" if v is None else ("t" if v else "f") for v in values]
    if isinstance(sample, int):
        return ["\\N" if v is None else str(v) for v in values]
    # Strings: generated from the shipped name lists, ward names and fixed formats, which were
    # checked for tabs, newlines and backslashes when the tables were read.
    return ["\\N" if v is None else v for v in values]


def encode_copy(batch: Batch) -> bytes:
    """The batch in PostgreSQL's COPY text format."""
    if batch.count == 0:
        return b""
    columns: list[Iterable[str]] = []
    for value in batch.values:
        if isinstance(value, Const):
            columns.append(itertools.repeat(_copy_text(value.value), batch.count))
        else:
            columns.append(_copy_column(value))
    lines = map("\t".join, zip(*columns, strict=False))
    return ("\n".join(lines) + "\n").encode("utf-8")


class PostgresSink(Sink):
    vendor = "postgresql"

    def __init__(self, *, batch_persons: int) -> None:
        self.flush_persons = batch_persons
        self._recreate: list[str] = []
        self._restore_deferred = False

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return row[0] if row else None

    def _sequence(self, table: str) -> str:
        name = self._one("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        if not name:
            raise RuntimeError(f"{table}.id has no sequence")
        return str(name)

    def reserve(self, persons: int) -> IdBases:
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {', '.join(TABLES)} IN SHARE ROW EXCLUSIVE MODE")
        starts = {}
        for table in TABLES:
            sequence = self._sequence(table)
            starts[table] = int(self._one("SELECT nextval(%s)", [sequence]))
            # Nobody else may have used ids past the sequence (rows loaded with explicit ids).
            highest = self._one(f"SELECT max(id) FROM {table}")  # noqa: S608 — fixed names
            if highest is not None and int(highest) >= starts[table]:
                starts[table] = int(highest) + 1
        person_sequence = self._sequence(TABLES[0])
        last = starts[TABLES[0]] + max(persons, 1) - 1
        self._one("SELECT setval(%s, %s)", [person_sequence, last])
        return IdBases(
            person=starts[TABLES[0]],
            identifier=starts[TABLES[1]],
            card=starts[TABLES[2]],
            guardianship=starts[TABLES[3]],
        )

    def finish_ids(self, bases: IdBases, counts: dict[str, int]) -> None:
        firsts = {
            TABLES[1]: bases.identifier,
            TABLES[2]: bases.card,
            TABLES[3]: bases.guardianship,
        }
        for table, first in firsts.items():
            last = first + counts.get(table, 0) - 1
            if last >= first:
                self._one("SELECT setval(%s, %s)", [self._sequence(table), last])

    def prepare(self, chunk: Chunk) -> Prepared:
        return Prepared.of(chunk, {b.table: encode_copy(b) for b in chunk.batches})

    def write(self, prepared: Sequence[Prepared]) -> None:
        for table in TABLES:
            parts = [p.payload[table] for p in prepared if p.payload[table]]
            if not parts:
                continue
            sql = f"COPY {table} ({_columns(prepared[0].columns[table])}) FROM STDIN"
            with connection.cursor() as cursor, cursor.copy(sql) as copy:
                for part in parts:
                    view = memoryview(part)
                    for offset in range(0, len(view), _COPY_SLICE):
                        copy.write(view[offset : offset + _COPY_SLICE])

    def before_load(self, persons: int, mode: IndexMode) -> IndexMode:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        if mode is IndexMode.AUTO:
            present = int(
                self._one(
                    "SELECT count(*) FROM (SELECT 1 FROM people_persons LIMIT %s) s", [persons + 1]
                )
            )
            big = persons >= REBUILD_THRESHOLD and persons >= present
            mode = IndexMode.REBUILD if big else IndexMode.KEEP
        # Deferred foreign-key checks would queue one event per row until commit, and pending
        # events forbid ALTER TABLE: check as rows come (and what is pending, now).
        if mode is IndexMode.REBUILD or persons >= REBUILD_THRESHOLD:
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            self._restore_deferred = True
        if mode is IndexMode.REBUILD:
            self._drop_secondary()
        return mode

    def _drop_secondary(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT c.conname, c.conrelid::regclass::text, pg_get_constraintdef(c.oid), c.contype
                FROM pg_constraint c
                WHERE c.conrelid = ANY(%s::regclass[]) AND c.contype IN ('u', 'f')
                ORDER BY c.contype DESC, c.conname
                """,
                [list(TABLES)],
            )
            constraints = cursor.fetchall()
            cursor.execute(
                """
                SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
                FROM pg_index i
                WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
                  AND NOT EXISTS (
                    SELECT 1 FROM pg_constraint c
                    WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x')
                  )
                ORDER BY 1
                """,
                [list(TABLES)],
            )
            indexes = cursor.fetchall()
            quote = connection.ops.quote_name
            for name, table, _definition, _kind in constraints:
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
            for name, _definition in indexes:
                cursor.execute(f"DROP INDEX {name}")
        # Rebuild indexes first, then unique constraints, then foreign keys (checked by a join).
        self._recreate = [definition for _name, definition in indexes]
        self._recreate += [
            f"ALTER TABLE {table} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}"
            for name, table, definition, kind in constraints
            if kind == "u"
        ]
        self._recreate += [
            f"ALTER TABLE {table} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}"
            for name, table, definition, kind in constraints
            if kind == "f"
        ]

    def after_load(self, mode: IndexMode, log: Callable[[str], None]) -> None:
        with connection.cursor() as cursor:
            for statement in self._recreate:
                started = time.perf_counter()
                cursor.execute(statement)
                log(f"{time.perf_counter() - started:6.1f} s  {statement[:110]}")
            self._recreate = []
            if self._restore_deferred:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                self._restore_deferred = False
            started = time.perf_counter()
            cursor.execute(f"ANALYZE {', '.join(TABLES)}")
            log(f"{time.perf_counter() - started:6.1f} s  ANALYZE")


# --- SQLite ----------------------------------------------------------------------------------


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


class SqliteSink(Sink):
    vendor = "sqlite"

    def __init__(self, *, batch_rows: int) -> None:
        self.batch_rows = batch_rows

    def _next_id(self, table: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
            highest = int(cursor.fetchone()[0])
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
        return max(highest, int(row[0]) if row else 0) + 1

    def reserve(self, persons: int) -> IdBases:
        return IdBases(*(self._next_id(table) for table in TABLES))

    def finish_ids(self, bases: IdBases, counts: dict[str, int]) -> None:
        return None  # AUTOINCREMENT follows the largest id inserted

    def prepare(self, chunk: Chunk) -> Prepared:
        payload = {}
        for batch in chunk.batches:
            values = [
                Const(_sqlite_value(v.value)) if isinstance(v, Const) else v for v in batch.values
            ]
            payload[batch.table] = Batch(batch.table, batch.columns, tuple(values), batch.count)
        return Prepared.of(chunk, payload)

    def write(self, prepared: Sequence[Prepared]) -> None:
        with connection.cursor() as cursor:
            for table in TABLES:
                for p in prepared:
                    batch: Batch = p.payload[table]
                    if not batch.count:
                        continue
                    marks = ", ".join(["%s"] * len(batch.columns))
                    columns = _columns(batch.columns)
                    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
                    rows = batch.rows()
                    while True:
                        part = list(itertools.islice(rows, self.batch_rows))
                        if not part:
                            break
                        cursor.executemany(sql, part)


def make_sink(*, batch_size: int | None) -> Sink:
    if connection.vendor == "postgresql":
        return PostgresSink(batch_persons=batch_size or 65_536)
    if connection.vendor == "sqlite":
        return SqliteSink(batch_rows=batch_size or 10_000)
    raise NotImplementedError(f"no loader for {connection.vendor}")
