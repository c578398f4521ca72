"""Running a search: the conditions of its parameters, an access filter on the person column,
keyset paging over the sort keys (never OFFSET: a page costs the same at page 1 and page
1,000), the total when asked, and the resources `_include`/`_revinclude` bring along."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection

from cityhealth.core.errors import InvalidInput
from cityhealth.db import bound_cursor, prepared_cursor
from cityhealth.records.models import Resource
from cityhealth.records.search.compartment import person_named
from cityhealth.records.search.conditions import (
    TABLE,
    UnknownParameter,
    _and,
    bad_value,
    condition,
    fresh_aliases,
    in_list,
    unknown_parameter,
)
from cityhealth.records.search.dates import EARLIEST
from cityhealth.records.search.definitions import param
from cityhealth.records.types import SUPPORTED_TYPES

DEFAULT_COUNT = 20
MAX_COUNT = 1000
# _include:iterate stops after this many rounds or this many included resources.
MAX_ITERATIONS = 5
MAX_INCLUDED = 1000
SUMMARY = ("true", "false", "count", "data", "text")
TOTAL = ("none", "estimate", "accurate")
# Result parameters: they shape the answer, they do not select resources.
CONTROLS = ("_sort", "_count", "_include", "_revinclude", "_total", "_summary", "_elements",
            "_page", "_format", "_pretty", "_include:iterate", "_revinclude:iterate")  # fmt: skip
_COLUMNS = (
    "id, resource_type, logical_id, version_id, last_updated, source, person_id, deleted, body"
)

_CONCRETE = {model_field.column: model_field for model_field in Resource._meta.concrete_fields}
_FIELDS = [_CONCRETE[column] for column in _COLUMNS.split(", ")]
_COLS = [model_field.get_col(Resource._meta.db_table) for model_field in _FIELDS]
_NAMES = [model_field.attname for model_field in _FIELDS]
_BODY = _NAMES.index("body")


def _resources(
    sql: str, params: list[Any], *, text: bool = False, prepared: bool = False
) -> list[Resource]:
    """The rows of `sql` (its first columns `_COLUMNS`, then any sort keys, kept as
    attributes) as Resources, as `Resource.objects.raw` would build them, with the statement
    bound on the server (`cityhealth.db.bound_cursor`) and without a RawQuerySet's per-query
    set-up, which cost a search more CPU than its SQL. With `text`, `body` stays None and
    `body_text` holds the stored JSON text unparsed (an answer can embed it as it is).
    `prepared`: the statement is prepared on the connection (see `_ANCHORS`)."""
    converters = []
    for index, column in enumerate(_COLS):
        if text and index == _BODY:
            continue
        found = [*connection.ops.get_db_converters(column), *column.get_db_converters(connection)]
        if found:
            converters.append((index, found))
    width = len(_NAMES)
    with prepared_cursor() if prepared else bound_cursor() as cursor:
        cursor.execute(sql, params)
        extra = [column[0] for column in cursor.description[width:]]
        fetched = cursor.fetchall()
    rows = []
    for values in fetched:
        own = list(values[:width])
        for index, functions in converters:
            for convert in functions:
                own[index] = convert(own[index], _COLS[index], connection)
        if text:
            raw, own[_BODY] = own[_BODY], None
        row = Resource.from_db(connection.alias, _NAMES, own)
        if text:
            row.body_text = raw if isinstance(raw, str) else bytes(raw).decode()
        for name, value in zip(extra, values[width:], strict=True):
            setattr(row, name, value)
        rows.append(row)
    return rows


# The access filter: given the SQL expressions of a row's person column and type column (of
# whichever row is about to be returned: a match or an included resource), the SQL predicate
# (and its parameters) true for the rows the caller may see. Consent plugs in here
# (`records.consent.access_predicate`), inside the same SQL as the search, so paging and
# totals stay right.
AccessFilter = Callable[[str, str], tuple[str, list[Any]]]


@dataclass
class SearchResult:
    matches: list[Resource]
    included: list[Resource] = field(default_factory=list)
    total: int | None = None
    next_page: str | None = None
    previous_page: str | None = None
    warnings: list[str] = field(default_factory=list)
    # The parameters as understood (for the self link), controls included, _page excluded.
    understood: list[tuple[str, str]] = field(default_factory=list)
    summary: str | None = None
    elements: list[str] = field(default_factory=list)


@dataclass
class _Plan:
    resource_type: str
    where: list[tuple[str, list[Any]]] = field(default_factory=list)
    sort: list[tuple[str, str]] = field(default_factory=list)  # (code, "asc"|"desc")
    count: int = DEFAULT_COUNT
    total: str = "none"
    includes: list[tuple[str, bool]] = field(default_factory=list)
    revincludes: list[tuple[str, bool]] = field(default_factory=list)
    page: str | None = None
    summary: str | None = None
    elements: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    understood: list[tuple[str, str]] = field(default_factory=list)
    text: bool = False  # rows carry their JSON text (`.body_text`), not a parsed `.body`
    anchored: bool = False  # one criterion narrows it to a few rows whatever its value


def search(
    *,
    resource_type: str,
    params: Sequence[tuple[str, str]],
    lenient: bool = False,
    access: AccessFilter | None = None,
    text: bool = False,
) -> SearchResult:
    """Run a FHIR search of `resource_type` given its parameters as (name, value) pairs in
    order (a query string or a `_search` form, parsed). Unknown parameters are refused
    (InvalidInput) unless `lenient`, which ignores them with a warning. With `text`, the
    matches and included resources carry their stored JSON text in `.body_text`, unparsed (their
    `.body` is None): an answer that embeds them as they are saves parsing them."""
    plan = _plan(resource_type, params, lenient, access)
    plan.text = text
    result = SearchResult(
        matches=[],
        warnings=plan.warnings,
        understood=plan.understood,
        summary=plan.summary,
        elements=plan.elements,
    )
    if plan.summary == "count" or plan.count == 0:
        result.total = _count(plan, access)
        return result
    rows, result.next_page, result.previous_page = _page(plan, access)
    result.matches = rows
    if plan.total == "accurate":
        result.total = _count(plan, access)
    elif plan.total == "estimate":
        result.total = _estimate(plan, access)
    elif plan.page is None and result.next_page is None:
        result.total = len(rows)  # the whole result is on this page: the total is free
    result.included = _included(plan, rows, access)
    return result


def find_matching(
    *, resource_type: str, params: Sequence[tuple[str, str]], limit: int
) -> list[Resource]:
    """The first `limit` matches (by row id), no paging, no includes: conditional operations."""
    plan = _plan(resource_type, params, lenient=False)
    plan.count = limit
    plan.sort = []
    plan.page = None
    rows, _, _ = _page(plan, None)
    return rows


# --- planning ---------------------------------------------------------------------------------


def _plan(
    resource_type: str,
    params: Sequence[tuple[str, str]],
    lenient: bool,
    access: AccessFilter | None = None,
) -> _Plan:
    with fresh_aliases():  # the same search shape, the same SQL text
        return _planned(resource_type, params, lenient, access)


def _planned(
    resource_type: str,
    params: Sequence[tuple[str, str]],
    lenient: bool,
    access: AccessFilter | None,
) -> _Plan:
    plan = _Plan(resource_type=resource_type)
    # A search naming one patient matches only resources of that person: said outright, the
    # database reads the person's index ranges instead of probing each of their resources.
    person = person_named(resource_type, params)
    if person is not None:
        plan.where.append(("r.person_id = %s", [person]))
    for name, raw in params:
        if name in ("_format", "_pretty"):
            continue
        if name == "_page":
            plan.page = raw
            continue
        try:
            if name.startswith("_") and name.split(":")[0] in (
                "_sort", "_count", "_include", "_revinclude", "_total", "_summary", "_elements",
            ):  # fmt: skip
                _control(plan, name, raw)
            else:
                plan.where.append(condition(resource_type, "r", name, raw, access, person=person))
                plan.anchored = plan.anchored or _anchors(name, raw)
        except UnknownParameter as unknown:
            if not lenient:
                raise
            plan.warnings.append(unknown.message_en)
            continue
        plan.understood.append((name, raw))
    return plan


# Criteria that narrow a search to a handful of rows whatever their value: one patient's
# resources, one identifier, one id. A search with one of them is prepared (planned once per
# connection): PostgreSQL's generic plan starts from that criterion as a fresh plan would, and
# planning was half of such a search's database time. Any other search is planned each time,
# for its values (a common code and a rare one want different plans).
_ANCHORS = frozenset({"_id", "identifier", "patient", "subject"})


def _anchors(name: str, raw: str) -> bool:
    if name not in _ANCHORS or not raw or "," in raw:
        return False
    return name != "identifier" or not raw.endswith("|")  # `system|` alone is no anchor


def count_parameter(raw: str | None, *, default: int, least: int, most: int | None) -> int:
    """`_count` as every part of the FHIR API reads it: `default` when absent, a whole
    number of at least `least` (400 otherwise), capped at `most` (None: no cap here).
    Searches take 0 (only the total); history, `$everything`, the trail and conditional
    deletes take 1 or more."""
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < least:
        raise InvalidInput(
            "request.bad_count",
            vi=f"_count phải là số nguyên từ {least} trở lên.",
            en=f"_count must be a whole number, {least} or more.",
            field="_count",
        )
    return int(raw) if most is None else min(int(raw), most)


def _control(plan: _Plan, name: str, raw: str) -> None:
    base, _, modifier = name.partition(":")
    if base == "_count":
        plan.count = count_parameter(raw, default=DEFAULT_COUNT, least=0, most=MAX_COUNT)
    elif base == "_total":
        if raw not in TOTAL:
            raise bad_value(name, raw, " | ".join(TOTAL))
        plan.total = raw
    elif base == "_summary":
        if raw not in SUMMARY:
            raise bad_value(name, raw, " | ".join(SUMMARY))
        plan.summary = None if raw == "false" else raw
    elif base == "_elements":
        plan.elements = [e.strip() for e in raw.split(",") if e.strip()]
    elif base == "_sort":
        plan.sort = []
        for key in raw.split(","):
            descending = key.startswith("-")
            code = key.lstrip("-")
            if code not in ("_id", "_lastUpdated") and param(plan.resource_type, code) is None:
                raise unknown_parameter(f"_sort={code}", plan.resource_type)
            plan.sort.append((code, "desc" if descending else "asc"))
    elif base in ("_include", "_revinclude"):
        if modifier not in ("", "iterate"):
            raise unknown_parameter(name, plan.resource_type)
        _check_include(plan.resource_type if base == "_include" else None, name, raw)
        (plan.includes if base == "_include" else plan.revincludes).append(
            (raw, modifier == "iterate")
        )


def _check_include(resource_type: str | None, name: str, raw: str) -> None:
    if raw == "*":
        return
    parts = raw.split(":")
    if len(parts) not in (2, 3) or parts[0] not in SUPPORTED_TYPES:
        raise bad_value(name, raw, "Type:parameter[:targetType]")
    definition = param(parts[0], parts[1]) if parts[1] != "*" else None
    if parts[1] != "*" and (definition is None or definition.kind != "reference"):
        raise unknown_parameter(f"{name}={raw}", parts[0])


# --- the query --------------------------------------------------------------------------------


def _filtered(plan: _Plan, access: AccessFilter | None) -> tuple[str, list[Any]]:
    where, params = _and(plan.where)
    sql = f"r.resource_type = %s AND NOT r.deleted AND ({where})"
    all_params = [plan.resource_type, *params]
    if access is not None:
        predicate, predicate_params = access("r.person_id", "r.resource_type")
        sql += f" AND ({predicate})"
        all_params += predicate_params
    return sql, all_params


def _sort_keys(plan: _Plan) -> list[tuple[str, list[Any], str]]:
    """(SQL expression, parameters, direction) of each sort key, the row id last (unique, so
    the keyset is total). A parameter missing from a resource sorts after every value."""
    keys: list[tuple[str, list[Any], str]] = []
    for code, direction in plan.sort:
        if code == "_id":
            keys.append(("r.logical_id", [], direction))
            continue
        if code == "_lastUpdated":
            keys.append(("r.last_updated", [], direction))
            continue
        definition = param(plan.resource_type, code)
        assert definition is not None
        columns: dict[str, tuple[str, Any]] = {
            "date": ("low" if direction == "asc" else "high", None),
            "quantity": ("low", 0),
            "number": ("value", 0),
            "reference": ("target_id", ""),
            "token": ("code", ""),
        }
        column, neutral = columns.get(definition.kind, ("value", ""))
        if definition.kind == "date":
            neutral = connection.ops.adapt_datetimefield_value(EARLIEST)
        aggregate = "MIN" if direction == "asc" else "MAX"
        value = (
            f"(SELECT {aggregate}(x.{column}) FROM {TABLE[definition.kind]} x "  # noqa: S608
            f"WHERE x.resource_id = r.id AND x.param = %s)"
        )
        keys.append((f"CASE WHEN {value} IS NULL THEN 1 ELSE 0 END", [code], "asc"))
        keys.append((f"COALESCE({value}, %s)", [code, neutral], direction))
    keys.append(("r.id", [], "asc"))
    return keys


def _page(
    plan: _Plan, access: AccessFilter | None
) -> tuple[list[Resource], str | None, str | None]:
    keys = _sort_keys(plan)
    backwards = False
    after: list[Any] | None = None
    if plan.page is not None:
        backwards, after = _decode(plan.page, len(keys))
    where, params = _filtered(plan, access)
    select = ", ".join(f"{sql} AS k{i}" for i, (sql, _, _) in enumerate(keys))
    select_params = [p for _, ps, _ in keys for p in ps]
    directions = [("desc" if d == "asc" else "asc") if backwards else d for _, _, d in keys]
    outer_where, outer_params = "1=1", list[Any]()
    if after is not None:
        outer_where, outer_params = _keyset(directions, after)
    order = ", ".join(f"q.k{i} {d.upper()}" for i, d in enumerate(directions))
    sql = (
        f"SELECT * FROM (SELECT r.{_COLUMNS.replace(', ', ', r.')}, {select} "  # noqa: S608
        f"FROM records_resources r WHERE {where}) q "
        f"WHERE {outer_where} ORDER BY {order} LIMIT %s"
    )
    rows = _resources(
        sql,
        [*select_params, *params, *outer_params, plan.count + 1],
        text=plan.text,
        prepared=plan.anchored,
    )
    more = len(rows) > plan.count
    rows = rows[: plan.count]
    if backwards:
        rows.reverse()
    next_page = previous_page = None
    if rows:
        last = _encode(False, [getattr(rows[-1], f"k{i}") for i in range(len(keys))])
        first = _encode(True, [getattr(rows[0], f"k{i}") for i in range(len(keys))])
        if backwards:
            next_page = last
            previous_page = first if more else None
        else:
            next_page = last if more else None
            previous_page = first if plan.page is not None else None
    return rows, next_page, previous_page


def _keyset(directions: list[str], after: list[Any]) -> tuple[str, list[Any]]:
    """Rows strictly after `after` in the order of the keys: (k0 > a0) OR (k0 = a0 AND
    k1 > a1) OR …, each comparison in its key's direction."""
    ors: list[str] = []
    params: list[Any] = []
    for i, direction in enumerate(directions):
        ands = [f"q.k{j} = %s" for j in range(i)]
        ands.append(f"q.k{i} {'>' if direction == 'asc' else '<'} %s")
        ors.append("(" + " AND ".join(ands) + ")")
        params += [*after[:i], after[i]]
    return " OR ".join(ors), params


def _encode(backwards: bool, values: list[Any]) -> str:
    def plain(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return {"t": value.isoformat()}
        if isinstance(value, Decimal):
            return {"d": str(value)}
        return value

    text = json.dumps({"b": backwards, "k": [plain(v) for v in values]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str, length: int) -> tuple[bool, list[Any]]:
    def typed(value: Any) -> Any:
        if isinstance(value, dict) and "t" in value:
            return dt.datetime.fromisoformat(value["t"])
        if isinstance(value, dict) and "d" in value:
            return Decimal(value["d"])
        return value

    try:
        loaded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        values = [typed(v) for v in loaded["k"]]
        if len(values) != length:
            raise ValueError
        return bool(loaded["b"]), values
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidInput(
            "search.invalid_page",
            vi="Con trỏ trang không hợp lệ hoặc không thuộc tìm kiếm này.",
            en="The page cursor is not valid or belongs to another search.",
            field="_page",
        ) from None


def _count(plan: _Plan, access: AccessFilter | None) -> int:
    where, params = _filtered(plan, access)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM records_resources r WHERE {where}", params)  # noqa: S608
        return int(cursor.fetchone()[0])


def _estimate(plan: _Plan, access: AccessFilter | None) -> int:
    if connection.vendor != "postgresql":
        return _count(plan, access)
    where, params = _filtered(plan, access)
    with connection.cursor() as cursor:
        cursor.execute(
            f"EXPLAIN (FORMAT JSON) SELECT 1 FROM records_resources r WHERE {where}",  # noqa: S608
            params,
        )
        explained = cursor.fetchone()[0]
    plan_json = json.loads(explained) if isinstance(explained, str) else explained
    return int(plan_json[0]["Plan"]["Plan Rows"])


# --- _include and _revinclude -----------------------------------------------------------------


def _included(plan: _Plan, matches: list[Resource], access: AccessFilter | None) -> list[Resource]:
    if not matches or not (plan.includes or plan.revincludes):
        return []
    seen = {row.pk for row in matches}
    included: list[Resource] = []
    fresh = list(matches)
    for round_number in range(MAX_ITERATIONS):
        found: list[Resource] = []
        for spec, iterate in plan.includes:
            if round_number == 0 or iterate:
                found += _forward(spec, fresh, access, text=plan.text)
        for spec, iterate in plan.revincludes:
            if round_number == 0 or iterate:
                found += _reverse(spec, fresh, access, text=plan.text)
        fresh = []
        for row in found:
            if row.pk not in seen and len(included) < MAX_INCLUDED:
                seen.add(row.pk)
                included.append(row)
                fresh.append(row)
        if not fresh:
            break
    return included


def _access_sql(alias: str, access: AccessFilter | None) -> tuple[str, list[Any]]:
    if access is None:
        return "", []
    predicate, params = access(f"{alias}.person_id", f"{alias}.resource_type")
    return f" AND ({predicate})", list(params)


def _forward(
    spec: str, sources: list[Resource], access: AccessFilter | None, *, text: bool
) -> list[Resource]:
    """`Type:param[:target]` (or `*`): the current resources the sources refer to."""
    parts = spec.split(":")
    source_type = None if spec == "*" else parts[0]
    code = None if spec == "*" or parts[1] == "*" else parts[1]
    target = parts[2] if len(parts) == 3 else None
    ids = [row.pk for row in sources if source_type in (None, row.resource_type)]
    if not ids:
        return []
    id_sql, id_params = in_list("x.resource_id", ids)
    sql = (
        f"SELECT t.{_COLUMNS.replace(', ', ', t.')} FROM records_search_references x "  # noqa: S608
        f"JOIN records_resources t ON t.resource_type = x.target_type "
        f"AND t.logical_id = x.target_id WHERE {id_sql} AND NOT t.deleted"
    )
    params = list(id_params)
    if code is not None:
        sql += " AND x.param = %s"
        params.append(code)
    if target is not None:
        sql += " AND x.target_type = %s"
        params.append(target)
    access_sql, access_params = _access_sql("t", access)
    return _resources(sql + access_sql, params + access_params, text=text)


def _reverse(
    spec: str, targets: list[Resource], access: AccessFilter | None, *, text: bool
) -> list[Resource]:
    """`Type:param[:target]` (or `*`): the current resources of Type that refer to the
    targets through param."""
    parts = spec.split(":")
    found: list[Resource] = []
    by_type: dict[str, list[str]] = {}
    for row in targets:
        by_type.setdefault(row.resource_type, []).append(row.logical_id)
    for target_type, logical_ids in by_type.items():
        if len(parts) == 3 and parts[2] != target_type:
            continue
        id_sql, id_params = in_list("x.target_id", logical_ids)
        sql = (
            f"SELECT s.{_COLUMNS.replace(', ', ', s.')} FROM records_search_references x "  # noqa: S608
            f"JOIN records_resources s ON s.id = x.resource_id "
            f"WHERE x.target_type = %s AND {id_sql} AND NOT s.deleted"
        )
        params: list[Any] = [target_type, *id_params]
        if spec != "*":
            sql += " AND x.resource_type = %s"
            params.append(parts[0])
            if parts[1] != "*":
                sql += " AND x.param = %s"
                params.append(parts[1])
        access_sql, access_params = _access_sql("s", access)
        found += _resources(sql + access_sql, params + access_params, text=text)
    return found
