"""From a resource to its index entries: each parameter's compiled extractor picks the
elements, and the element's data type decides the rows of its kind (a CodeableConcept gives
one token per coding, a HumanName one string per part, a Period one date range)."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from cityhealth.core.text import fold_for_search
from cityhealth.records.search.dates import EARLIEST, LATEST, date_range
from cityhealth.records.search.definitions import SearchParam, readers_of

# Bounds of the quantity/number columns (36 digits, 12 after the point).
NUMBER_LIMIT = Decimal("1e23")
_TEXT = 255
_URL = 500
_ID = 64
# A reference our server can follow: relative `Type/id`, or absolute with our base path.
_LOCAL_REFERENCE = re.compile(
    r"^(?:.*/fhir/R4/)?([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$"
)
# Parts of a HumanName or Address a string search matches.
_STRING_PARTS = ("text", "family", "given", "prefix", "suffix", "line", "city", "district",
                 "state", "postalCode", "country")  # fmt: skip


@dataclass(slots=True)
class Entries:
    """Index rows of one resource, by kind, each led by the parameter code."""

    token: list[tuple[str, str, str, str]] = field(default_factory=list)
    string: list[tuple[str, str, str]] = field(default_factory=list)
    reference: list[tuple[str, str, str, str, str, str]] = field(default_factory=list)
    date: list[tuple[str, dt.datetime, dt.datetime]] = field(default_factory=list)
    quantity: list[tuple[str, Decimal, Decimal, str, str, str]] = field(default_factory=list)
    uri: list[tuple[str, str]] = field(default_factory=list)
    number: list[tuple[str, Decimal]] = field(default_factory=list)


def extract(resource_type: str, body: dict[str, Any]) -> Entries:
    """The index rows of a resource. Only the parameters reading an element the resource
    has are run (a handful of the type's forty or so)."""
    entries = Entries()
    readers = readers_of(resource_type)
    done: set[str] = set()
    for key in body:
        for definition in readers.get(key, ()):
            if definition.code not in done:
                done.add(definition.code)
                _add(entries, definition, body)
    for kind in ("token", "string", "reference", "date", "quantity", "uri", "number"):
        rows: list[Any] = getattr(entries, kind)
        if len(rows) > 1:
            setattr(entries, kind, list(dict.fromkeys(rows)))
    return entries


def _add(entries: Entries, definition: SearchParam, body: dict[str, Any]) -> None:
    assert definition.extractor is not None
    values = definition.extractor(body)
    if not values:
        return
    rows: list[Any] = getattr(entries, definition.kind)
    make = _ROWS[definition.kind]
    code = definition.code
    for value in values:
        for row in make(value):
            rows.append((code, *row))


@functools.lru_cache(maxsize=8192)  # a person's resources name the same few references
def parse_reference(text: str) -> tuple[str, str]:
    """(type, id) of a reference this server can resolve, else ("", "")."""
    match = _LOCAL_REFERENCE.match(text)
    return (match.group(1), match.group(2)) if match else ("", "")


def to_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or abs(number) >= NUMBER_LIMIT:
        return None
    return number


def _tokens(value: Any) -> list[tuple[str, str, str]]:
    if isinstance(value, bool):
        return [("", "true" if value else "false", "")]
    if isinstance(value, str | int | float):
        return [("", str(value)[:_TEXT], "")]
    if not isinstance(value, dict):
        return []
    if "coding" in value or set(value) <= {"text", "id", "extension"}:  # CodeableConcept
        text = value.get("text") or ""
        rows = [
            (
                str(coding.get("system") or "")[:_TEXT],
                str(coding["code"])[:_TEXT],
                _folded(coding.get("display"), text),
            )
            for coding in value.get("coding") or ()
            if isinstance(coding, dict) and coding.get("code")
        ]
        if not rows and isinstance(text, str) and text:
            rows.append(("", "", fold_for_search(text)[:_TEXT]))
        return rows
    if "code" in value:  # Coding (and Quantity's code)
        return [
            (
                str(value.get("system") or "")[:_TEXT],
                str(value["code"])[:_TEXT],
                _folded(value.get("display")),
            )
        ]
    if "value" in value:  # Identifier, ContactPoint
        kind = value.get("type")
        label = kind.get("text") if isinstance(kind, dict) else ""
        return [
            (
                str(value.get("system") or "")[:_TEXT],
                str(value["value"])[:_TEXT],
                _folded(label),
            )
        ]
    return []


def _folded(*texts: Any) -> str:
    """The folded display text of a code (for `:text`), "" when there is none."""
    present = tuple(str(t) for t in texts if t)
    return _fold(present) if present else ""


@functools.lru_cache(maxsize=8192)  # codes' displays repeat (the same LOINC names, statuses)
def _fold(texts: tuple[str, ...]) -> str:
    return fold_for_search(*texts)[:_TEXT]


def _strings(value: Any) -> list[tuple[str, str]]:
    if isinstance(value, str):
        parts = [value]
    elif isinstance(value, dict):
        parts = []
        for key in _STRING_PARTS:
            part = value.get(key)
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, list):
                parts.extend(p for p in part if isinstance(p, str))
    else:
        return []
    return [(fold_for_search(p)[:_TEXT], p[:_TEXT]) for p in parts if p.strip()]


def _references(value: Any) -> list[tuple[str, str, str, str, str]]:
    if isinstance(value, str):  # canonical / uri
        url = value.split("|")[0]
        target_type, target_id = parse_reference(url)
        return [(target_type, target_id, url[:_URL], "", "")]
    if not isinstance(value, dict):
        return []
    ref = value.get("reference")
    url = ref if isinstance(ref, str) else ""
    target_type, target_id = parse_reference(url) if url else ("", "")
    identifier = value.get("identifier")
    system = code = ""
    if isinstance(identifier, dict):
        system = str(identifier.get("system") or "")[:_TEXT]
        code = str(identifier.get("value") or "")[:_TEXT]
    if not url and not code:
        return []
    return [(target_type, target_id[:_ID], url[:_URL], system, code)]


def _dates(value: Any) -> list[tuple[dt.datetime, dt.datetime]]:
    if isinstance(value, str):
        found = date_range(value)
        return [found] if found else []
    if not isinstance(value, dict):
        return []
    if "start" in value or "end" in value:  # Period
        start = date_range(value["start"]) if isinstance(value.get("start"), str) else None
        end = date_range(value["end"]) if isinstance(value.get("end"), str) else None
        if start is None and end is None:
            return []
        return [(start[0] if start else EARLIEST, end[1] if end else LATEST)]
    rows: list[tuple[dt.datetime, dt.datetime]] = []
    for event in value.get("event") or ():  # Timing
        if isinstance(event, str) and (found := date_range(event)):
            rows.append(found)
    repeat = value.get("repeat")
    if isinstance(repeat, dict) and isinstance(repeat.get("boundsPeriod"), dict):
        rows.extend(_dates(repeat["boundsPeriod"]))
    return rows


def _quantities(value: Any) -> list[tuple[Decimal, Decimal, str, str, str]]:
    if not isinstance(value, dict):
        return []
    if "low" in value or "high" in value:  # Range
        low: dict[str, Any] = value["low"] if isinstance(value.get("low"), dict) else {}
        high: dict[str, Any] = value["high"] if isinstance(value.get("high"), dict) else {}
        low_value, high_value = to_decimal(low.get("value")), to_decimal(high.get("value"))
        if low_value is None and high_value is None:
            return []
        unit = low or high
        return [
            (
                low_value if low_value is not None else -NUMBER_LIMIT + 1,
                high_value if high_value is not None else NUMBER_LIMIT - 1,
                str(unit.get("system") or "")[:_TEXT],
                str(unit.get("code") or "")[:64],
                str(unit.get("unit") or "")[:64],
            )
        ]
    number = to_decimal(value.get("value"))
    if number is None:
        return []
    return [
        (
            number,
            number,
            str(value.get("system") or "")[:_TEXT],
            str(value.get("code") or "")[:64],
            str(value.get("unit") or "")[:64],
        )
    ]


def _uris(value: Any) -> list[tuple[str]]:
    return [(value[:_URL],)] if isinstance(value, str) and value else []


def _numbers(value: Any) -> list[tuple[Decimal]]:
    number = to_decimal(value)
    return [] if number is None else [(number,)]


_ROWS: dict[str, Any] = {
    "token": _tokens,
    "string": _strings,
    "reference": _references,
    "date": _dates,
    "quantity": _quantities,
    "uri": _uris,
    "number": _numbers,
}
