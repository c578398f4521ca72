"""The city's care providers as FHIR: one Organization and one Location per facility of the
registry (both with the facility's code as their id, so `Organization/BV-XANHPON` is Saint
Paul hospital), and a pool of Practitioners (with a PractitionerRole each) per facility,
`Practitioner/<facility code>-<nn>`. Everything here depends only on the registry, not on the
seed: several seeds' records share one directory.

`City` is what the records generator needs to know of the registry: where a person of a ward
goes for primary care, for an emergency, for a stay in hospital.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from cityhealth.core.datafiles import read_csv
from cityhealth.synth.records.catalog import Catalog
from cityhealth.synth.records.shapes import ref

VN_CORE_SID = "http://fhir.ehealth.gov.vn/core/sid"
PROVIDER_CODE = f"{VN_CORE_SID}/provider-code"  # the BHYT facility code (mã CSKCB)
MEDICAL_LICENCE = f"{VN_CORE_SID}/provider-medical-license-number"
# The registry's own facility code (every facility has one; not all have a BHYT code).
FACILITY_CODE = "urn:cityhealth:sid:facility"
ORGANIZATION_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
PRACTITIONER_ROLE = "http://terminology.hl7.org/CodeSystem/practitioner-role"

STATION_KIND = "commune_health_station"
HOSPITAL_KINDS = ("general_hospital", "specialist_hospital", "central_hospital")


@dataclass(frozen=True)
class FacilityInfo:
    code: str
    name: str
    name_en: str
    kind: str
    specialty: str
    insurance_code: str
    ward_code: str
    address: str
    latitude: float | None
    longitude: float | None
    parent_code: str


@dataclass(frozen=True)
class City:
    facilities: tuple[FacilityInfo, ...]
    staff: dict[str, int]  # facility code → practitioners in its pool
    station_of_ward: dict[str, str]
    hospital_of_insurance: dict[str, str]  # BHYT facility code → facility code
    general: tuple[str, ...]  # the city's general hospitals
    central: tuple[str, ...]  # the central (Ministry-run) general hospitals
    paediatric: tuple[str, ...]

    def practitioner(self, facility: str, rng: random.Random) -> str:
        return f"{facility}-{rng.randrange(self.staff[facility]):02d}"


def build_city(facilities: list[FacilityInfo], catalog: Catalog) -> City:
    pools: dict[str, int] = catalog.raw["practitioners_per_facility"]
    ordered = tuple(sorted(facilities, key=lambda f: f.code))
    general = tuple(f.code for f in ordered if f.kind == "general_hospital")
    if not general:
        raise ValueError("the facility registry has no general hospital: load it first")
    known = {f.code for f in ordered}
    return City(
        facilities=ordered,
        staff={f.code: int(pools.get(f.kind, 4)) for f in ordered},
        station_of_ward={f.ward_code: f.code for f in ordered if f.kind == STATION_KIND},
        hospital_of_insurance={
            f.insurance_code: f.code
            for f in ordered
            if f.insurance_code and f.kind in HOSPITAL_KINDS
        },
        general=general,
        central=tuple(f.code for f in ordered if f.kind == "central_hospital" and not f.specialty)
        or general,
        paediatric=tuple(c for c in catalog.raw["paediatric_hospitals"] if c in known) or general,
    )


def directory_resources(city: City) -> Iterator[dict[str, Any]]:
    """Organization, Location, and the practitioners (with their roles) of every facility."""
    names = _names()
    known = {f.code for f in city.facilities}
    for facility in city.facilities:
        yield _organization(facility, known)
        yield _location(facility)
        rng = random.Random(zlib.crc32(facility.code.encode()))  # noqa: S311 — synthetic data
        for number in range(city.staff[facility.code]):
            practitioner_id = f"{facility.code}-{number:02d}"
            doctor = number % 3 != 2  # two doctors for each nurse
            yield _practitioner(practitioner_id, rng, names, doctor=doctor)
            yield {
                "resourceType": "PractitionerRole",
                "id": practitioner_id,
                "active": True,
                "practitioner": ref("Practitioner", practitioner_id),
                "organization": ref("Organization", facility.code),
                "location": [ref("Location", facility.code)],
                "code": [
                    {
                        "coding": [
                            {
                                "system": PRACTITIONER_ROLE,
                                "code": "doctor" if doctor else "nurse",
                            }
                        ]
                    }
                ],
            }


def _organization(facility: FacilityInfo, known: set[str]) -> dict[str, Any]:
    identifiers = [{"system": FACILITY_CODE, "value": facility.code}]
    if facility.insurance_code:
        identifiers.append({"system": PROVIDER_CODE, "value": facility.insurance_code})
    body: dict[str, Any] = {
        "resourceType": "Organization",
        "id": facility.code,
        "identifier": identifiers,
        "active": True,
        "type": [
            {
                "coding": [
                    {"system": ORGANIZATION_TYPE, "code": "prov", "display": "Healthcare Provider"}
                ],
                "text": facility.kind,
            }
        ],
        "name": facility.name,
    }
    if facility.name_en:
        body["alias"] = [facility.name_en]
    if facility.address:
        body["address"] = [{"text": facility.address, "city": "Hà Nội", "country": "VN"}]
    if facility.parent_code and facility.parent_code in known:
        body["partOf"] = ref("Organization", facility.parent_code)
    return body


def _location(facility: FacilityInfo) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Location",
        "id": facility.code,
        "identifier": [{"system": FACILITY_CODE, "value": facility.code}],
        "status": "active",
        "name": facility.name,
        "mode": "instance",
        "managingOrganization": ref("Organization", facility.code),
    }
    if facility.address:
        body["address"] = {"text": facility.address, "city": "Hà Nội", "country": "VN"}
    if facility.latitude is not None and facility.longitude is not None:
        body["position"] = {"latitude": facility.latitude, "longitude": facility.longitude}
    return body


@dataclass(frozen=True)
class _Names:
    family: tuple[list[str], list[float]]
    middle: dict[str, tuple[list[str], list[float]]]
    given: dict[str, tuple[list[str], list[float]]]


@cache
def _names() -> _Names:
    """The population's name lists (data/synth), weights as for people born around 1985."""
    surnames = read_csv("synth", "surnames.csv")
    middle: dict[str, tuple[list[str], list[float]]] = {"male": ([], []), "female": ([], [])}
    for row in read_csv("synth", "middle_names.csv"):
        weight = float(row["weight"]) if row["weight"] else 40.0
        middle[row["sex"]][0].append(row["name"])
        middle[row["sex"]][1].append(weight)
    given: dict[str, tuple[list[str], list[float]]] = {"male": ([], []), "female": ([], [])}
    for row in read_csv("synth", "given_names.csv"):
        given[row["sex"]][0].append(row["name"])
        given[row["sex"]][1].append(float(row["weight_older"]) + float(row["weight_younger"]))
    return _Names(
        family=([r["surname"] for r in surnames], [float(r["percent"]) for r in surnames]),
        middle=middle,
        given=given,
    )


def _practitioner(
    logical_id: str, rng: random.Random, names: _Names, *, doctor: bool
) -> dict[str, Any]:
    sex = "female" if rng.random() < 0.55 else "male"
    family = rng.choices(*names.family)[0]
    middle = rng.choices(*names.middle[sex])[0]
    given = rng.choices(*names.given[sex])[0]
    title = "Bác sĩ" if doctor else "Điều dưỡng"
    return {
        "resourceType": "Practitioner",
        "id": logical_id,
        "identifier": [
            {"system": MEDICAL_LICENCE, "value": f"{rng.randrange(1, 10**6):06d}/HNO-CCHN"}
        ],
        "active": True,
        "name": [
            {"text": f"{family} {middle} {given}", "family": family, "given": [middle, given]}
        ],
        "gender": sex,
        "qualification": [{"code": {"text": title}}],
    }
