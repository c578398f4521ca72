"""Bulk Data `$export` (HL7 FHIR Bulk Data Access IG v2): system, Patient and Group level.

A kick-off stores an `ExportJob` and enqueues its run after the commit. A run streams the
current table once, by keyset on the row id (never loading more than one chunk), and appends
each resource's stored JSON text (not parsed and re-encoded) to an NDJSON file of its type,
starting a new file when one would pass `FHIR_EXPORT_FILE_BYTES`. After each chunk the files
are flushed to disk and the job row records the last row id and every file's size: a run
that dies is resumed (files truncated to the recorded sizes, then on from that row), so the
output is the same, with nothing twice. A run works for `FHIR_EXPORT_SLICE_SECONDS`, then
hands over to a new task, so a long export never pins a worker.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min, QuerySet, TextField
from django.db.models.functions import Cast

from cityhealth.core import clock
from cityhealth.core.errors import InvalidInput, NotFound
from cityhealth.fhir.everything import consented, parse_instant, parse_types
from cityhealth.fhir.models import ExportJob
from cityhealth.people.models import Person
from cityhealth.people.selectors import merged_family, survivor_of
from cityhealth.records import selectors
from cityhealth.records.consent import Accessor
from cityhealth.records.models import Resource

# Rows per query of the keyset stream: a few MB of JSON at most, whatever the table's size.
CHUNK = 5000
_BUFFER = 1 << 20  # bytes buffered per open file between writes to the OS
# How often a run records its progress (and fsyncs its files): what a crash can cost again.
CHECKPOINT_SECONDS = 1.0
NDJSON_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")
FILE_NAME = "{type}.{part}.ndjson"
_TERMINAL = (ExportJob.Status.COMPLETED, ExportJob.Status.FAILED, ExportJob.Status.CANCELLED)


@dataclasses.dataclass(frozen=True)
class ExportRequest:
    level: str  # system, patient, group
    group_id: str = ""
    types: frozenset[str] | None = None
    since: str | None = None
    output_format: str | None = None
    type_filters: tuple[str, ...] = ()


def kick_off(
    *, owner: str, accessor: Accessor, request_url: str, asked: ExportRequest
) -> ExportJob:
    """Check the request, store the job and start it once this transaction commits."""
    if asked.output_format and asked.output_format not in NDJSON_FORMATS:
        raise InvalidInput(
            "export.output_format",
            vi="Chỉ xuất được định dạng application/fhir+ndjson.",
            en="The only export format is application/fhir+ndjson.",
            field="_outputFormat",
        )
    type_filter_sql(asked.type_filters)  # an unknown type or parameter is refused now
    types = asked.types
    since = parse_instant(asked.since, field="_since")
    if asked.level == "group":
        group_persons(asked.group_id)  # a Group that is not there is refused now, not later
    now = clock.now()
    job = ExportJob.objects.create(
        owner=owner,
        accessor=dataclasses.asdict(accessor),
        level=asked.level,
        group_id=asked.group_id,
        request_url=request_url[:4000],
        types=sorted(types) if types else [],
        type_filters=list(asked.type_filters),
        since=since,
        transaction_time=now,
        created_at=now,
    )
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def parse_request(*, level: str, group_id: str = "", query: dict[str, list[str]]) -> ExportRequest:
    """The kick-off's query parameters (each may be repeated or comma-separated)."""

    def joined(name: str) -> str | None:
        values = [v for v in query.get(name, []) if v]
        return ",".join(values) if values else None

    return ExportRequest(
        level=level,
        group_id=group_id,
        types=parse_types(joined("_type")),
        since=joined("_since"),
        output_format=joined("_outputFormat"),
        type_filters=tuple(v for v in query.get("_typeFilter", []) if v),
    )


def job_of(*, owner: str, job_id: str) -> ExportJob:
    """The caller's own job; anyone else's (or none) is not found, alike."""
    try:
        key = uuid.UUID(job_id)
    except ValueError:
        key = None
    job = ExportJob.objects.filter(pk=key, owner=owner).first() if key else None
    if job is None or job.status == ExportJob.Status.CANCELLED:
        raise NotFound(
            "export.not_found",
            vi="Không có yêu cầu xuất dữ liệu này.",
            en="There is no such export request.",
        )
    return job


def cancel(*, job: ExportJob) -> None:
    """Stop the job (a run still going notices at its next chunk) and delete its files."""
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.CANCELLED, finished_at=clock.now()
    )
    shutil.rmtree(job_dir(job.pk), ignore_errors=True)


def manifest(*, job: ExportJob, base: str) -> dict[str, Any]:
    return {
        "transactionTime": job.transaction_time.isoformat().replace("+00:00", "Z"),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [
            {
                "type": f["type"],
                "url": f"{base}/$export-file/{job.pk}/{FILE_NAME.format(**f)}",
                "count": f["count"],
            }
            for f in job.cursor.get("files", [])
            if f["count"]
        ],
        "error": [],
    }


def progress(job: ExportJob) -> str:
    """How far the run has got through the table's row ids, and what it has written."""
    low, high = job.cursor.get("span") or (0, 0)
    after = int(job.cursor.get("after") or 0)
    if high > low and after:
        share = min(100, max(0, (after - low) * 100 // (high - low)))
        return f"{share}% ({job.exported:,} resources)"
    return f"{job.status} ({job.exported:,} resources)"


def file_path(*, job: ExportJob, name: str) -> Path:
    """An output file of a completed job (NotFound for any other name)."""
    known = {FILE_NAME.format(**f) for f in job.cursor.get("files", [])}
    path = job_dir(job.pk) / name
    if job.status != ExportJob.Status.COMPLETED or name not in known or not path.is_file():
        raise NotFound(
            "export.file_not_found",
            vi="Không có tệp xuất này.",
            en="There is no such export file.",
        )
    return path


def job_dir(job_id: uuid.UUID) -> Path:
    return Path(settings.FHIR_EXPORT_DIR) / str(job_id)


def resume_if_stalled(*, job: ExportJob) -> bool:
    """Restart a job whose run died (no heartbeat for FHIR_EXPORT_STALL_SECONDS): the new
    run takes over from the last checkpoint. Called when the client polls."""
    if job.status not in (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING):
        return False
    last = job.heartbeat_at or job.created_at
    if (clock.now() - last).total_seconds() < settings.FHIR_EXPORT_STALL_SECONDS:
        return False
    taken = ExportJob.objects.filter(pk=job.pk, heartbeat_at=job.heartbeat_at).update(
        runner="", heartbeat_at=clock.now()
    )
    if taken:
        transaction.on_commit(lambda: _enqueue(job.pk))
    return bool(taken)


# --- the run -------------------------------------------------------------------------------


def run_slice(*, job_id: str, max_chunks: int | None = None) -> str:
    """Work on the job for a while (or `max_chunks` chunks); "done", "again" (a new task is
    queued for the rest), or "skipped" (finished, cancelled, or held by a live run)."""
    runner = uuid.uuid4().hex
    job = _claim(job_id, runner)
    if job is None:
        return "skipped"
    deadline = time.monotonic() + settings.FHIR_EXPORT_SLICE_SECONDS
    state = _State.of(job)
    writer = _Writers(job_dir(job.pk), state)
    stream = _Stream(_rows(job))
    try:
        if "span" not in state.cursor:  # for X-Progress: where the row ids start and end
            span = Resource.objects.aggregate(low=Min("pk"), high=Max("pk"))
            state.cursor["span"] = [span["low"] or 0, span["high"] or 0]
        saved = time.monotonic()
        for chunks, chunk in enumerate(stream.chunks(after=state.after), start=1):
            for _pk, resource_type, text in chunk:
                writer.write(resource_type, text.encode() + b"\n")
            if chunk:
                state.after = chunk[-1][0]
                state.exported += len(chunk)
            finished = len(chunk) < CHUNK
            stop = (
                finished
                or time.monotonic() > deadline
                or (max_chunks is not None and chunks >= max_chunks)
            )
            if stop or time.monotonic() - saved >= CHECKPOINT_SECONDS:
                writer.sync()
                if not _checkpoint(job, runner, state, finished=finished, release=stop):
                    writer.close()
                    _drop_files_if_cancelled(job)
                    return "skipped"
                saved = time.monotonic()
            if stop:
                writer.close()
                if finished:
                    return "done"
                if max_chunks is None:
                    transaction.on_commit(lambda: _enqueue(job.pk))
                return "again"
        raise AssertionError("the stream ends with a short chunk")  # pragma: no cover
    except Exception as error:
        writer.close()
        ExportJob.objects.filter(pk=job.pk, runner=runner).update(
            status=ExportJob.Status.FAILED, error=str(error)[:2000], finished_at=clock.now()
        )
        raise
    finally:
        stream.close()


class _Stream:
    """A job's rows by keyset, one chunk at a time. In a worker's run (no transaction open)
    the next chunk is read on a second connection while this one is written, so the database
    and the disk work at once; inside a transaction (a caller's, a test's) it reads on that
    transaction's connection, the only one that sees what the transaction wrote."""

    def __init__(self, rows: QuerySet[Resource]) -> None:
        self.rows = rows
        self.pool = None if connection.in_atomic_block else ThreadPoolExecutor(max_workers=1)

    def fetch(self, after: int) -> list[tuple[int, str, str]]:
        # The JSON as the database stores it: written out as it is, never parsed here.
        chunk = (
            self.rows.filter(pk__gt=after)
            .annotate(text=Cast("body", TextField()))
            .order_by("pk")
            .values_list("pk", "resource_type", "text")
        )
        return list(chunk[:CHUNK])

    def chunks(self, *, after: int) -> Iterator[list[tuple[int, str, str]]]:
        """Chunks until (and including) the first short one."""
        if self.pool is None:
            while True:
                chunk = self.fetch(after)
                yield chunk
                if len(chunk) < CHUNK:
                    return
                after = chunk[-1][0]
        ahead = self.pool.submit(self.fetch, after)
        while True:
            chunk = ahead.result()
            if len(chunk) == CHUNK:
                ahead = self.pool.submit(self.fetch, chunk[-1][0])
            yield chunk
            if len(chunk) < CHUNK:
                return

    def close(self) -> None:
        if self.pool is not None:
            # Looked up in the reading thread: its own connection, not this one.
            self.pool.submit(lambda: connection.close()).result()
            self.pool.shutdown()


def _rows(job: ExportJob) -> QuerySet[Resource]:
    rows = Resource.objects.filter(deleted=False)
    if job.types:
        rows = rows.filter(resource_type__in=job.types)
    if job.since is not None:
        rows = rows.filter(last_updated__gt=job.since)
    if job.level == "patient":
        rows = rows.filter(person__isnull=False)
    elif job.level == "group":
        rows = rows.filter(person_id__in=group_persons(job.group_id))
    accessor = Accessor(**job.accessor)
    if job.type_filters:
        sql, params = type_filter_sql(job.type_filters, accessor=accessor)
        rows = rows.extra(where=[sql], params=params)  # noqa: S610 — the search engine's SQL, bound
    return consented(rows, accessor=accessor)


def type_filter_sql(
    filters: list[str] | tuple[str, ...], *, accessor: Accessor | None = None
) -> tuple[str, list[Any]]:
    """`_typeFilter` as one SQL condition on the current table: a resource of a filtered type
    must meet one of its type's queries (the search engine's own conditions, their chains
    passing only through what `accessor` may see); other types pass. InvalidInput for a
    filter that is not `Type?query` of a known type and parameters."""
    by_type: dict[str, list[str]] = {}
    for raw in filters:
        resource_type, _, query = raw.partition("?")
        parse_types(resource_type)
        if not query:
            raise InvalidInput(
                "export.type_filter",
                vi="_typeFilter có dạng Loại?tham-số=giá-trị.",
                en="_typeFilter is Type?parameter=value.",
                field="_typeFilter",
            )
        by_type.setdefault(resource_type, []).append(query)
    if not by_type:
        return "1=1", []
    table = f'"{Resource._meta.db_table}"'
    marks = ", ".join(["%s"] * len(by_type))
    sql = f"{table}.resource_type NOT IN ({marks})"
    params: list[Any] = list(by_type)
    for resource_type, queries in by_type.items():
        each: list[str] = []
        type_params: list[Any] = [resource_type]
        for query in queries:
            sql_of_query, bound = selectors.search_condition(
                resource_type=resource_type, alias=table, query=query, accessor=accessor
            )
            each.append(sql_of_query)
            type_params.extend(bound)
        sql += f" OR ({table}.resource_type = %s AND (({') OR ('.join(each)})))"
        params.extend(type_params)
    return f"({sql})", params


def group_persons(group_id: str) -> list[int]:
    """The persons a stored Group lists as members (Patient/{person id}), each with every
    record merged into its survivor."""
    group = Resource.objects.filter(
        resource_type="Group", logical_id=group_id, deleted=False
    ).first()
    if group is None:
        raise NotFound(
            "export.group_not_found",
            vi="Không có nhóm (Group) này.",
            en="There is no such Group.",
        )
    member_ids = set()
    for member in group.body.get("member") or []:
        reference = str((member.get("entity") or {}).get("reference") or "")
        head, _, tail = reference.rpartition("/")
        if head.endswith("Patient") and tail.isdigit():
            member_ids.add(int(tail))
    persons: set[int] = set()
    for person in Person.objects.filter(pk__in=member_ids):
        persons.update(merged_family(survivor_of(person).pk))
    return sorted(persons)


def _drop_files_if_cancelled(job: ExportJob) -> None:
    if ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.CANCELLED).exists():
        shutil.rmtree(job_dir(job.pk), ignore_errors=True)


def _enqueue(job_id: uuid.UUID) -> None:
    from cityhealth.fhir.tasks import run_export

    run_export.enqueue(job_id=str(job_id))


def _claim(job_id: str, runner: str) -> ExportJob | None:
    """Take the job for this run unless it is finished or a live run holds it."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in _TERMINAL:
            return None
        stale = clock.now().timestamp() - settings.FHIR_EXPORT_STALL_SECONDS
        held = job.runner and job.heartbeat_at and job.heartbeat_at.timestamp() > stale
        if held:
            return None
        job.runner = runner
        job.status = ExportJob.Status.RUNNING
        job.heartbeat_at = clock.now()
        job.save(update_fields=["runner", "status", "heartbeat_at"])
    return job


def _checkpoint(
    job: ExportJob, runner: str, state: _State, *, finished: bool, release: bool
) -> bool:
    """Record the progress (the files are already on disk), and with `release` let the next
    run take the job; False if the job was cancelled or taken over meanwhile."""
    changes: dict[str, Any] = {
        "cursor": state.cursor,
        "exported": state.exported,
        "heartbeat_at": clock.now(),
    }
    if release:
        changes["runner"] = ""
    if finished:
        changes.update(status=ExportJob.Status.COMPLETED, finished_at=clock.now())
    with transaction.atomic():
        return bool(
            ExportJob.objects.filter(
                pk=job.pk, runner=runner, status=ExportJob.Status.RUNNING
            ).update(**changes)
        )


class _State:
    """The job's cursor as a run changes it: `after` (last row id written) and `files`
    ([{type, part, count, bytes}], the last of each type being the one still open)."""

    def __init__(self, cursor: dict[str, Any], exported: int) -> None:
        self.cursor = cursor
        self.cursor.setdefault("after", 0)
        self.cursor.setdefault("files", [])
        self.exported = exported

    @classmethod
    def of(cls, job: ExportJob) -> _State:
        return cls(dict(job.cursor or {}), job.exported)

    @property
    def after(self) -> int:
        return int(self.cursor["after"])

    @after.setter
    def after(self, value: int) -> None:
        self.cursor["after"] = value

    @property
    def files(self) -> list[dict[str, Any]]:
        files: list[dict[str, Any]] = self.cursor["files"]
        return files


class _Writers:
    """One open NDJSON file per type, each cut at the byte limit."""

    def __init__(self, directory: Path, state: _State) -> None:
        self.directory = directory
        self.state = state
        self.limit = int(settings.FHIR_EXPORT_FILE_BYTES)
        self.open: dict[str, tuple[Any, dict[str, Any]]] = {}
        directory.mkdir(parents=True, exist_ok=True)
        self.current = {f["type"]: f for f in state.files}  # the last part of each type

    def write(self, resource_type: str, line: bytes) -> None:
        handle, entry = self._handle(resource_type)
        if entry["count"] and entry["bytes"] + len(line) > self.limit:
            handle.close()
            entry = {"type": resource_type, "part": entry["part"] + 1, "count": 0, "bytes": 0}
            self.state.files.append(entry)
            self.current[resource_type] = entry
            handle = open(self.directory / FILE_NAME.format(**entry), "wb", buffering=_BUFFER)  # noqa: SIM115
            self.open[resource_type] = (handle, entry)
        handle.write(line)
        entry["count"] += 1
        entry["bytes"] += len(line)

    def _handle(self, resource_type: str) -> tuple[Any, dict[str, Any]]:
        if resource_type in self.open:
            return self.open[resource_type]
        entry = self.current.get(resource_type)
        if entry is None:
            entry = {"type": resource_type, "part": 1, "count": 0, "bytes": 0}
            self.state.files.append(entry)
            self.current[resource_type] = entry
        path = self.directory / FILE_NAME.format(**entry)
        handle = open(path, "ab", buffering=_BUFFER)  # noqa: SIM115 — kept open across chunks, closed by close()
        # What a dead run wrote after its last checkpoint is cut off: it is written again.
        handle.truncate(entry["bytes"])
        handle.seek(entry["bytes"])
        self.open[resource_type] = (handle, entry)
        return handle, entry

    def sync(self) -> None:
        for handle, _entry in self.open.values():
            handle.flush()
            os.fsync(handle.fileno())

    def close(self) -> None:
        for handle, _entry in self.open.values():
            handle.close()
        self.open.clear()
