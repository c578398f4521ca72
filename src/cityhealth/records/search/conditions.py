"""FHIR search parameters as SQL conditions over the index tables, for one resource table
alias. Each parameter occurrence becomes one EXISTS over its kind's table (values of a
comma-separated list OR-ed inside it, long lists as one array parameter); chains join the
reference table to the target's current row and recurse; `_has` does the same the other way.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

from django.db import connection

from cityhealth.core import clock
from cityhealth.core.errors import InvalidInput
from cityhealth.core.text import fold_for_search
from cityhealth.records.search.dates import date_range
from cityhealth.records.search.definitions import SearchParam, param, params_for
from cityhealth.records.search.extract import parse_reference, to_decimal
from cityhealth.records.types import SUPPORTED_TYPES

Sql = tuple[str, list[Any]]
# The caller's access filter (`run.AccessFilter`): the SQL predicate, given a row's person and
# type columns, true for the rows the caller may see. A chain or `_has` applies it to every
# resource it passes through, not only to those returned: a resource the caller may not see
# must not decide whether another one matches (`Patient?_has:Observation:patient:code=X`
# would tell whether a hidden Observation exists).
Access = Callable[[str, str], tuple[str, list[Any]]] | None
PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
# Modifiers each kind understands (listed in the CapabilityStatement).
MODIFIERS: dict[str, tuple[str, ...]] = {
    "token": ("missing", "not", "text"),
    "string": ("missing", "exact", "contains"),
    "reference": ("missing", "identifier", "[type]"),
    "date": ("missing",),
    "number": ("missing",),
    "quantity": ("missing",),
    "uri": ("missing", "below"),
}
TABLE = {
    "token": "records_search_tokens",
    "string": "records_search_strings",
    "reference": "records_search_references",
    "date": "records_search_dates",
    "quantity": "records_search_quantities",
    "uri": "records_search_uris",
    "number": "records_search_numbers",
}
# Table aliases need only be unique within one statement; numbered afresh for each search
# (`fresh_aliases`), the same search shape is the same SQL text, which a prepared statement
# needs. Outside a search (a lone condition) they come from one process-wide count.
_aliases: ContextVar[Iterator[int] | None] = ContextVar("search_aliases", default=None)
_process_aliases = itertools.count()
_PLUS_DECODED = re.compile(r" (\d{2}:\d{2})$")


class UnknownParameter(InvalidInput):
    """A parameter this server does not know for the type (ignored under lenient handling)."""


def unknown_parameter(name: str, resource_type: str) -> UnknownParameter:
    return UnknownParameter(
        "search.unknown_parameter",
        vi=f"Tham số tìm kiếm «{name}» không dùng được cho {resource_type}.",
        en=f"The search parameter “{name}” is not supported for {resource_type}.",
        field=name,
    )


def bad_value(name: str, value: str, why: str = "") -> InvalidInput:
    return InvalidInput(
        "search.invalid_value",
        vi=f"Giá trị «{value[:100]}» của tham số «{name}» không hợp lệ. {why}".strip(),
        en=f"The value “{value[:100]}” of the parameter “{name}” is not valid. {why}".strip(),
        field=name,
    )


def split_values(raw: str) -> list[str]:
    """A comma-separated OR-list; `\\,` is a literal comma."""
    return [v for v in _split(raw, ",") if v != ""]


def _split(raw: str, separator: str) -> list[str]:
    parts, current, escaped = [], [], False
    for ch in raw:
        if escaped:
            current.append(ch if ch in ",|$\\" else "\\" + ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


@contextmanager
def fresh_aliases() -> Iterator[None]:
    """Number the table aliases of the conditions built inside from 0."""
    token = _aliases.set(itertools.count())
    try:
        yield
    finally:
        _aliases.reset(token)


def _alias(prefix: str) -> str:
    return f"{prefix}{next(_aliases.get() or _process_aliases) % 100000}"


def in_list(column: str, values: Sequence[Any]) -> Sql:
    """`column` equal to one of `values`: one array parameter on PostgreSQL (the plan does
    not change with the list's length), an IN list elsewhere."""
    if len(values) == 1:
        return f"{column} = %s", [values[0]]
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _db_datetime(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def condition(
    resource_type: str,
    alias: str,
    name: str,
    raw: str,
    access: Access = None,
    *,
    person: int | None = None,
) -> Sql:
    """The SQL condition on `alias` (a row of records_resources of `resource_type`) for one
    `name=raw` pair of a search; a chain or `_has` passes only through rows `access` lets
    the caller see (None: every row). `person`: the search matches only that person's
    resources (`person_named`), so the index rows read are that person's."""
    if name.startswith("_has:"):
        return _reverse_chain(resource_type, alias, name, raw, access)
    code, _, modifier = name.partition(":")
    if "." in code or "." in modifier:
        return _chain(resource_type, alias, name, raw, access)
    if code == "_id":
        return _on_id(alias, name, modifier, raw)
    if code == "_lastUpdated":
        if modifier:
            raise unknown_parameter(name, resource_type)
        return _or(
            [
                _date_test(f"{alias}.last_updated", f"{alias}.last_updated", name, v)
                for v in split_values(raw)
            ]
        )
    definition = param(resource_type, code)
    if definition is None:
        raise unknown_parameter(name, resource_type)
    if modifier == "missing":
        if raw not in ("true", "false"):
            raise bad_value(name, raw, "true | false")
        found = _exists(definition, alias, "1=1", [], person)
        return (f"NOT {found[0]}", found[1]) if raw == "true" else found
    values = split_values(raw)
    if not values:
        raise bad_value(name, raw)
    kind = definition.kind
    if kind == "reference":
        return _reference(definition, alias, name, modifier, values, person)
    allowed = MODIFIERS[kind]
    if modifier and modifier not in allowed:
        raise unknown_parameter(name, resource_type)
    x = "x"
    if kind == "token":
        test = _token_test(x, name, modifier, values)
        if modifier == "not":
            found = _exists(definition, alias, *test, person)
            return f"NOT {found[0]}", found[1]
    elif kind == "string":
        test = _string_test(x, modifier, values)
    elif kind == "date":
        test = _or([_date_test(f"{x}.low", f"{x}.high", name, v) for v in values])
    elif kind == "number":
        test = _or([_number_test(f"{x}.value", f"{x}.value", name, v) for v in values])
    elif kind == "quantity":
        test = _or([_quantity_test(x, name, v) for v in values])
    else:  # uri
        if modifier == "below":
            test = _or([(f"{x}.value LIKE %s ESCAPE '\\'", [_like(v) + "%"]) for v in values])
        else:
            test = in_list(f"{x}.value", values)
    return _exists(definition, alias, *test, person)


def _exists(
    definition: SearchParam, alias: str, test: str, params: list[Any], person: int | None
) -> Sql:
    """EXISTS a row of the parameter's table for this resource passing `test` (on `x`).
    With the search's `person`, the row is looked for among that person's rows: it says
    nothing more (an index row carries its resource's person) but lets the database read
    one range of the person index ("person 7's Observation codes X") and stop there."""
    x = _alias("x")
    table = TABLE[definition.kind]
    where = f"{x}.resource_type = %s AND {x}.param = %s AND ({test.replace('x.', x + '.')})"
    values = [definition.resource_type, definition.code, *params]
    if person is not None:
        where = f"{x}.person_id = %s AND {where}"
        values.insert(0, person)
    if connection.vendor == "sqlite":
        # SQLite runs a correlated EXISTS once per row of the type (every Observation for
        # one patient's); an uncorrelated IN list it reads once, through the value index.
        return f"{alias}.id IN (SELECT {x}.resource_id FROM {table} {x} WHERE {where})", values  # noqa: S608
    return (
        f"EXISTS (SELECT 1 FROM {table} {x} WHERE {x}.resource_id = {alias}.id AND {where})",  # noqa: S608
        values,
    )


def _or(parts: list[Sql]) -> Sql:
    if len(parts) == 1:
        return parts[0]
    return " OR ".join(f"({sql})" for sql, _ in parts), [p for _, ps in parts for p in ps]


def _and(parts: list[Sql]) -> Sql:
    if not parts:
        return "1=1", []
    return " AND ".join(f"({sql})" for sql, _ in parts), [p for _, ps in parts for p in ps]


# --- _id --------------------------------------------------------------------------------------


def _on_id(alias: str, name: str, modifier: str, raw: str) -> Sql:
    values = split_values(raw)
    if not values or modifier not in ("", "not"):
        raise bad_value(name, raw)
    sql, params = in_list(f"{alias}.logical_id", values)
    return (f"NOT ({sql})", params) if modifier == "not" else (sql, params)


# --- token ------------------------------------------------------------------------------------


def _token_test(x: str, name: str, modifier: str, values: list[str]) -> Sql:
    if modifier == "text":
        return _or(
            [
                (
                    f"{x}.text LIKE %s ESCAPE '\\' OR {x}.text LIKE %s ESCAPE '\\'",
                    [_like(fold_for_search(v)) + "%", "% " + _like(fold_for_search(v)) + "%"],
                )
                for v in values
            ]
        )
    any_system: list[str] = []
    by_system: dict[str, list[str]] = {}
    whole_systems: list[str] = []
    for value in values:
        parts = _split(value, "|")
        if len(parts) == 1:
            any_system.append(parts[0])
        elif len(parts) == 2:
            system, code = parts
            if code:
                by_system.setdefault(system, []).append(code)
            elif system:
                whole_systems.append(system)
            else:
                raise bad_value(name, value)
        else:
            raise bad_value(name, value)
    tests: list[Sql] = []
    if any_system:
        tests.append(in_list(f"{x}.code", any_system))
    for system, codes in by_system.items():
        code_sql, code_params = in_list(f"{x}.code", codes)
        tests.append((f"{x}.system = %s AND {code_sql}", [system, *code_params]))
    if whole_systems:
        tests.append(in_list(f"{x}.system", whole_systems))
    return _or(tests)


# --- string -----------------------------------------------------------------------------------


def _string_test(x: str, modifier: str, values: list[str]) -> Sql:
    if modifier == "exact":
        return in_list(f"{x}.exact", values)
    folded = [fold_for_search(v) for v in values]
    if modifier == "contains":
        return _or([(f"{x}.value LIKE %s ESCAPE '\\'", ["%" + _like(f) + "%"]) for f in folded])
    return _or([(f"{x}.value LIKE %s ESCAPE '\\'", [_like(f) + "%"]) for f in folded])


# --- reference --------------------------------------------------------------------------------


def _reference(
    definition: SearchParam,
    alias: str,
    name: str,
    modifier: str,
    values: list[str],
    person: int | None,
) -> Sql:
    x = "x"
    if modifier == "identifier":
        matches: list[Sql] = []
        for value in values:
            parts = _split(value, "|")
            if len(parts) == 1:
                matches.append((f"{x}.identifier_value = %s", [parts[0]]))
            elif len(parts) == 2 and parts[1]:
                matches.append(
                    (f"{x}.identifier_system = %s AND {x}.identifier_value = %s", list(parts))
                )
            else:
                raise bad_value(name, value)
        return _exists(definition, alias, *_or(matches), person)
    if modifier and modifier not in definition.target_types():
        raise unknown_parameter(name, definition.resource_type)
    by_type: dict[str, list[str]] = {}
    bare: list[str] = []
    urls: list[str] = []
    for value in values:
        target_type, target_id = parse_reference(value)
        if target_type:
            if modifier and target_type != modifier:
                raise bad_value(name, value, f"not a {modifier}")
            by_type.setdefault(target_type, []).append(target_id)
        elif "/" not in value and ":" not in value:
            if modifier:
                by_type.setdefault(modifier, []).append(value)
            else:
                bare.append(value)
        else:
            urls.append(value)
    tests: list[Sql] = []
    for target_type, ids in by_type.items():
        id_sql, id_params = in_list(f"{x}.target_id", ids)
        tests.append((f"{x}.target_type = %s AND {id_sql}", [target_type, *id_params]))
    if bare:
        tests.append(in_list(f"{x}.target_id", bare))
    if urls:
        tests.append(in_list(f"{x}.url", urls))
    return _exists(definition, alias, *_or(tests), person)


def _seen(alias: str, access: Access) -> Sql:
    """` AND` the access filter on `alias` (nothing without one)."""
    if access is None:
        return "", []
    predicate, params = access(f"{alias}.person_id", f"{alias}.resource_type")
    return f" AND ({predicate})", list(params)


def _chain(resource_type: str, alias: str, name: str, raw: str, access: Access) -> Sql:
    """`subject:Patient.identifier=…`, `subject.name=…`, `a.b.c=…`: the resource has a
    reference, through this parameter, to a current resource matching the rest."""
    head, _, rest = name.partition(".")
    code, _, target = head.partition(":")
    definition = param(resource_type, code)
    if definition is None or definition.kind != "reference" or not rest:
        raise unknown_parameter(name, resource_type)
    rest_code = rest.split(".")[0].split(":")[0]
    types = [target] if target else list(definition.target_types())
    if target and target not in definition.target_types():
        raise unknown_parameter(name, resource_type)
    types = [t for t in types if rest_code in params_for(t) or rest_code in ("_id", "_lastUpdated")]
    if not types:
        raise unknown_parameter(name, resource_type)
    x, t = _alias("x"), _alias("t")
    per_type = [
        (
            f"{t}.resource_type = %s AND ({sql})",
            [target_type, *params],
        )
        for target_type in types
        for sql, params in [condition(target_type, t, rest, raw, access)]
    ]
    test, params = _or(per_type)
    seen, seen_params = _seen(t, access)
    return (
        f"EXISTS (SELECT 1 FROM records_search_references {x} JOIN records_resources {t} "  # noqa: S608
        f"ON {t}.resource_type = {x}.target_type AND {t}.logical_id = {x}.target_id "
        f"WHERE {x}.resource_id = {alias}.id AND {x}.resource_type = %s AND {x}.param = %s "
        f"AND NOT {t}.deleted AND ({test}){seen})",
        [resource_type, code, *params, *seen_params],
    )


def _reverse_chain(resource_type: str, alias: str, name: str, raw: str, access: Access) -> Sql:
    """`_has:Observation:patient:code=…`: some current Observation refers to this resource
    through `patient` and matches `code=…` (which may itself be a `_has`)."""
    parts = name.split(":", 3)
    if len(parts) != 4 or parts[1] not in SUPPORTED_TYPES:
        raise unknown_parameter(name, resource_type)
    _, source_type, code, rest = parts
    definition = param(source_type, code)
    if definition is None or definition.kind != "reference":
        raise unknown_parameter(name, resource_type)
    if resource_type not in definition.target_types():
        raise unknown_parameter(name, resource_type)
    x, s = _alias("x"), _alias("s")
    test, params = condition(source_type, s, rest, raw, access)
    seen, seen_params = _seen(s, access)
    return (
        f"EXISTS (SELECT 1 FROM records_search_references {x} JOIN records_resources {s} "  # noqa: S608
        f"ON {s}.id = {x}.resource_id "
        f"WHERE {x}.target_type = %s AND {x}.target_id = {alias}.logical_id "
        f"AND {x}.resource_type = %s AND {x}.param = %s AND NOT {s}.deleted AND ({test}){seen})",
        [resource_type, source_type, code, *params, *seen_params],
    )


# --- ordered kinds: prefixes ------------------------------------------------------------------


def _prefixed(value: str) -> tuple[str, str]:
    if value[:2] in PREFIXES and len(value) > 2 and not value[2].isalpha():
        return value[:2], value[2:]
    return "eq", value


def _range_test(prefix: str, low: str, high: str, start: Any, end: Any) -> Sql:
    """The FHIR prefix semantics for a resource range [low, high] (columns, inclusive)
    against a search range [start, end] (inclusive)."""
    if prefix == "eq":
        return f"{low} >= %s AND {high} <= %s", [start, end]
    if prefix == "ne":
        return f"NOT ({low} >= %s AND {high} <= %s)", [start, end]
    if prefix == "gt":
        return f"{high} > %s", [end]
    if prefix == "lt":
        return f"{low} < %s", [start]
    if prefix == "ge":
        return f"{high} > %s OR ({low} >= %s AND {high} <= %s)", [end, start, end]
    if prefix == "le":
        return f"{low} < %s OR ({low} >= %s AND {high} <= %s)", [start, start, end]
    if prefix == "sa":
        return f"{low} > %s", [end]
    if prefix == "eb":
        return f"{high} < %s", [start]
    # ap: the ranges overlap once the search range is widened (see callers)
    return f"{low} <= %s AND {high} >= %s", [end, start]


def _date_test(low: str, high: str, name: str, value: str) -> Sql:
    prefix, text = _prefixed(value)
    # An unencoded "+07:00" arrives as " 07:00": read it as the zone it was meant to be.
    found = date_range(_PLUS_DECODED.sub(r"+\1", text))
    if found is None:
        raise bad_value(name, value, "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss][zone]")
    start, end = found
    if prefix == "ap":
        now = clock.now()
        widen = max(abs(now - start), abs(now - end)) / 10
        start, end = start - widen, end + widen
    return _range_test(prefix, low, high, _db_datetime(start), _db_datetime(end))


def _number_range(name: str, value: str) -> tuple[str, Decimal, Decimal, Decimal]:
    prefix, text = _prefixed(value)
    number = to_decimal(text)
    if number is None:
        raise bad_value(name, value)
    exponent = number.as_tuple().exponent
    half = Decimal(1).scaleb(int(exponent)) / 2 if isinstance(exponent, int) else Decimal(0)
    if prefix == "ap":
        half = max(half, abs(number) / 10)
    return prefix, number, number - half, number + half


def _number_test(low: str, high: str, name: str, value: str) -> Sql:
    prefix, number, start, end = _number_range(name, value)
    if prefix in ("eq", "ne", "ap"):
        # the search range is half-open at the top: 100 means [99.5, 100.5)
        sql, params = _range_test(prefix, low, high, start, end)
        return sql.replace(f"{high} <= %s", f"{high} < %s"), params
    return _range_test(prefix, low, high, number, number)


def _quantity_test(x: str, name: str, value: str) -> Sql:
    parts = _split(value, "|")
    if len(parts) not in (1, 3):
        raise bad_value(name, value, "number|system|code")
    number_sql, params = _number_test(f"{x}.low", f"{x}.high", name, parts[0])
    if len(parts) == 3:
        system, code = parts[1], parts[2]
        if system and code:
            number_sql += f" AND {x}.system = %s AND {x}.code = %s"
            params += [system, code]
        elif code:
            number_sql += f" AND ({x}.code = %s OR {x}.unit = %s)"
            params += [code, code]
    return number_sql, params
