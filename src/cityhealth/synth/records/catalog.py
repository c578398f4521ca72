"""What the records generator draws from: `data/synth/records.json` (rates, prevalences,
schedules), `record_codes.csv` (ICD-10, LOINC, ATC and SNOMED CT codes with Vietnamese and
English displays) and `who_growth.csv` (WHO Child Growth Standards at selected ages).
Sources and markers: `data/synth/SOURCE.md`, section "Clinical records"."""

from __future__ import annotations

import bisect
import datetime as dt
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from cityhealth.core.datafiles import data_path, read_csv

SYSTEMS = {
    "icd10": "http://hl7.org/fhir/sid/icd-10",
    "loinc": "http://loinc.org",
    "atc": "http://www.whocc.no/atc",
    "snomed": "http://snomed.info/sct",
}
CVX = "http://hl7.org/fhir/sid/cvx"
# The programme's own vaccine names (no national code system is published for them).
TCMR_VACCINE = "urn:cityhealth:cs:tcmr-vaccine"


@dataclass(frozen=True)
class Code:
    system: str  # a URI of SYSTEMS
    code: str
    vi: str
    en: str
    unit: str = ""  # UCUM, for LOINC quantities
    extra: str = ""  # vital-sign profile, allergy category, dosage text


@dataclass(frozen=True)
class Vaccine:
    code: str
    cvx: str
    display: str
    doses: tuple[int, ...]  # age in days at each dose
    coverage: float
    at_hospital: bool
    applies_from: dt.date | None  # children born before this date were not offered it


@dataclass(frozen=True)
class GrowthPoint:
    month: int
    weight: float
    weight_cv: float
    length: float
    length_cv: float
    head: float
    head_cv: float


Bands = tuple[tuple[float, float, float], ...]  # (from age, male value, female value)


def by_age(bands: Bands, age: float, sex: str) -> float:
    """The value of the band `age` falls in (0 below the first band)."""
    index = bisect.bisect_right([b[0] for b in bands], age) - 1
    if index < 0:
        return 0.0
    return bands[index][2] if sex == "female" else bands[index][1]


def band_of(age: float) -> int:
    """The index of the age band of the acute diagnosis weights: 0–4, 5–14, 15–44, 45–64, 65+."""
    return bisect.bisect_right((5, 15, 45, 65), age)


def bands(rows: list[list[float]]) -> Bands:
    return tuple((float(r[0]), float(r[1]), float(r[2])) for r in rows)


@dataclass(frozen=True)
class Chronic:
    code: str
    prevalence: Bands
    follow_up_days: int
    station_share: float
    onset_years_before: float
    medications: tuple[str, ...]
    labs: dict[str, float]  # LOINC → times a year
    ecg_yearly: float


@dataclass(frozen=True)
class Catalog:
    as_of: dt.date
    default_years: int
    raw: dict[str, Any]
    codes: dict[str, Code]
    chronic: tuple[Chronic, ...]
    vaccines: tuple[Vaccine, ...]
    growth: dict[str, tuple[GrowthPoint, ...]]  # sex → points by month
    visit_rates: dict[str, Bands]  # ambulatory / emergency / inpatient

    def code(self, code: str) -> Code:
        return self.codes[code]


@cache
def load_catalog() -> Catalog:
    raw: dict[str, Any] = json.loads(data_path("synth", "records.json").read_text("utf-8"))
    codes: dict[str, Code] = {}
    for row in read_csv("synth", "record_codes.csv"):
        if row["code"] in codes:
            raise ValueError(f"record_codes.csv: {row['code']} is listed twice")
        codes[row["code"]] = Code(
            system=SYSTEMS[row["system"]],
            code=row["code"],
            vi=row["display_vi"],
            en=row["display_en"],
            unit=row["unit"],
            extra=row["extra"],
        )
    chronic = tuple(
        Chronic(
            code=code,
            prevalence=bands(item["prevalence"]),
            follow_up_days=int(item["follow_up_days"]),
            station_share=float(item["station_share"]),
            onset_years_before=float(item["onset_years_before"]),
            medications=tuple(item["medications"]),
            labs={k: float(v) for k, v in item["labs"].items()},
            ecg_yearly=float(item.get("ecg_yearly", 0.0)),
        )
        for code, item in raw["chronic"].items()
        if not code.startswith("_")
    )
    vaccines = tuple(
        Vaccine(
            code=item["code"],
            cvx=item["cvx"],
            display=item["display"],
            doses=tuple(int(d) for d in item["doses"]),
            coverage=float(item["coverage"]),
            at_hospital=item.get("at") == "hospital",
            applies_from=dt.date.fromisoformat(item["from"]) if "from" in item else None,
        )
        for item in raw["immunisation"]["vaccines"]
    )
    growth: dict[str, list[GrowthPoint]] = {"male": [], "female": []}
    for row in read_csv("synth", "who_growth.csv"):
        growth[row["sex"]].append(
            GrowthPoint(
                month=int(row["month"]),
                weight=float(row["weight_kg"]),
                weight_cv=float(row["weight_cv"]),
                length=float(row["length_cm"]),
                length_cv=float(row["length_cv"]),
                head=float(row["head_cm"]),
                head_cv=float(row["head_cv"]),
            )
        )
    visits = raw["visits"]
    catalog = Catalog(
        as_of=dt.date.fromisoformat(raw["as_of"]),
        default_years=int(raw["default_years"]),
        raw=raw,
        codes=codes,
        chronic=chronic,
        vaccines=vaccines,
        growth={
            sex: tuple(sorted(points, key=lambda p: p.month)) for sex, points in growth.items()
        },
        visit_rates={
            kind: bands(visits[kind]) for kind in ("ambulatory", "emergency", "inpatient")
        },
    )
    _check_references(catalog)
    return catalog


def _check_references(catalog: Catalog) -> None:
    """Every code the parameters name must be in the code list (a typo fails at load)."""
    raw = catalog.raw
    named: set[str] = set()
    for weights in _entries(raw["acute"]).values():
        named.update(_entries(weights))
    for item in catalog.chronic:
        named.update({item.code, *item.medications, *item.labs})
    for code, item in _entries(raw["episodes"]).items():
        named.update({code, item["procedure"], *item["medications"]})
    named.update(raw["allergies"]["items"])
    named.update(_entries(raw["labs"]))
    for key in ("acute_medications", "procedures"):
        for code, listed in raw[key].items():
            named.update({code, *listed})
    missing = sorted(named - set(catalog.codes))
    if missing:
        raise ValueError(f"record_codes.csv lacks codes named in records.json: {missing}")


def _entries(section: dict[str, Any]) -> dict[str, Any]:
    """A section of records.json without its comments."""
    return {k: v for k, v in section.items() if not k.startswith("_")}


def growth_at(catalog: Catalog, sex: str, months: float) -> GrowthPoint:
    """The WHO medians and coefficients of variation at `months`, linear between points."""
    points = catalog.growth["female" if sex == "female" else "male"]
    months = min(max(months, 0.0), float(points[-1].month))
    index = max(bisect.bisect_right([p.month for p in points], months) - 1, 0)
    low = points[index]
    high = points[min(index + 1, len(points) - 1)]
    if high.month == low.month:
        return low
    t = (months - low.month) / (high.month - low.month)

    def mix(a: float, b: float) -> float:
        return a + (b - a) * t

    return GrowthPoint(
        month=round(months),
        weight=mix(low.weight, high.weight),
        weight_cv=mix(low.weight_cv, high.weight_cv),
        length=mix(low.length, high.length),
        length_cv=mix(low.length_cv, high.length_cv),
        head=mix(low.head, high.head),
        head_cv=mix(low.head_cv, high.head_cv),
    )
