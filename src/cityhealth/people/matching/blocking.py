"""Which persons a record is compared with (blocking), read from the database in batches.

Comparing a record with every person is out of the question at millions of persons, so each
record is compared only with the persons that agree with it on some key. Every rule is an
equality lookup on an index of `people_persons`, and a whole batch of records goes to the
database in one statement:

stage 1, every record without an exact identifier
  name_year   name key (re-ordered, with/without Văn/Thị) + birth year  (search_text, birth_year)
  name        name key, any year: only for records without a birth year (search_text, …)
  phone       phone number (and its pre-2018 11-digit form)             (phone)
stage 2, only the records that stage 1 did not link
  dob         date of birth (or day and month swapped), and the person  (birth_date)
              shares a name word with the record (below), or its ward
  ward_year   ward + birth year, and a shared name word: only for       (ward, birth_year)
              records without a full date of birth

"Shares a name word": the given word, or the first middle word other than Văn/Thị, or the
family name followed by a word with the given name's initial (a rare family name alone).

The word and ward filters run on the rows the index returns; they keep the candidate lists
short on common dates and in populous wards. A true match is missed only if it fails every
rule: name key or year wrong, date wrong or missing (or all name words and the ward wrong), no
phone, and ward or year wrong. Stage 2 costs the most (a date of birth is shared by a few
hundred residents of a city of millions), so it runs only where stage 1 did not settle.

With the covering index on (birth_date, search_text) INCLUDE (id, ward_id) recommended in
decision 0004, the date rule picks ids from index entries first and reads only their rows.

On PostgreSQL each rule is a LATERAL subquery over `unnest`ed arrays, with a LIMIT per key:
that keeps the plan an index lookup per key (never a hash join over the whole table), bounds
what one very common key can return, and sends a few array parameters instead of thousands of
scalars. SQLite gets the same rules as joins on a VALUES list (its planner only does nested
loops, and the embedded database is small).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connection, models, transaction

from cityhealth.core.names import name_key
from cityhealth.people.matching.features import (
    OLD_MOBILE_PREFIXES,
    PERSON_COLUMNS,
    SEX_FEMALE,
    SEX_MALE,
    SEX_MARKERS,
    IntArray,
    PersonRow,
    clean_name,
    normalise_phone,
    person_row,
    sex_code,
)
from cityhealth.people.matching.model import PRIOR_SURNAMES
from cityhealth.people.matching.types import IncomingRecord
from cityhealth.people.models import Person

STAGE_1 = frozenset({"name_year", "name", "phone", "ids"})
STAGE_2 = frozenset({"dob", "ward_year"})
_NEW_TO_OLD_MOBILE = {new: old for old, new in OLD_MOBILE_PREFIXES.items()}
# Surnames held by more than 1% of residents: too common to filter candidates on alone.
COMMON_FAMILIES = frozenset(k for k, share in PRIOR_SURNAMES.items() if share >= 0.01)
# Most rows one key may return (PostgreSQL): far above what a real key returns, it only stops
# a pathological one (a default date like 01/01/1950, a phone typed as 0000000000).
_LIMITS = {"name_year": 200, "name": 500, "phone": 50, "dob": 1000, "ward_year": 2000, "ids": 50}


@dataclass(frozen=True)
class BlockingKeys:
    """What the rules look a record up by."""

    name_keys: tuple[str, ...]
    year: int | None
    dates: tuple[dt.date, ...]
    words: tuple[str, str, str]  # LIKE patterns on the name (see `_name_filters`)
    phones: tuple[str, ...]
    ward: str


def _name_key_variants(tokens: list[str], sex: int) -> tuple[str, ...]:
    """The record's name key, re-ordered (given name first or last), and with the sex marker
    dropped or, for a short name without one, added (Văn for men, Thị for women)."""
    if not tokens:
        return ()
    orders = [tokens]
    if len(tokens) >= 2:
        orders += [tokens[1:] + tokens[:1], tokens[-1:] + tokens[:-1], tokens[::-1]]
    variants: list[list[str]] = []
    markers = {SEX_MALE: ["van"], SEX_FEMALE: ["thi"]}.get(sex, ["van", "thi"])
    for order in orders:
        variants.append(order)
        last = len(order) - 1
        bare = [t for i, t in enumerate(order) if not (0 < i < last and t in SEX_MARKERS)]
        if bare != order:
            variants.append(bare)
        elif 2 <= len(order) <= 3 and not SEX_MARKERS & set(order):
            variants += [[*order[:1], marker, *order[1:]] for marker in markers]
    seen: dict[str, None] = {}
    for variant in variants:
        seen.setdefault(" ".join(variant), None)
    return tuple(seen)


def _swapped(date: dt.date) -> dt.date | None:
    if date.day > 12 or date.day == date.month:
        return None
    try:
        return date.replace(month=date.day, day=date.month)
    except ValueError:
        return None


def _word(token: str) -> str:
    return "".join(ch for ch in token if ch.isalnum())


def _name_filters(words: list[str]) -> tuple[str, str, str]:
    """LIKE patterns (on " " + search_text + " ") a stage-2 candidate's name must meet one of:
    the record's given word; its first middle word (not Văn/Thị); its family name at the start
    followed by a word with the given name's initial (the family alone when it is rare)."""
    given = _word(words[-1]) if words else ""
    family = _word(words[0]) if len(words) >= 2 else ""
    middle = _word(words[1]) if len(words) >= 3 else ""
    by_family = ""
    if family:
        rare = family not in COMMON_FAMILIES
        by_family = f" {family} %" if rare or not given else f" {family} % {given[0]}%"
    return (
        f"% {given} %" if given else "",
        f"% {middle} %" if middle else "",
        by_family,
    )


def blocking_keys(record: IncomingRecord) -> BlockingKeys:
    tokens = name_key(clean_name(record.full_name)).split()
    sex = sex_code(record.sex)
    words = [t for t in tokens if t not in SEX_MARKERS] or tokens
    year = record.birth_date.year if record.birth_date is not None else record.birth_year
    dates: tuple[dt.date, ...] = ()
    if record.birth_date is not None and record.birth_date_precision == "day":
        swapped = _swapped(record.birth_date)
        dates = (record.birth_date,) if swapped is None else (record.birth_date, swapped)
    phone = normalise_phone(record.phone)
    phones: tuple[str, ...] = ()
    if phone:
        old = _NEW_TO_OLD_MOBILE.get(phone[:3])
        phones = (phone,) if old is None or len(phone) != 10 else (phone, old + phone[3:])
    return BlockingKeys(
        name_keys=_name_key_variants(tokens, sex),
        year=year or None,
        dates=dates,
        words=_name_filters(words),
        phones=phones,
        ward=record.ward_code.strip(),
    )


_COLUMNS = {f.name: f.column for f in Person._meta.concrete_fields}


def _column(field_name: str) -> str:
    return connection.ops.quote_name(_COLUMNS[field_name.removesuffix("_id")])


def _table() -> str:
    return connection.ops.quote_name(Person._meta.db_table)


def _merged() -> str:
    return _column("merged_into")


def _contains(pattern_column: str) -> str:
    return f"(' ' || p.{_column('search_text')} || ' ') LIKE {pattern_column}"


def _date_param(date: dt.date) -> str:
    # SQLite keeps dates as ISO text; Python 3.12 deprecates sqlite3's implicit date adapter.
    return date.isoformat()


@dataclass(frozen=True)
class _Rule:
    name: str
    # (name, PostgreSQL type) after the record position. With `alternatives`, the first
    # column holds a tuple of values, any of which may agree (name key variants, swapped
    # dates, old and new phone forms).
    columns: tuple[tuple[str, str], ...]
    condition: str  # on `p` (the person) and `q` (the key); {first} is the first column test
    alternatives: bool = False


def _rules() -> dict[str, _Rule]:
    text, year, date = "text", "integer", "date"
    words = " OR ".join(_contains(f"q.w{i}") for i in (1, 2, 3))
    search_text, birth_year = _column("search_text"), _column("birth_year")
    return {
        "name_year": _Rule(
            "name_year",
            (("k", text), ("y", year)),
            f"p.{search_text} {{first}} AND p.{birth_year} = q.y",
            alternatives=True,
        ),
        "name": _Rule("name", (("k", text),), f"p.{search_text} {{first}}", alternatives=True),
        "phone": _Rule("phone", (("ph", text),), f"p.{_column('phone')} {{first}}", True),
        "dob": _Rule(
            "dob",
            (("d", date), ("w", text), ("w1", text), ("w2", text), ("w3", text)),
            f"p.{_column('birth_date')} {{first}} AND ({words} OR p.{_column('ward')} = q.w)",
            alternatives=True,
        ),
        "ward_year": _Rule(
            "ward_year",
            (("w", text), ("y", year), ("w1", text), ("w2", text), ("w3", text)),
            f"p.{_column('ward')} = q.w AND p.{birth_year} = q.y AND ({words})",
        ),
        "ids": _Rule("ids", (("pid", "bigint"),), f"p.{_column('id')} = q.pid"),
    }


def _key_rows(
    keys: Sequence[BlockingKeys | None],
    rules: Collection[str],
    extra: Mapping[int, Iterable[int]] | None,
) -> dict[str, list[tuple[Any, ...]]]:
    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in _LIMITS}
    for rid, key in enumerate(keys):
        if key is None:
            continue
        if "name_year" in rules and key.year and key.name_keys:
            rows["name_year"].append((rid, key.name_keys, key.year))
        if "name" in rules and not key.year and key.name_keys:
            rows["name"].append((rid, key.name_keys))
        if "phone" in rules and key.phones:
            rows["phone"].append((rid, key.phones))
        if "dob" in rules and key.dates:
            rows["dob"].append((rid, key.dates, key.ward, *key.words))
        # Ward + year only when there is no full date: where there is one, the date rule
        # already looks in the ward, and ward + year is the costliest lookup.
        if "ward_year" in rules and not key.dates and key.ward and key.year and any(key.words):
            rows["ward_year"].append((rid, key.ward, key.year, *key.words))
    rows["ids"] = [(rid, pid) for rid, pids in (extra or {}).items() for pid in pids]
    return rows


_COVERING_DATE_INDEX: dict[str, bool] = {}


def _covering_date_index() -> bool:
    """Whether PostgreSQL has an index on (birth_date, search_text) that also holds id and
    ward (see docs/decisions/0004): with it the date rule reads index entries, not rows."""
    name = str(connection.settings_dict.get("NAME"))
    if name not in _COVERING_DATE_INDEX:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE tablename = %s",
                [Person._meta.db_table],
            )
            definitions = [row[0].replace('"', "") for row in cursor.fetchall()]
        found = False
        for definition in definitions:
            keys, _, include = definition.partition(" INCLUDE (")
            included = {column.strip() for column in include.split(")")[0].split(",")}
            if "(birth_date, search_text" in keys and {"id", "ward_id"} <= included:
                found = True
        _COVERING_DATE_INDEX[name] = found
    return _COVERING_DATE_INDEX[name]


def _postgresql_statement(rows: dict[str, list[tuple[Any, ...]]]) -> tuple[str, list[Any]]:
    columns = ", ".join(f"p.{_column(c)}" for c in PERSON_COLUMNS)
    selects: list[str] = []
    params: list[Any] = []
    for name, rule in _rules().items():
        if not rows[name]:
            continue
        first, first_type = rule.columns[0]
        names = ["rid", *(column for column, _ in rule.columns)]
        types = ["integer", *(sql_type for _, sql_type in rule.columns)]
        if rule.alternatives:  # one '|'-joined text per record, split again in SQL
            types[1] = "text"
            test = f"= ANY(CAST(string_to_array(q.{first}, '|') AS {first_type}[]))"
        else:
            test = f"= q.{first}"
        arrays = ", ".join(f"CAST(%s AS {sql_type}[])" for sql_type in types)
        condition = rule.condition.format(first=test)
        if name == "dob" and _covering_date_index():
            # Ids first, rows after: the index holds the filtered columns, so the word filter
            # runs on index entries and only the survivors' rows are read.
            found = (
                f"(SELECT {columns} FROM {_table()} p WHERE p.{_column('id')} IN "  # noqa: S608 — names from model metadata, values are parameters
                f"(SELECT p.{_column('id')} FROM {_table()} p WHERE {condition} "
                f"LIMIT {_LIMITS[name]}) AND p.{_merged()} IS NULL OFFSET 0)"
            )
        else:
            found = (
                f"(SELECT {columns} FROM {_table()} p "  # noqa: S608 — as above
                f"WHERE {condition} AND p.{_merged()} IS NULL LIMIT {_LIMITS[name]})"
            )
        selects.append(
            f"SELECT q.rid, x.* FROM unnest({arrays}) AS q({', '.join(names)}) "  # noqa: S608 — as above
            f"CROSS JOIN LATERAL {found} x"
        )
        values = list(zip(*rows[name], strict=True))
        if rule.alternatives:
            values[1] = tuple(
                "|".join(str(v) for v in options if "|" not in str(v)) for options in values[1]
            )
        params += [list(column) for column in values]
    return " UNION ".join(selects), params


def _sqlite_statement(rows: dict[str, list[tuple[Any, ...]]]) -> tuple[str, list[Any]]:
    columns = ", ".join(f"p.{_column(c)}" for c in PERSON_COLUMNS)
    ctes: list[str] = []
    selects: list[str] = []
    params: list[Any] = []
    for name, rule in _rules().items():
        if not rows[name]:
            continue
        expanded = rows[name]
        if rule.alternatives:  # one row per alternative
            expanded = [(r[0], v, *r[2:]) for r in rows[name] for v in r[1]]
        width = 1 + len(rule.columns)
        values = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(expanded))
        names = ", ".join(["rid", *(column for column, _ in rule.columns)])
        ctes.append(f"q_{name}({names}) AS (VALUES {values})")
        condition = rule.condition.format(first=f"= q.{rule.columns[0][0]}")
        condition = condition.replace("q.", f"q_{name}.")
        selects.append(
            f"SELECT q_{name}.rid, {columns} FROM q_{name} "  # noqa: S608 — as above
            f"JOIN {_table()} p ON {condition} WHERE p.{_merged()} IS NULL"
        )
        for row in expanded:
            params.extend(_date_param(v) if isinstance(v, dt.date) else v for v in row)
    return f"WITH {', '.join(ctes)} " + " UNION ".join(selects), params


@dataclass(frozen=True)
class Fetched:
    """Candidate pairs of a batch: (record position, person row position), and the persons
    as rows in `PERSON_COLUMNS` order."""

    rid: IntArray
    row: IntArray
    persons: list[tuple[Any, ...]]


def fetch_candidates(
    keys: Sequence[BlockingKeys | None],
    *,
    rules: Collection[str],
    extra: Mapping[int, Iterable[int]] | None = None,
) -> Fetched:
    """Persons that any of `rules` pairs with each record (a None key skips that record).

    `extra` adds persons by id (found by an identifier, a guardian's children).
    """
    rows = _key_rows(keys, rules, extra)
    if not any(rows.values()):
        return Fetched(np.zeros(0, np.int64), np.zeros(0, np.int64), [])
    postgres = connection.vendor == "postgresql"
    sql, params = (_postgresql_statement if postgres else _sqlite_statement)(rows)
    with transaction.atomic(), connection.cursor() as cursor:
        if postgres:
            # Just-in-time compilation costs more (~0.1 s) than these index lookups.
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    position: dict[int, int] = {}
    persons: list[tuple[Any, ...]] = []
    rids = np.fromiter((values[0] for values in fetched), np.int64, len(fetched))
    at_rows = np.empty(len(fetched), dtype=np.int64)
    setdefault = position.setdefault
    for k, values in enumerate(fetched):
        at = setdefault(values[1], len(persons))
        if at == len(persons):
            persons.append(values[1:])
        at_rows[k] = at
    return Fetched(rids, at_rows, persons)


def _rows_by_ids(ids: Sequence[int]) -> list[PersonRow]:
    columns = ", ".join(f"p.{_column(c)}" for c in PERSON_COLUMNS)
    rows: list[PersonRow] = []
    chunk = 900  # under SQLite's default limit on parameters
    with connection.cursor() as cursor:
        for start in range(0, len(ids), chunk):
            part = list(ids[start : start + chunk])
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(
                f"SELECT {columns} FROM {_table()} p "  # noqa: S608 — names from model metadata
                f"WHERE p.{_column('id')} IN ({marks}) AND p.{_merged()} IS NULL",
                part,
            )
            rows += [person_row(values) for values in cursor.fetchall()]
    return rows


def sample_persons(size: int, *, seed: int = 0) -> list[PersonRow]:
    """About `size` persons drawn at random from the index (ids drawn uniformly in range)."""
    bounds = Person.objects.filter(merged_into__isnull=True).aggregate(
        low=models.Min("id"), high=models.Max("id"), count=models.Count("id")
    )
    if not bounds["count"]:
        return []
    low, high, count = int(bounds["low"]), int(bounds["high"]), int(bounds["count"])
    if size >= count:
        ids = list(Person.objects.filter(merged_into__isnull=True).values_list("id", flat=True))
    else:
        rng = np.random.default_rng(seed)
        density = count / (high - low + 1)
        draws = min(high - low + 1, int(size / density * 1.2) + 10)
        ids = sorted(low + int(i) for i in rng.choice(high - low + 1, draws, replace=False))
    rows = _rows_by_ids(ids)
    if len(rows) > size:
        keep = np.random.default_rng(seed + 1).choice(len(rows), size, replace=False)
        rows = [rows[int(k)] for k in sorted(keep)]
    return rows


def persons_found_by_blocking(
    records: Sequence[IncomingRecord], *, batch: int = 500
) -> list[PersonRow]:
    """Every person any blocking rule finds for `records`, once each. Training adds them to
    its sample so that the records' own persons take part in EM, however small the sample
    is next to the index."""
    found: dict[int, PersonRow] = {}
    for start in range(0, len(records), batch):
        keys = [blocking_keys(r) for r in records[start : start + batch]]
        fetched = fetch_candidates(keys, rules=STAGE_1 | STAGE_2)
        for values in fetched.persons:
            found.setdefault(int(values[0]), person_row(values))
    return list(found.values())
