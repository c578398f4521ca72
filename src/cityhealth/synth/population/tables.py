"""The distributions the generator draws from, read once per run.

Names, ages, insurance groups, provinces of registration and phone prefixes come from
`data/synth/` (see its SOURCE.md); wards and hospitals from the database, through the geo and
facilities selectors, so that the population lives in the wards that are loaded.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cityhealth.core.datafiles import read_csv
from cityhealth.core.identifiers import bhyt_groups, former_provinces
from cityhealth.core.names import name_key
from cityhealth.facilities.enums import FacilityKind
from cityhealth.facilities.selectors import list_facilities
from cityhealth.geo.selectors import list_wards
from cityhealth.synth.population.params import Parameters

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MALE, FEMALE = 0, 1
_SEX_CODES = {"any": -1, "male": MALE, "female": FEMALE}
_FORBIDDEN = ("\t", "\n", "\r", "\\")  # would need escaping in COPY text; none are expected


class PopulationDataError(ValueError):
    """The shipped distributions or the loaded reference data cannot make a population."""


@dataclass(frozen=True)
class Categorical:
    """A finite distribution over `items` (indices into some table), sampled from uniforms."""

    items: IntArray
    cdf: FloatArray

    @classmethod
    def of(cls, items: list[int], weights: list[float]) -> Categorical:
        w = np.asarray(weights, dtype=np.float64)
        if len(items) == 0 or w.min() < 0 or w.sum() <= 0:
            raise PopulationDataError("a distribution needs positive weights")
        cdf = np.cumsum(w / w.sum())
        cdf[-1] = 1.0
        return cls(items=np.asarray(items, dtype=np.int64), cdf=cdf)

    def pick(self, u: FloatArray) -> IntArray:
        """The item for each uniform in [0, 1)."""
        return self.items[np.searchsorted(self.cdf, u, side="right")]


@dataclass(frozen=True)
class Tokens:
    """Every name word (family, middle, given) once, with its search key.

    Index `len(words)` is the empty word, so an absent middle name is just that index.
    """

    words: tuple[str, ...]
    spaced: npt.NDArray[np.object_]  # " " + word; "" for the empty word
    bare: npt.NDArray[np.object_]  # word; "" for the empty word
    spaced_keys: npt.NDArray[np.object_]
    bare_keys: npt.NDArray[np.object_]

    @property
    def empty(self) -> int:
        return len(self.words)


@dataclass(frozen=True)
class NameTables:
    tokens: Tokens
    surnames: Categorical
    surname_index: dict[str, int]  # word → token index
    marker: tuple[int, int]  # token of "Văn" (male) and "Thị" (female)
    middles: tuple[Categorical, Categorical]  # other middle names, by sex
    given_old: tuple[Categorical, Categorical]
    given_young: tuple[Categorical, Categorical]
    cohort_years: FloatArray
    marker_share: tuple[FloatArray, FloatArray]  # P(Văn | man), P(Thị | woman) by cohort
    two_token_share: FloatArray
    four_token_share: FloatArray


@dataclass(frozen=True)
class AgeTable:
    age_from: IntArray
    age_to: IntArray
    bands: Categorical
    male_share: FloatArray
    elsewhere_share: FloatArray  # ID registered in another province
    year_only_share: FloatArray


@dataclass(frozen=True)
class InsuranceBand:
    sex: int  # -1 any
    age_from: int
    age_to: int
    groups: Categorical  # over indices into InsuranceTables.groups; -1 = uninsured


@dataclass(frozen=True)
class InsuranceTables:
    groups: tuple[str, ...]
    levels: IntArray
    bands: tuple[InsuranceBand, ...]
    validity_rule: IntArray  # per group: index into VALIDITY_RULES


VALIDITY_RULES = ("employment", "child_until_six", "calendar_year", "twelve_months", "five_years")


@dataclass(frozen=True)
class ProvinceTables:
    id_codes: tuple[str, ...]  # the 63 former provinces, as they open an ID number
    local: int  # index of the city's own code (001 for Hà Nội)
    origins: Categorical  # where the others were registered
    old_id_prefix: tuple[str, ...]  # 2-digit prefix of a 9-digit ID card issued there
    bhxh_prefix: tuple[str, ...]  # 2-digit province code (2025 NSO code of the old province)


@dataclass(frozen=True)
class WardTables:
    codes: tuple[str, ...]
    names: tuple[str, ...]
    urban: npt.NDArray[np.bool_]
    pick: Categorical
    primary_care: npt.NDArray[np.object_]  # (wards, k) facility codes, nearest first
    primary_care_weights: Categorical


@dataclass(frozen=True)
class Tables:
    params: Parameters
    province_code: str
    province_label: str  # as written at the end of an address: "Hà Nội"
    names: NameTables
    ages: AgeTable
    insurance: InsuranceTables
    provinces: ProvinceTables
    wards: WardTables
    phone_prefixes: tuple[str, ...]
    phones: Categorical


def _clean(word: str, source: str) -> str:
    word = word.strip()
    if not word or " " in word or any(ch in word for ch in _FORBIDDEN):
        raise PopulationDataError(f"{source}: bad name word {word!r}")
    return word


class _TokenBuilder:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def add(self, word: str) -> int:
        return self.index.setdefault(word, len(self.index))

    def build(self) -> Tokens:
        words = tuple(self.index)
        keys = [name_key(w) for w in words]
        return Tokens(
            words=words,
            spaced=np.array([" " + w for w in words] + [""], dtype=object),
            bare=np.array([*words, ""], dtype=object),
            spaced_keys=np.array([" " + k for k in keys] + [""], dtype=object),
            bare_keys=np.array([*keys, ""], dtype=object),
        )


def _name_tables(params: Parameters, nguyen_share: float) -> NameTables:
    if not 0.0 < nguyen_share < 1.0:
        raise PopulationDataError("the share of Nguyễn must be between 0 and 1")
    builder = _TokenBuilder()
    surname_rows = read_csv("synth", "surnames.csv")
    surname_items = [_clean(row["surname"], "surnames.csv") for row in surname_rows]
    percents = [float(row["percent"]) for row in surname_rows]
    if "Nguyễn" not in surname_items:
        raise PopulationDataError("surnames.csv has no Nguyễn")
    others = sum(p for s, p in zip(surname_items, percents, strict=True) if s != "Nguyễn")
    weights = [
        nguyen_share if s == "Nguyễn" else p / others * (1.0 - nguyen_share)
        for s, p in zip(surname_items, percents, strict=True)
    ]
    surname_tokens = [builder.add(s) for s in surname_items]

    marker = [-1, -1]
    middle_items: list[list[int]] = [[], []]
    middle_weights: list[list[float]] = [[], []]
    for row in read_csv("synth", "middle_names.csv"):
        sex = _SEX_CODES[row["sex"]]
        token = builder.add(_clean(row["name"], "middle_names.csv"))
        if row["role"] == "marker":
            marker[sex] = token
        else:
            middle_items[sex].append(token)
            middle_weights[sex].append(float(row["weight"]))
    if min(marker) < 0:
        raise PopulationDataError("middle_names.csv needs one marker name per sex")

    given: dict[tuple[int, str], tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
    for row in read_csv("synth", "given_names.csv"):
        sex = _SEX_CODES[row["sex"]]
        token = builder.add(_clean(row["name"], "given_names.csv"))
        for era in ("older", "younger"):
            items, ws = given[(sex, era)]
            items.append(token)
            ws.append(float(row[f"weight_{era}"]))

    cohorts = read_csv("synth", "name_cohorts.csv")
    column = {
        name: np.array([float(row[name]) for row in cohorts])
        for name in (
            "birth_year",
            "van_share_of_men",
            "thi_share_of_women",
            "two_token_share",
            "four_token_share",
        )
    }
    return NameTables(
        tokens=builder.build(),
        surnames=Categorical.of(surname_tokens, weights),
        surname_index=dict(zip(surname_items, surname_tokens, strict=True)),
        marker=(marker[MALE], marker[FEMALE]),
        middles=(
            Categorical.of(middle_items[MALE], middle_weights[MALE]),
            Categorical.of(middle_items[FEMALE], middle_weights[FEMALE]),
        ),
        given_old=(
            Categorical.of(*given[(MALE, "older")]),
            Categorical.of(*given[(FEMALE, "older")]),
        ),
        given_young=(
            Categorical.of(*given[(MALE, "younger")]),
            Categorical.of(*given[(FEMALE, "younger")]),
        ),
        cohort_years=column["birth_year"],
        marker_share=(column["van_share_of_men"], column["thi_share_of_women"]),
        two_token_share=column["two_token_share"],
        four_token_share=column["four_token_share"],
    )


def _age_table() -> AgeTable:
    rows = read_csv("synth", "age_sex.csv")
    age_from = np.array([int(r["age_from"]) for r in rows], dtype=np.int64)
    age_to = np.array([int(r["age_to"]) for r in rows], dtype=np.int64)
    if np.any(age_to < age_from) or np.any(age_from[1:] != age_to[:-1] + 1) or age_from[0] != 0:
        raise PopulationDataError("age_sex.csv: bands must be consecutive from age 0")
    return AgeTable(
        age_from=age_from,
        age_to=age_to,
        bands=Categorical.of(list(range(len(rows))), [float(r["percent"]) for r in rows]),
        male_share=np.array([float(r["male_share"]) for r in rows]),
        elsewhere_share=np.array([float(r["registered_elsewhere_share"]) for r in rows]),
        year_only_share=np.array([float(r["year_only_share"]) for r in rows]),
    )


def _insurance_tables(params: Parameters) -> InsuranceTables:
    known = bhyt_groups()
    rows = read_csv("synth", "bhyt_by_age.csv")
    groups: list[str] = []
    for row in rows:
        if row["group"] not in known:
            raise PopulationDataError(f"bhyt_by_age.csv: unknown group {row['group']}")
        if row["group"] not in groups:
            groups.append(row["group"])
    by_band: dict[tuple[int, int, int], tuple[list[int], list[float]]] = {}
    for row in rows:
        key = (_SEX_CODES[row["sex"]], int(row["age_from"]), int(row["age_to"]))
        items, weights = by_band.setdefault(key, ([], []))
        items.append(groups.index(row["group"]))
        weights.append(float(row["percent"]) / 100.0)
    bands = []
    for (sex, lo, hi), (items, weights) in by_band.items():
        insured = sum(weights)
        if insured > 1.0 + 1e-9:
            raise PopulationDataError(f"bhyt_by_age.csv: ages {lo}-{hi} add up to over 100%")
        bands.append(
            InsuranceBand(
                sex=sex,
                age_from=lo,
                age_to=hi,
                groups=Categorical.of([*items, -1], [*weights, max(0.0, 1.0 - insured)]),
            )
        )
    rule_of = {
        group: VALIDITY_RULES.index(rule)
        for rule, members in params.insurance.validity.items()
        for group in members
    }
    return InsuranceTables(
        groups=tuple(groups),
        levels=np.array([known[g].level for g in groups], dtype=np.int64),
        bands=tuple(bands),
        validity_rule=np.array([rule_of.get(g, 0) for g in groups], dtype=np.int64),
    )


def _province_tables(province_code: str) -> ProvinceTables:
    provinces = former_provinces()
    rows = read_csv("synth", "registration_provinces.csv")
    id_codes = tuple(row["id_code"] for row in rows)
    if set(id_codes) != set(provinces):
        raise PopulationDataError("registration_provinces.csv must list the 63 former provinces")
    locals_ = [c for c in id_codes if provinces[c].province_code_2025 == province_code]
    if not locals_:
        raise PopulationDataError(f"no former province belongs to province {province_code}")
    local_code = f"0{province_code}" if f"0{province_code}" in locals_ else locals_[0]
    local = id_codes.index(local_code)
    weights = [0.0 if i == local else float(row["weight"]) for i, row in enumerate(rows)]
    return ProvinceTables(
        id_codes=id_codes,
        local=local,
        origins=Categorical.of(list(range(len(rows))), weights),
        old_id_prefix=tuple(row["old_id_prefix"] for row in rows),
        bhxh_prefix=tuple(code[1:] for code in id_codes),
    )


def _ward_tables(params: Parameters, province_code: str) -> WardTables:
    wards = list(list_wards(province=province_code))
    if not wards:
        raise PopulationDataError(
            f"no wards of province {province_code} are loaded: run `cityhealth seed_demo` first"
        )
    known = [w.population for w in wards if w.population]
    fallback = float(sum(known) / len(known)) if known else 1.0
    hospitals = [
        f
        for f in list_facilities(kind=FacilityKind.GENERAL_HOSPITAL, province=province_code)
        if f.insurance_code and f.latitude is not None and f.longitude is not None
    ]
    k = min(len(params.insurance.primary_care_nearest_weights), len(hospitals))
    nearest = np.full((len(wards), max(k, 1)), "", dtype=object)
    if k:
        for i, ward in enumerate(wards):
            lat = ward.latitude if ward.latitude is not None else hospitals[0].latitude
            lon = ward.longitude if ward.longitude is not None else hospitals[0].longitude
            assert lat is not None
            assert lon is not None
            scale = math.cos(math.radians(lat))
            ranked = sorted(
                hospitals,
                key=lambda f: (
                    (float(f.latitude or 0.0) - lat) ** 2
                    + ((float(f.longitude or 0.0) - lon) * scale) ** 2,
                    f.insurance_code,
                ),
            )
            nearest[i, :k] = [f.insurance_code for f in ranked[:k]]
    weights = list(params.insurance.primary_care_nearest_weights[: max(k, 1)])
    return WardTables(
        codes=tuple(w.code for w in wards),
        names=tuple(w.name for w in wards),
        urban=np.array([w.kind == "phường" for w in wards]),
        pick=Categorical.of(
            list(range(len(wards))), [float(w.population or fallback) for w in wards]
        ),
        primary_care=nearest,
        primary_care_weights=Categorical.of(list(range(len(weights))), weights),
    )


def load_tables(
    params: Parameters, *, province_code: str = "01", nguyen_share: float | None = None
) -> Tables:
    provinces = _province_tables(province_code)
    rows = read_csv("synth", "phone_prefixes.csv")
    per_carrier: dict[str, int] = defaultdict(int)
    for row in rows:
        per_carrier[row["carrier"]] += 1
    return Tables(
        params=params,
        province_code=province_code,
        province_label=former_provinces()[provinces.id_codes[provinces.local]].name,
        names=_name_tables(params, params.nguyen_share if nguyen_share is None else nguyen_share),
        ages=_age_table(),
        insurance=_insurance_tables(params),
        provinces=provinces,
        wards=_ward_tables(params, province_code),
        phone_prefixes=tuple(row["prefix"] for row in rows),
        phones=Categorical.of(
            list(range(len(rows))),
            [float(row["carrier_share"]) / per_carrier[row["carrier"]] for row in rows],
        ),
    )
