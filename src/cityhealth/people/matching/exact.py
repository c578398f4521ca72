"""Tier 1: exact identifiers, looked up for a whole batch of records at once.

- Citizen ID (12 digits) through the identifier history: an active number, or a cancelled one
  (numbers are re-issued; an old number still means its holder). A 9-digit number is an old
  ID card (CMND). An active holder wins over holders of a cancelled number.
- Social-insurance number (BHXH, 10 digits; a 15-character BHYT card code carries it at the
  end) through insurance cards and identifiers.
- Passport, with the nationality as issuer when the record gives one.
- Guardian key: the guardian's citizen ID, then among that guardian's children the one born
  on the record's date (and of its sex, when given). Twins share the date: their names decide.

Every person found is followed along `merged_into` to the record that survives.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cityhealth.people.enums import IdentifierKind, IdentifierStatus
from cityhealth.people.matching.types import IncomingRecord
from cityhealth.people.models import Guardianship, InsuranceCard, Person, PersonIdentifier

_LIVE = (IdentifierStatus.ACTIVE, IdentifierStatus.CANCELLED)
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")


@dataclass
class Tier1:
    """What the identifiers of one record point at."""

    hits: dict[int, list[str]] = field(default_factory=dict)  # person id → methods
    children: list[int] = field(default_factory=list)  # guardian's children born that day
    other_children: list[int] = field(default_factory=list)  # guardian's other children
    notes: list[str] = field(default_factory=list)

    def add(self, person_id: int, method: str) -> None:
        methods = self.hits.setdefault(person_id, [])
        if method not in methods:
            methods.append(method)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isascii() and ch.isdigit())


def citizen_number(raw: str) -> tuple[str, str] | None:
    """(identifier kind, value) of a typed ID number: 12 digits, or 9 for an old ID card."""
    digits = _digits(raw)
    if len(digits) == 12:
        return IdentifierKind.CITIZEN_ID, digits
    if len(digits) == 9:
        return IdentifierKind.OLD_ID, digits
    return None


def insurance_number(raw: str) -> str:
    """The 10-digit BHXH number, from itself or from a 15-character BHYT card code."""
    text = _NOT_ALNUM.sub("", raw.upper())
    if len(text) == 15:
        text = text[5:]
    return text if len(text) == 10 and text.isdigit() else ""


def passport_number(raw: str) -> str:
    return _NOT_ALNUM.sub("", raw.upper())


def _survivors(person_ids: Iterable[int]) -> dict[int, int]:
    """Each id → the id it was (transitively) merged into, or itself."""
    result = {pid: pid for pid in person_ids}
    pending = set(result)
    for _ in range(20):  # merge chains are short; the bound stops a cycle
        if not pending:
            break
        pointers = dict(
            Person.objects.filter(id__in=pending, merged_into__isnull=False).values_list(
                "id", "merged_into_id"
            )
        )
        if not pointers:
            break
        for pid, target in result.items():
            if target in pointers:
                result[pid] = pointers[target]
        pending = set(pointers.values())
    return result


def _holders(kind: str, values: set[str]) -> dict[str, list[tuple[int, str, str]]]:
    """value → [(person id, status, issuer)] for live identifiers of that kind."""
    found: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    if values:
        rows = PersonIdentifier.objects.filter(
            kind=kind, value__in=values, status__in=_LIVE
        ).values_list("value", "person_id", "status", "issuer")
        for value, person_id, status, issuer in rows:
            found[value].append((person_id, status, issuer))
    return found


def _preferred(holders: list[tuple[int, str, str]]) -> list[int]:
    active = [pid for pid, status, _ in holders if status == IdentifierStatus.ACTIVE]
    return sorted(set(active or [pid for pid, _, _ in holders]))


def resolve_identifiers(records: Sequence[IncomingRecord]) -> list[Tier1]:
    """Tier-1 findings for each record (empty when it carries no identifier that matches)."""
    results = [Tier1() for _ in records]
    numbers = [citizen_number(r.citizen_id) if r.citizen_id else None for r in records]
    guardians = [
        citizen_number(r.guardian_citizen_id) if r.guardian_citizen_id else None for r in records
    ]
    wanted: dict[str, set[str]] = defaultdict(set)
    for number in (*numbers, *guardians):
        if number is not None:
            wanted[number[0]].add(number[1])
    insurance = [insurance_number(r.social_insurance_number) for r in records]
    passports = [passport_number(r.passport) for r in records]
    wanted[IdentifierKind.SOCIAL_INSURANCE] |= {n for n in insurance if n}
    wanted[IdentifierKind.PASSPORT] |= {p for p in passports if p}
    holders = {kind: _holders(kind, values) for kind, values in wanted.items()}
    cards: dict[str, set[int]] = defaultdict(set)
    if any(insurance):
        card_rows = InsuranceCard.objects.filter(
            social_insurance_number__in={n for n in insurance if n}
        ).values_list("social_insurance_number", "person_id")
        for card_number, person_id in card_rows:
            cards[card_number].add(person_id)

    raw: list[list[tuple[int, str]]] = [[] for _ in records]
    guardian_ids: list[list[int]] = [[] for _ in records]
    for i, record in enumerate(records):
        number = numbers[i]
        if number is not None:
            for pid in _preferred(holders[number[0]].get(number[1], [])):
                raw[i].append((pid, str(number[0])))
        elif record.citizen_id:
            results[i].notes.append("citizen_id_malformed")
        if insurance[i]:
            sin_ids = set(cards.get(insurance[i], set()))
            sin_ids |= set(
                _preferred(holders[IdentifierKind.SOCIAL_INSURANCE].get(insurance[i], []))
            )
            raw[i] += [(pid, "social_insurance") for pid in sorted(sin_ids)]
        if passports[i]:
            nationality = record.nationality.strip().upper()
            entries = holders[IdentifierKind.PASSPORT].get(passports[i], [])
            if nationality:
                entries = [e for e in entries if not e[2] or e[2].upper() == nationality]
            raw[i] += [(pid, "passport") for pid in _preferred(entries)]
        guardian = guardians[i]
        if guardian is not None:
            guardian_ids[i] = _preferred(holders[guardian[0]].get(guardian[1], []))

    every = {pid for hits in raw for pid, _ in hits} | {g for gs in guardian_ids for g in gs}
    survivor = _survivors(every)
    for i, hits in enumerate(raw):
        for pid, method in hits:
            results[i].add(survivor[pid], method)
        guardian_ids[i] = sorted({survivor[g] for g in guardian_ids[i]})
    _guardian_key(records, guardian_ids, results)
    return results


def _guardian_key(
    records: Sequence[IncomingRecord], guardian_ids: list[list[int]], results: list[Tier1]
) -> None:
    all_guardians = {g for gs in guardian_ids for g in gs}
    if not all_guardians:
        return
    links = list(
        Guardianship.objects.filter(guardian_id__in=all_guardians).values_list(
            "guardian_id", "child_id"
        )
    )
    survivor = _survivors({child for _, child in links})
    children_of: dict[int, set[int]] = defaultdict(set)
    for guardian, child in links:
        children_of[guardian].add(survivor[child])
    facts = {
        row[0]: row[1:]
        for row in Person.objects.filter(id__in=set(survivor.values())).values_list(
            "id", "birth_date", "birth_year", "sex"
        )
    }
    for i, record in enumerate(records):
        children = sorted({c for g in guardian_ids[i] for c in children_of.get(g, set())})
        if not guardian_ids[i]:
            if record.guardian_citizen_id:
                results[i].notes.append("guardian_not_found")
            continue
        year = record.birth_date.year if record.birth_date else record.birth_year
        born_that_day = []
        for child in children:
            birth_date, birth_year, sex = facts.get(child, (None, None, ""))
            if record.birth_date is not None and record.birth_date_precision == "day":
                same_birth = birth_date == record.birth_date
            else:
                same_birth = year is not None and (birth_year or 0) == year
            same_sex = not record.sex or sex in ("", "unknown") or sex == record.sex
            if same_birth and same_sex:
                born_that_day.append(child)
        results[i].children = born_that_day
        results[i].other_children = [c for c in children if c not in born_that_day]
