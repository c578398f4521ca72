"""The entries of a batch or transaction Bundle as posted, read and checked before any is
processed (`fhir.bundles`): the Bundle's type and size, each entry's method and URL (a type,
an id, a version or a conditional query), its resource, `ifMatch` and `ifNoneExist`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from django.conf import settings

from cityhealth.core.errors import DomainError, InvalidInput
from cityhealth.fhir import conditional, negotiation
from cityhealth.fhir.common import checked_type
from cityhealth.records.models import Resource

# FHIR's processing order of a transaction's entries.
RANK = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}


class BundleTooLarge(DomainError):
    status_code: ClassVar[int] = 413
    title: ClassVar[str] = "Payload too large"


@dataclass
class Entry:
    index: int
    method: str
    resource_type: str
    logical_id: str | None = None
    version_id: int | None = None
    query: str = ""  # the search of a conditional interaction, normalised
    resource: Any = None
    full_url: str = ""
    if_match: int | None = None
    if_none_exist: str = ""
    count: int | None = None  # a conditional delete's `_count`
    search: list[tuple[str, str]] | None = None  # a GET that searches
    error: DomainError | None = None  # a batch entry that could not even be read
    # Decided while processing.
    target_id: str | None = None
    existing: Resource | None = None  # what If-None-Exist found
    deletions: list[Resource] = field(default_factory=list)
    answer: dict[str, Any] | None = None


def bundle_entries(body: Any) -> tuple[str, list[Any]]:
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise invalid("bundle.not_a_bundle", "Bundle", "phải là một Bundle", "must be a Bundle")
    kind = body.get("type")
    if kind not in ("batch", "transaction"):
        raise invalid(
            "bundle.type",
            "Bundle.type",
            "phải là batch hoặc transaction",
            "must be batch or transaction",
        )
    entries = body.get("entry", [])
    if not isinstance(entries, list):
        raise invalid("bundle.entry", "Bundle.entry", "phải là một mảng", "must be an array")
    limit = settings.FHIR_BUNDLE_MAX_ENTRIES
    if len(entries) > limit:
        raise BundleTooLarge(
            "bundle.too_many_entries",
            vi=f"Bundle có {len(entries)} mục, quá giới hạn {limit}; hãy chia nhỏ.",
            en=f"The Bundle has {len(entries)} entries, over the limit of {limit}; split it.",
            field="Bundle.entry",
        )
    return kind, entries


def read_entry(index: int, raw: Any, *, base: str) -> Entry:
    request = raw.get("request") if isinstance(raw, dict) else None
    if not isinstance(request, dict):
        raise invalid("bundle.entry_request", "request", "thiếu", "is missing")
    method = request.get("method")
    url = request.get("url")
    if method not in RANK or not isinstance(url, str) or not url:
        raise invalid(
            "bundle.entry_request",
            "request",
            "cần method (GET, HEAD, POST, PUT, PATCH, DELETE) và url",
            "needs a method (GET, HEAD, POST, PUT, PATCH, DELETE) and a url",
        )
    if url.startswith(base):
        url = url[len(base) :]
    path, _, query = url.partition("?")
    parts = path.strip("/").split("/")
    entry = Entry(
        index=index,
        method=method,
        resource_type=checked_type(parts[0]),
        resource=raw.get("resource"),
        full_url=raw.get("fullUrl") if isinstance(raw.get("fullUrl"), str) else "",
    )
    if len(parts) == 2 and parts[1]:
        entry.logical_id = parts[1]
    elif len(parts) == 4 and parts[2] == "_history" and parts[3].isdigit() and method == "GET":
        entry.logical_id, entry.version_id = parts[1], int(parts[3])
    elif len(parts) != 1:
        raise invalid("bundle.entry_url", "request.url", "không được hỗ trợ", "is not supported")
    if method == "POST" and (entry.logical_id or query):
        raise invalid(
            "bundle.entry_url",
            "request.url",
            "của POST chỉ là loại tài nguyên (điều kiện đặt ở ifNoneExist)",
            "of a POST is the type alone (conditions go in ifNoneExist)",
        )
    if method in ("PUT", "PATCH", "DELETE"):
        if entry.logical_id is None:
            entry.query = conditional.criteria(query)
            if method == "DELETE":
                entry.count = conditional.delete_count(_query_value(query, "_count"))
    elif method in ("GET", "HEAD") and entry.logical_id is None:
        entry.search = parse_qsl(query, keep_blank_values=True)
    if method in ("POST", "PUT") and not isinstance(entry.resource, dict):
        raise invalid("bundle.entry_resource", "resource", "thiếu", "is missing")
    if method in ("POST", "PUT") and entry.resource.get("resourceType") != entry.resource_type:
        raise invalid(
            "resource.type_mismatch",
            "resource.resourceType",
            "khác với loại tài nguyên của url",
            "differs from the type of the url",
        )
    if_match = request.get("ifMatch")
    if isinstance(if_match, str) and if_match:
        matched = negotiation.ETAG.match(if_match.strip())
        if matched is None:
            raise invalid("request.bad_if_match", "request.ifMatch", 'là W/"n"', 'is W/"n"')
        entry.if_match = int(matched[1])
    if_none_exist = request.get("ifNoneExist")
    if method == "POST" and isinstance(if_none_exist, str) and if_none_exist:
        entry.if_none_exist = conditional.criteria(if_none_exist)
    return entry


def _query_value(query: str, name: str) -> str | None:
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if key == name:
            return value
    return None


def invalid(code: str, element: str, vi: str, en: str) -> InvalidInput:
    return InvalidInput(code, vi=f"{element} {vi}.", en=f"{element} {en}.", field=element)
