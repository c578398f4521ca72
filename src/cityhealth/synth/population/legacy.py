"""Legacy hospital records: noisy copies of some persons, plus people who are not in the
registry, with the truth beside them, for testing and tuning the matcher.

The columns follow `people.matching.types.IncomingRecord`; `true_person_id` is the person the
record belongs to (empty for a true non-match) and `noise` lists what was done to it. See
`data/synth/SOURCE.md` for the columns and the rates.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cityhealth.people.enums import DatePrecision
from cityhealth.synth.population.generator import PersonFacts
from cityhealth.synth.population.tables import Tables

COLUMNS = (
    "source_record_id",
    "facility_code",
    "full_name",
    "birth_date",
    "birth_year",
    "birth_date_precision",
    "sex",
    "citizen_id",
    "social_insurance_number",
    "phone",
    "ward_code",
    "address",
    "true_person_id",
    "noise",
)

# What may be done to a record (the `noise` column lists them, separated by ";").
NOISE_KINDS = (
    "typo_swap",  # two neighbouring letters of one name word swapped
    "typo_drop",  # one letter of one name word dropped
    "no_diacritics",  # name typed without Vietnamese diacritics
    "upper_case",  # name in capitals (harmless, but common)
    "surname_variant",  # Võ ↔ Vũ, Huỳnh ↔ Hoàng
    "name_order",  # family and given names swapped
    "day_month_swap",  # date of birth with day and month exchanged
    "year_only",  # only the year of birth recorded
    "sex_missing",
    "phone_missing",
    "phone_typo",  # one digit wrong
    "citizen_id_missing",
    "citizen_id_typo",  # one digit of the random block wrong
    "ward_changed",  # the person lived in another ward then
)
NON_MATCH_KINDS = ("non_match_namesake", "non_match_other")

_VARIANTS = {"Võ": "Vũ", "Vũ": "Võ", "Huỳnh": "Hoàng", "Hoàng": "Huỳnh"}


def strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    )


class _Noise:
    def __init__(self, tables: Tables, rng: np.random.Generator) -> None:
        self.tables = tables
        self.rates = tables.params.legacy.rates
        self.rng = rng
        self.facilities = sorted({str(c) for c in tables.wards.primary_care.ravel() if c})

    def happens(self, kind: str) -> bool:
        return bool(self.rng.random() < self.rates[kind])

    def integer(self, low: int, high: int) -> int:
        return int(self.rng.integers(low, high))

    def _typo(self, words: list[str], kind: str) -> bool:
        candidates = [i for i, w in enumerate(words) if len(w) >= 3]
        if not candidates:
            return False
        i = candidates[self.integer(0, len(candidates))]
        word = words[i]
        if kind == "typo_swap":
            positions = [p for p in range(len(word) - 1) if word[p] != word[p + 1]]
            if not positions:
                return False
            p = positions[self.integer(0, len(positions))]
            words[i] = word[:p] + word[p + 1] + word[p] + word[p + 2 :]
        else:
            p = self.integer(0, len(word))
            words[i] = word[:p] + word[p + 1 :]
        return True

    def _digit_typo(self, text: str, first: int) -> str:
        p = self.integer(first, len(text))
        digit = (int(text[p]) + self.integer(1, 10)) % 10
        return text[:p] + str(digit) + text[p + 1 :]

    def name(self, facts: PersonFacts, noise: list[str]) -> str:
        words = [facts.family, *facts.middles, facts.given]
        if words[0] in _VARIANTS and self.happens("surname_variant"):
            words[0] = _VARIANTS[words[0]]
            noise.append("surname_variant")
        for kind in ("typo_swap", "typo_drop"):
            if self.happens(kind) and self._typo(words, kind):
                noise.append(kind)
        if len(words) >= 2 and self.happens("name_order"):
            words[0], words[-1] = words[-1], words[0]
            noise.append("name_order")
        name = " ".join(words)
        if self.happens("no_diacritics"):
            name = strip_diacritics(name)
            noise.append("no_diacritics")
        if self.happens("upper_case"):
            name = name.upper()
            noise.append("upper_case")
        return name

    def record(
        self,
        facts: PersonFacts,
        *,
        truth: str,
        noise: list[str],
        birth_date: dt.date | None = None,
        ward_index: int | None = None,
        phone: str | None = None,
        ids: bool = True,
    ) -> dict[str, str]:
        t = self.tables
        name = self.name(facts, noise)
        born = birth_date or facts.birth_date
        precision = facts.precision
        date_text = born.isoformat() if precision == DatePrecision.DAY else ""
        if precision == DatePrecision.DAY:
            if self.happens("year_only"):
                date_text, precision = "", DatePrecision.YEAR.value
                noise.append("year_only")
            elif born.day <= 12 and born.day != born.month and self.happens("day_month_swap"):
                date_text = dt.date(born.year, born.day, born.month).isoformat()
                noise.append("day_month_swap")
        sex = facts.sex
        if self.happens("sex_missing"):
            sex = ""
            noise.append("sex_missing")
        phone = facts.phone if phone is None else phone
        if phone and self.happens("phone_missing"):
            phone = ""
            noise.append("phone_missing")
        elif phone and self.happens("phone_typo"):
            phone = self._digit_typo(phone, 3)
            noise.append("phone_typo")
        citizen_id = ""
        bhxh = ""
        if ids:
            if facts.citizen_id and self.happens("citizen_id_present"):
                citizen_id = facts.citizen_id
                if self.happens("citizen_id_typo"):
                    citizen_id = self._digit_typo(citizen_id, 6)
                    noise.append("citizen_id_typo")
            else:
                noise.append("citizen_id_missing")
            if facts.social_insurance_number and self.happens("bhxh_number_present"):
                bhxh = facts.social_insurance_number
        ward = facts.ward_index if ward_index is None else ward_index
        address = facts.address
        if ward_index is None and self.happens("ward_changed"):
            others = len(t.wards.codes)
            ward = (ward + self.integer(1, others)) % others if others > 1 else ward
            noise.append("ward_changed")
        if ward != facts.ward_index:
            address = f"{t.wards.names[ward]}, {t.province_label}"
        return {
            "source_record_id": "",
            "facility_code": self.facilities[self.integer(0, len(self.facilities))]
            if self.facilities
            else "",
            "full_name": name,
            "birth_date": date_text,
            "birth_year": str(born.year),
            "birth_date_precision": str(precision),
            "sex": sex,
            "citizen_id": citizen_id,
            "social_insurance_number": bhxh,
            "phone": phone,
            "ward_code": t.wards.codes[ward],
            "address": address,
            "true_person_id": truth,
            "noise": ";".join(noise),
        }


def build_legacy_records(
    *,
    tables: Tables,
    seed: int,
    matches: Sequence[PersonFacts],
    namesakes: Sequence[PersonFacts],
    others: Sequence[PersonFacts],
) -> list[dict[str, str]]:
    """Records for `matches` (noisy copies), plus true non-matches: `namesakes` (a real
    person's name, another birth date and place) and `others` (people not in the registry)."""
    rng = np.random.default_rng([seed, 0x1E6AC7])
    noise = _Noise(tables, rng)
    records = [noise.record(facts, truth=str(facts.person_id), noise=[]) for facts in matches]
    wards = len(tables.wards.codes)
    for facts in namesakes:
        shift = noise.integer(1, 16) * (1 if rng.random() < 0.5 else -1)
        year = min(max(facts.birth_date.year + shift, 1920), tables.params.as_of.year - 1)
        born = dt.date(year, noise.integer(1, 13), noise.integer(1, 29))
        other = dataclasses.replace(facts, precision=DatePrecision.DAY.value)
        records.append(
            noise.record(
                other,
                truth="",
                noise=["non_match_namesake"],
                birth_date=born,
                ward_index=noise.integer(0, wards),
                phone="",
                ids=False,
            )
        )
    records += [
        noise.record(facts, truth="", noise=["non_match_other"], ids=False) for facts in others
    ]
    order = rng.permutation(len(records))
    shuffled = [records[i] for i in order.tolist()]
    for number, record in enumerate(shuffled, start=1):
        facility = record["facility_code"] or "HIS"
        record["source_record_id"] = f"{facility}-{number:07d}"
    return shuffled


def write_legacy_csv(path: Path, records: Sequence[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
