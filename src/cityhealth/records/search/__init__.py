"""The search engine of the shared record (decision 0005, "Search").

At write time each resource's search parameters (HL7's R4 definitions, compiled into plain
Python extractors) fill one narrow index table per kind; a search is SQL over those tables
joined to the current table only. Public functions:

- `index_resource(row)`, `index_resources(rows)`: keep the index current (every write path);
- `person_for(...)`, `people_for(...)`: the Patient compartment a resource belongs to;
- `search(...)`: a FHIR search, paged by keyset, with includes, totals and an access filter;
- `find_by_criteria(...)`: the matches of a query string, for conditional operations;
- `query_condition(...)`: a query string as an SQL condition, for other filtered reads;
- `params_for(type)`, `unsupported()`: what is searchable (for the CapabilityStatement).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from cityhealth.records.models import Resource
from cityhealth.records.search.compartment import people_for, person_for
from cityhealth.records.search.conditions import MODIFIERS, UnknownParameter, condition
from cityhealth.records.search.dates import date_range
from cityhealth.records.search.definitions import SearchParam, params_for, unsupported
from cityhealth.records.search.indexing import index_resource, index_resources, remove_index
from cityhealth.records.search.run import (
    CONTROLS,
    AccessFilter,
    SearchResult,
    count_parameter,
    find_matching,
    search,
)

__all__ = [
    "CONTROLS",
    "MODIFIERS",
    "AccessFilter",
    "SearchParam",
    "SearchResult",
    "UnknownParameter",
    "count_parameter",
    "date_range",
    "find_by_criteria",
    "index_resource",
    "index_resources",
    "modifiers_of",
    "params_for",
    "people_for",
    "person_for",
    "query_condition",
    "remove_index",
    "search",
    "unsupported",
]


def modifiers_of(definition: SearchParam) -> tuple[str, ...]:
    """The modifiers served for a parameter (`_id` and `_lastUpdated` live on the current
    table and have their own)."""
    if definition.code == "_id":
        return ("not",)
    if definition.code == "_lastUpdated":
        return ()
    return MODIFIERS[definition.kind]


def query_condition(
    *, resource_type: str, alias: str, query: str, access: AccessFilter | None = None
) -> tuple[str, list[Any]]:
    """The SQL condition (with its parameters) a query string's search parameters put on
    `alias`, a row of records_resources of `resource_type` (all of them must hold), for
    callers filtering their own queries (export's `_typeFilter`); chains and `_has` pass
    only through rows `access` lets the caller see. InvalidInput for an unknown parameter."""
    parts = [
        condition(resource_type, alias, name, value, access)
        for name, value in parse_qsl(query.lstrip("?"), keep_blank_values=True)
    ]
    if not parts:
        return "1=1", []
    return " AND ".join(f"({sql})" for sql, _ in parts), [p for _, ps in parts for p in ps]


def find_by_criteria(*, resource_type: str, query: str, limit: int = 2) -> list[Resource]:
    """Current, non-deleted resources of `resource_type` matching a FHIR search query string
    (`identifier=sys|val&status=final`), at most `limit` of them: conditional create,
    update and delete ask for 2 to tell none, one and several apart. An unknown parameter is
    refused (InvalidInput), never ignored: ignoring it would widen the match."""
    params = parse_qsl(query.lstrip("?"), keep_blank_values=True)
    return find_matching(resource_type=resource_type, params=params, limit=limit)
