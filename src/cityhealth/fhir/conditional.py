"""Conditional interactions: writes whose target is named by a search instead of an id
(create with If-None-Exist, update, PATCH and delete on `/{type}?criteria`), and conditional
references in a transaction. One resolution for all of them, used by the REST routes and by
Bundles alike.

Deciding "nothing matches, so create" is only safe if no other writer can create a match
between the search and the write: the search runs under a lock on its criteria held to the
end of the transaction (`services.lock_criteria`).
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode

from django.conf import settings

from cityhealth.core.errors import Conflict, InvalidInput
from cityhealth.records import errors, selectors, services
from cityhealth.records.models import Resource
from cityhealth.records.search import count_parameter

# Parameters of a request that say how to answer, not what to match.
_NOT_CRITERIA = frozenset({"_format", "_pretty", "_summary", "_elements", "_count"})


class PreconditionFailed(Conflict):
    status_code: ClassVar[int] = 412
    title: ClassVar[str] = "Precondition failed"


def criteria(query: str) -> str:
    """The search of a conditional interaction, normalised (parameters in order), so one
    search always takes the same lock. `Type?a=b` and a leading `?` are accepted too."""
    query = query.partition("?")[2] if "?" in query else query
    pairs = sorted(
        (name, value)
        for name, value in parse_qsl(query, keep_blank_values=True)
        if name not in _NOT_CRITERIA
    )
    if not pairs:
        raise InvalidInput(
            "conditional.no_criteria",
            vi="Thao tác có điều kiện cần điều kiện tìm kiếm (ví dụ identifier=…).",
            en="A conditional interaction needs search criteria (e.g. identifier=…).",
        )
    return urlencode(pairs)


def lock(targets: list[tuple[str, str]]) -> None:
    """Take the locks of these (type, normalised criteria) searches, all at once."""
    services.lock_criteria(criteria=targets)


def matches(resource_type: str, query: str, *, limit: int = 2) -> list[Resource]:
    return selectors.find_by_criteria(resource_type=resource_type, query=query, limit=limit)


def existing_for_create(resource_type: str, query: str) -> Resource | None:
    """If-None-Exist: the one resource that already matches (None: create). 412 for several."""
    found = matches(resource_type, query)
    if len(found) > 1:
        raise _several(resource_type, query)
    return found[0] if found else None


def target_for_update(resource_type: str, query: str, body: Any) -> str:
    """Conditional update: the id to write (the one match, or a new id when nothing matches,
    the body's own id if it has one). 412 for several; 400 if the body's id is another
    resource's."""
    found = matches(resource_type, query)
    if len(found) > 1:
        raise _several(resource_type, query)
    body_id = body.get("id") if isinstance(body, dict) else None
    if not found:
        return body_id if isinstance(body_id, str) and body_id else uuid.uuid4().hex
    if body_id not in (None, found[0].logical_id):
        raise InvalidInput(
            "conditional.id_mismatch",
            vi=f"Điều kiện khớp {resource_type}/{found[0].logical_id}, nhưng nội dung "
            f"mang id «{body_id}».",
            en=f"The criteria match {resource_type}/{found[0].logical_id}, but the body "
            f"has id “{body_id}”.",
            field="id",
        )
    return found[0].logical_id


def single_target(resource_type: str, query: str) -> Resource:
    """Conditional PATCH (and conditional references): exactly one match, else 404/412."""
    found = matches(resource_type, query)
    if len(found) > 1:
        raise _several(resource_type, query)
    if not found:
        raise errors.resource_not_found(resource_type, f"?{query}")
    return found[0]


def delete_targets(resource_type: str, query: str, *, count: int | None) -> list[Resource]:
    """Conditional delete: the match (none is fine), or up to `count` of them when the
    client asked for several with `_count` (at most the server's limit). 412 beyond."""
    allowed = 1 if count is None else max(1, min(count, settings.FHIR_CONDITIONAL_DELETE_MAX))
    found = matches(resource_type, query, limit=allowed + 1)
    if len(found) > allowed:
        raise PreconditionFailed(
            "conditional.too_many_matches",
            vi=f"Điều kiện khớp nhiều hơn {allowed} {resource_type}; thêm _count=N "
            f"(tối đa {settings.FHIR_CONDITIONAL_DELETE_MAX}) để xoá nhiều.",
            en=f"The criteria match more than {allowed} {resource_type}; send _count=N "
            f"(at most {settings.FHIR_CONDITIONAL_DELETE_MAX}) to delete several.",
        )
    return found


def delete_count(text: str | None) -> int | None:
    """How many resources a conditional delete may remove: None (one) without `_count`."""
    return None if text is None else count_parameter(text, default=1, least=1, most=None)


def _several(resource_type: str, query: str) -> PreconditionFailed:
    return PreconditionFailed(
        "conditional.multiple_matches",
        vi=f"Điều kiện «{query[:200]}» khớp nhiều {resource_type}; hãy nêu cụ thể hơn.",
        en=f"The criteria “{query[:200]}” match several {resource_type}; be more specific.",
    )
