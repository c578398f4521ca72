"""Batch and transaction Bundles posted to the base URL (FHIR R4 3.1.0.11).

A transaction is all or nothing, in one database transaction: its entries are processed in
FHIR's order (DELETE, POST, PUT/PATCH, GET/HEAD), every new resource gets its id before any
entry is written, and every reference to an entry's `fullUrl` (`urn:uuid:`, `urn:oid:` or an
absolute URL), anywhere in any resource, is rewritten to that id. Conditional references
(`Patient?identifier=…`) are resolved by search. The first entry that fails rolls everything
back and its OperationOutcome is the answer. A batch runs each entry on its own (a savepoint
each): a failure becomes that entry's response.

Each entry's response has its status, location, ETag and lastModified; the resource too
with `Prefer: return=representation`, an OperationOutcome with `return=OperationOutcome`.
Patient entries go to the person registry (`fhir.patients.accept_patient`), which matches
them; their fullUrl then means the registry's person. Rows that entries change are locked
in one (type, id) order before any is written, so transactions queue, never deadlock.

New resources are written together through the store's bulk path (a COPY per table on
PostgreSQL), not two INSERTs each. The entries are read and checked, before any is
processed, by `fhir.bundle_entries`.
"""

from __future__ import annotations

import base64
import binascii
import gc
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from cityhealth.core import clock, exactjson
from cityhealth.core.errors import DomainError, InvalidInput
from cityhealth.fhir import conditional, negotiation
from cityhealth.fhir.access import access_of, authorize, guard_read
from cityhealth.fhir.bundle_entries import (
    RANK,
    Entry,
    bundle_entries,
    invalid,
    read_entry,
)
from cityhealth.fhir.common import checked_type, stored_type
from cityhealth.fhir.outcome import error_outcome
from cityhealth.fhir.patients import accept_patient
from cityhealth.fhir.search import search_bundle
from cityhealth.records import errors, selectors, services
from cityhealth.records.models import Resource, ResourceVersion

_INTERACTION = {"DELETE": "delete", "POST": "create", "PUT": "update", "PATCH": "patch"}
_STATUS_TEXT = {200: "OK", 201: "Created", 204: "No Content"}


class EntryFailed(Exception):
    """An entry of a transaction failed: the whole transaction is refused with its error."""

    def __init__(self, index: int, error: DomainError) -> None:
        super().__init__(f"entry {index}: {error}")
        self.index = index
        self.error = error


@dataclass
class Context:
    request: HttpRequest
    source: str
    base: str  # the absolute base URL, ending in "/"
    language: str | None
    prefer: str
    at: Any = None
    # fullUrl → "Type/id" of the entries of this transaction
    ids: dict[str, str] = field(default_factory=dict)
    # conditional reference → "Type/id"
    resolved: dict[str, str] = field(default_factory=dict)
    # (type, interaction) the caller was found allowed to do
    authorized: set[tuple[str, str]] = field(default_factory=set)


def process(
    request: HttpRequest, *, body: Any, source: str, language: str | None
) -> dict[str, Any]:
    """The response Bundle of a batch or transaction Bundle; EntryFailed for a transaction
    one of whose entries failed (nothing of it is saved)."""
    kind, raw_entries = bundle_entries(body)
    context = Context(
        request=request,
        source=source,
        base=request.build_absolute_uri("/fhir/R4/"),
        language=language,
        # Entries carry their status, location and version; the resources themselves only
        # when asked (they are what the client sent, and a big transaction's echo is costly).
        prefer=negotiation.preferred_return(request, default="minimal"),
    )
    entries = []
    for index, raw in enumerate(raw_entries):
        try:
            entries.append(read_entry(index, raw, base=context.base))
        except DomainError as error:
            if kind == "transaction":
                raise EntryFailed(index, error) from None
            entries.append(Entry(index=index, method="", resource_type="", error=error))
    ordered = sorted(entries, key=lambda e: (RANK.get(e.method, 9), e.index))
    if kind == "transaction":
        with transaction.atomic():
            context.at = clock.now()
            _run(ordered, context)
    else:
        _lock_conditionals(entries)  # all at once: one entry's lock may not wait on another's
        for entry in ordered:
            if entry.error is not None:
                entry.answer = _failure(entry, entry.error, context)
                continue
            context.ids = {}  # a batch's entries do not refer to each other
            try:
                with transaction.atomic():
                    context.at = clock.now()
                    _run([entry], context, locked=True)
            except EntryFailed as failed:
                entry.answer = _failure(entry, failed.error, context)
    return {
        "resourceType": "Bundle",
        "id": uuid.uuid4().hex,
        "type": f"{kind}-response",
        "entry": [entry.answer for entry in entries],
    }


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a Bundle is read, run and answered. A transaction
    of a thousand entries makes a few hundred thousand objects that all live until the
    answer is sent, and the collector would walk them again and again for nothing: a fifth
    of the CPU of such a transaction, measured. They form no cycles that outlive the request,
    and the collector runs again as soon as it ends (another request's thread meanwhile only
    collects later)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def failure_outcome(failed: EntryFailed, *, language: str | None) -> dict[str, Any]:
    """The OperationOutcome of a refused transaction: the failing entry's, located in it."""
    where = "resource" if getattr(failed.error, "issues", None) else ""
    outcome = error_outcome(
        failed.error, language=language, at=".".join(filter(None, [_at(failed.index), where]))
    )
    for issue in outcome["issue"]:
        issue["diagnostics"] = f"Bundle.entry[{failed.index}]: {issue['diagnostics']}"
    return outcome


# --- processing --------------------------------------------------------------------------------


def _run(entries: list[Entry], context: Context, *, locked: bool = False) -> None:
    """Process `entries` (already in FHIR's order) in the caller's transaction, filling in
    each entry's answer; EntryFailed at the first failure."""
    current: Entry | None = None
    try:
        for current in entries:
            _authorize(current, context)
        if not locked:
            _lock_conditionals(entries)
        for current in entries:
            _resolve_target(current)
        _name_new_resources(entries, context)
        for current in entries:
            if current.resource_type == "Patient" and current.method in ("POST", "PUT"):
                _accept_patient(current, context)
        for current in entries:
            _rewrite(current.resource, context)
        current = None
        _lock_rows(entries)
        creates = [e for e in entries if e.method == "POST" and e.answer is None]
        for current in entries:
            if current.method == "DELETE":
                _delete(current, context)
        current = None
        _create_all(creates, context)
        for current in entries:
            if current.answer is not None:
                continue
            if current.method == "PUT":
                _update(current, context)
            elif current.method == "PATCH":
                _patch(current, context)
            elif current.method in ("GET", "HEAD"):
                _read(current, context)
    except EntryFailed:
        raise
    except DomainError as error:
        index = current.index if current is not None else _failed_create(error, entries)
        raise EntryFailed(index, error) from None


def _authorize(entry: Entry, context: Context) -> None:
    interaction = _INTERACTION.get(entry.method) or (
        "search-type"
        if entry.search is not None
        else "vread"
        if entry.version_id is not None
        else "read"
    )
    if (entry.resource_type, interaction) not in context.authorized:
        authorize(context.request, resource_type=entry.resource_type, interaction=interaction)
        context.authorized.add((entry.resource_type, interaction))


def _conditional_searches(entries: list[Entry]) -> list[tuple[str, str]]:
    """The searches whose "nothing found" leads to a create: those are the ones to lock."""
    searches = []
    for entry in entries:
        if entry.method == "POST" and entry.if_none_exist:
            searches.append((entry.resource_type, entry.if_none_exist))
        elif entry.method == "PUT" and entry.query:
            searches.append((entry.resource_type, entry.query))
    return searches


def _lock_conditionals(entries: list[Entry]) -> None:
    conditional.lock(_conditional_searches([e for e in entries if e.error is None]))


def _resolve_target(entry: Entry) -> None:
    if entry.method == "POST" and entry.if_none_exist:
        entry.existing = conditional.existing_for_create(entry.resource_type, entry.if_none_exist)
        if entry.existing is not None:
            entry.target_id = entry.existing.logical_id
    elif entry.method == "POST":
        entry.target_id = uuid.uuid4().hex
    elif entry.method == "PUT" and entry.resource_type == "Patient" and entry.query:
        # The registry places a Patient nobody matched; it never takes an id from outside.
        entry.existing = conditional.existing_for_create("Patient", entry.query)
        entry.target_id = entry.existing.logical_id if entry.existing is not None else None
        entry.existing = None  # not an answer in itself: the record still goes to the registry
    elif entry.method == "PUT":
        entry.target_id = entry.logical_id or conditional.target_for_update(
            entry.resource_type, entry.query, entry.resource
        )
    elif entry.method == "PATCH":
        entry.target_id = (
            entry.logical_id
            or conditional.single_target(entry.resource_type, entry.query).logical_id
        )
    elif entry.method == "DELETE":
        stored_type(entry.resource_type)
        if entry.logical_id is None:
            entry.deletions = conditional.delete_targets(
                entry.resource_type, entry.query, count=entry.count
            )


def _name_new_resources(entries: list[Entry], context: Context) -> None:
    """Map every entry's fullUrl to the id it is stored under (Patients: after the registry
    has matched them, in `_accept_patient`)."""
    for entry in entries:
        if entry.method not in ("POST", "PUT") or entry.resource_type == "Patient":
            continue
        if entry.target_id is None or not entry.full_url:
            continue
        _name(context, entry.full_url, f"{entry.resource_type}/{entry.target_id}")


def _name(context: Context, full_url: str, reference: str) -> None:
    context.ids[full_url] = reference
    if full_url.startswith(context.base):  # our own absolute URL: its relative form too
        context.ids[full_url[len(context.base) :]] = reference


def _accept_patient(entry: Entry, context: Context) -> None:
    """A Patient entry goes to the person registry, which matches it (never a duplicate);
    its fullUrl then means the registry's person. `PUT Patient/{id}` (or a conditional PUT
    that matched) asserts that the record is that person."""
    if entry.existing is not None:  # If-None-Exist found the person already
        entry.answer = _answer(context, entry.existing, status=200)
        _name(context, entry.full_url, f"Patient/{entry.existing.logical_id}")
        return
    asserted = entry.target_id if entry.method == "PUT" and entry.target_id else None
    if asserted is not None and not (asserted.isdigit() and len(asserted) < 19):
        raise errors.resource_not_found("Patient", asserted[:64])
    access = access_of(context.request)
    _rewrite(entry.resource, context)
    person_id, how = accept_patient(
        body=entry.resource,
        source=context.source,
        facility_code=access.organization,
        person_id=int(asserted) if asserted is not None else None,
        source_ip=access.source_ip,
    )
    entry.target_id = str(person_id)
    if entry.full_url:
        _name(context, entry.full_url, f"Patient/{person_id}")
    row = selectors.stored_resource(resource_type="Patient", logical_id=str(person_id))
    # Only the registry's own view of a person is ever shown, never an echo of the body.
    entry.answer = _answer(context, row, status=200 if how == "linked" else 201, body=False)


def _rewrite(value: Any, context: Context) -> None:
    """Make every reference in `value` to an entry of this Bundle (its fullUrl) the id the
    entry is stored under, and every conditional reference the one match's id: in place
    (the resources are this request's own, parsed from its body)."""
    if isinstance(value, dict):
        for key, child in value.items():
            if key == "reference" and isinstance(child, str):
                value[key] = _target_of(child, context)
            elif isinstance(child, dict | list):
                _rewrite(child, context)
    elif isinstance(value, list):
        for child in value:
            if isinstance(child, dict | list):
                _rewrite(child, context)


def _target_of(reference: str, context: Context) -> str:
    found = context.ids.get(reference)
    if found is not None:
        return found
    if reference.startswith(("urn:uuid:", "urn:oid:")):
        raise InvalidInput(
            "bundle.unresolved_reference",
            vi=f"Tham chiếu «{reference[:100]}» không trỏ tới mục nào của Bundle.",
            en=f"The reference “{reference[:100]}” names no entry of the Bundle.",
        )
    kind, question, query = reference.partition("?")
    if question and "/" not in kind and kind and not reference.startswith("#"):
        cached = context.resolved.get(reference)
        if cached is None:
            match = conditional.single_target(checked_type(kind), conditional.criteria(query))
            cached = context.resolved[reference] = f"{kind}/{match.logical_id}"
        return cached
    return reference


def _lock_rows(entries: list[Entry]) -> None:
    """Lock the current rows every entry will change, in one order (type, id) for every
    transaction, so that two transactions touching the same resources queue, never deadlock."""
    wanted: dict[str, set[str]] = {}
    for entry in entries:
        if entry.method in ("PUT", "PATCH", "DELETE") and entry.resource_type != "Patient":
            ids = wanted.setdefault(entry.resource_type, set())
            ids.update(
                [entry.target_id] if entry.target_id else [r.logical_id for r in entry.deletions]
            )
            if entry.logical_id:
                ids.add(entry.logical_id)
    for resource_type in sorted(wanted):
        in_order = sorted(wanted[resource_type])
        for start in range(0, len(in_order), 1000):
            list(
                Resource.objects.select_for_update()
                .filter(resource_type=resource_type, logical_id__in=in_order[start : start + 1000])
                .order_by("logical_id")
                .values_list("pk", flat=True)
            )


def _delete(entry: Entry, context: Context) -> None:
    ids = [entry.logical_id] if entry.logical_id else [r.logical_id for r in entry.deletions]
    for logical_id in ids:
        assert logical_id is not None
        services.delete_resource(
            resource_type=entry.resource_type, logical_id=logical_id, source=context.source
        )
    entry.answer = {"response": {"status": "204 No Content"}}


def _create_all(entries: list[Entry], context: Context) -> None:
    """Every new resource of the transaction (the matches of If-None-Exist answered as they
    are), checked first, then written together by the bulk path."""
    new: list[tuple[Entry, services.Checked]] = []
    for entry in entries:
        if entry.existing is not None:
            entry.answer = _answer(context, entry.existing, status=200)
            continue
        try:
            stored_type(entry.resource_type)
            if entry.resource_type in services.ONE_BY_ONE_TYPES:
                row = services.create_resource(
                    body=entry.resource,
                    source=context.source,
                    at=context.at,
                    logical_id=entry.target_id,
                )
                entry.answer = _answer(context, row, status=201)
                continue
            new.append((entry, services.check_resource(body=entry.resource)))
        except DomainError as error:
            raise EntryFailed(entry.index, error) from None
    if not new:
        return
    try:
        when = services.create_many(
            resources=[(str(entry.target_id), checked) for entry, checked in new],
            source=context.source,
            at=context.at,
        )
    except errors.InvalidResource as refused:
        culprit = new[refused.position][0] if refused.position is not None else new[0][0]
        raise EntryFailed(culprit.index, refused) from None
    stored = _stored_bodies(new) if context.prefer == "representation" else {}
    for entry, _ in new:
        location = f"{entry.resource_type}/{entry.target_id}/_history/1"
        entry.answer = {
            "fullUrl": f"{context.base}{entry.resource_type}/{entry.target_id}",
            "response": {
                "status": "201 Created",
                "location": location,
                "etag": 'W/"1"',
                "lastModified": _instant(when),
            },
        }
        _add_preferred(
            entry.answer, context, stored.get((entry.resource_type, str(entry.target_id)))
        )


def _stored_bodies(new: list[tuple[Entry, services.Checked]]) -> dict[tuple[str, str], Any]:
    by_type: dict[str, list[str]] = {}
    for entry, checked in new:
        by_type.setdefault(checked.resource_type, []).append(str(entry.target_id))
    found: dict[tuple[str, str], Any] = {}
    for resource_type, ids in by_type.items():
        for start in range(0, len(ids), 1000):
            rows = Resource.objects.filter(
                resource_type=resource_type, logical_id__in=ids[start : start + 1000]
            ).values_list("logical_id", "body")
            found.update(((resource_type, logical_id), body) for logical_id, body in rows)
    return found


def _update(entry: Entry, context: Context) -> None:
    assert entry.target_id is not None
    written, created = services.update_resource(
        resource_type=stored_type(entry.resource_type),
        logical_id=entry.target_id,
        body=entry.resource,
        source=context.source,
        if_match=entry.if_match,
        at=context.at,
    )
    entry.answer = _answer(context, written, status=201 if created else 200)


def _patch(entry: Entry, context: Context) -> None:
    assert entry.target_id is not None
    written = services.patch_resource(
        resource_type=stored_type(entry.resource_type),
        logical_id=entry.target_id,
        operations=_patch_operations(entry.resource),
        source=context.source,
        if_match=entry.if_match,
        at=context.at,
    )
    entry.answer = _answer(context, written, status=200)


def _patch_operations(resource: Any) -> Any:
    """A PATCH entry carries its JSON Patch as a Binary (FHIR R4 3.1.0.11.4)."""
    if (
        isinstance(resource, dict)
        and resource.get("resourceType") == "Binary"
        and resource.get("contentType") == negotiation.JSON_PATCH
    ):
        try:
            return exactjson.loads(base64.b64decode(resource.get("data", ""), validate=True))
        except (ValueError, binascii.Error, TypeError):
            pass
    raise invalid(
        "bundle.entry_patch",
        "resource",
        "phải là Binary (contentType application/json-patch+json, data base64)",
        "must be a Binary (contentType application/json-patch+json, data in base64)",
    )


def _read(entry: Entry, context: Context) -> None:
    if entry.search is not None:
        found = search_bundle(
            context.request, resource_type=stored_type(entry.resource_type), params=entry.search
        )
        entry.answer = {"resource": found, "response": {"status": "200 OK"}}
        if entry.method == "HEAD":
            del entry.answer["resource"]
        return
    assert entry.logical_id is not None
    row: Resource | ResourceVersion
    if entry.version_id is None:
        row = selectors.read_resource(
            resource_type=stored_type(entry.resource_type), logical_id=entry.logical_id
        )
        person_id = row.person_id
    else:
        row = selectors.read_version(
            resource_type=stored_type(entry.resource_type),
            logical_id=entry.logical_id,
            version_id=entry.version_id,
        )
        person_id = row.resource.person_id
    guard_read(
        context.request,
        resource_type=entry.resource_type,
        logical_id=entry.logical_id,
        person_id=person_id,
    )
    entry.answer = _answer(context, row, status=200, body=entry.method == "GET")


def _answer(
    context: Context, row: Resource | ResourceVersion, *, status: int, body: bool | None = None
) -> dict[str, Any]:
    """An entry's response; with the resource if `body`, or (None) as `Prefer` asks."""
    path = f"{row.resource_type}/{row.logical_id}"
    answer: dict[str, Any] = {
        "fullUrl": f"{context.base}{path}",
        "response": {
            "status": f"{status} {_STATUS_TEXT[status]}",
            "location": f"{path}/_history/{row.version_id}",
            "etag": f'W/"{row.version_id}"',
            "lastModified": _instant(row.last_updated),
        },
    }
    if body is None:
        _add_preferred(answer, context, row.body)
    elif body:
        answer["resource"] = row.body
    return answer


def _add_preferred(answer: dict[str, Any], context: Context, body: Any) -> None:
    if context.prefer == "representation" and body is not None:
        answer["resource"] = body
    elif context.prefer == "OperationOutcome":
        answer["response"]["outcome"] = negotiation.information(answer["response"]["status"])


def _failure(entry: Entry, error: DomainError, context: Context) -> dict[str, Any]:
    return {
        "response": {
            "status": f"{error.status_code} {error.title}",
            "outcome": error_outcome(error, language=context.language),
        }
    }


def _failed_create(error: DomainError, entries: list[Entry]) -> int:
    """The entry a failure of the joint write belongs to (the first new resource)."""
    for entry in entries:
        if entry.method == "POST":
            return entry.index
    return entries[0].index if entries else 0


def _instant(when: Any) -> str:
    return str(when.isoformat().replace("+00:00", "Z"))


def _at(index: int) -> str:
    return f"Bundle.entry[{index}]"
