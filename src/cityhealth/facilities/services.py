"""Writes of facilities: loading the facility registry shipped in `data/facilities/`.

`load_facilities` is an idempotent upsert keyed on facility codes, and on department and service
point codes inside a facility. Running it again creates nothing; a changed source row updates its
record. It never deletes: a facility, department or room that leaves the source stays as it is
(other tables point at them); retire it in the admin with its `active` flag.

The administrative units of the province must be loaded first (`geo.services`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import models, transaction

from cityhealth.core.datafiles import data_path, read_csv
from cityhealth.core.errors import InvalidInput
from cityhealth.core.loading import LoadReport, Outcome
from cityhealth.facilities.enums import (
    DepartmentKind,
    FacilityKind,
    ListingStatus,
    ServicePointKind,
    Specialty,
)
from cityhealth.facilities.models import Department, Facility, ServicePoint
from cityhealth.geo.models import Ward
from cityhealth.geo.selectors import list_wards

M = TypeVar("M", bound=models.Model)

PROFILES_FILE = ("facilities", "profiles.json")
COMMUNE_HEALTH_STATION_PREFIX = "TYT-"

_HOSPITAL_KINDS = {
    "general": FacilityKind.GENERAL_HOSPITAL,
    "specialist": FacilityKind.SPECIALIST_HOSPITAL,
}
_EMERGENCY_KINDS = {
    "centre": FacilityKind.EMERGENCY_CENTRE,
    "station": FacilityKind.EMERGENCY_STATION,
}
_FACILITY_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,19}$")
_INSURANCE_CODE = re.compile(r"^\d{5}$")
# Where a hospital row comes from, kept on the facility (`source_note`).
_CITY_SOURCE = (
    "Department of Health hospital list (2025); insurance code from an old BHYT list, "
    "to re-verify; see data/facilities/SOURCE.md"
)
_CENTRAL_SOURCE = (
    "central hospital in the city, not under the Department of Health: name and location from "
    "OpenStreetMap (2024-09), insurance code only where a source gives one; see "
    "data/facilities/SOURCE.md"
)

# Fields of Facility that the loader owns; everything else (is_active) is left to the admin.
_FACILITY_FIELDS = (
    "insurance_code",
    "name",
    "name_en",
    "kind",
    "specialty",
    "province_id",
    "ward_id",
    "address",
    "latitude",
    "longitude",
    "location_is_approximate",
    "location_source",
    "parent_id",
    "listing_status",
    "note",
    "source_note",
    "search_text",
)
_DEPARTMENT_FIELDS = ("name", "name_en", "kind", "specialty", "position")
_SERVICE_POINT_FIELDS = ("name", "name_en", "kind", "floor", "position")


def load_facilities(*, province_code: str = "01") -> LoadReport:
    """Upsert the facilities of a province with their departments and service points.

    Hospitals (the city's own and the central ones in the city) and the 115 network come from
    the files named in `data/facilities/profiles.json`; one commune health station per ward is
    generated when the profile asks for it. Each facility gets the departments, rooms and
    counters of its template (`department_templates.json`).
    """
    profile = _profile(province_code)
    wards = {ward.code: ward for ward in list_wards(province=province_code)}
    if not wards:
        raise InvalidInput(
            "facilities.units_not_loaded",
            vi="Chưa nạp đơn vị hành chính của tỉnh/thành phố này; hãy nạp trước.",
            en="The administrative units of this province are not loaded yet; load them first.",
            field="province_code",
        )
    templates = _read_templates(str(profile.get("templates", "department_templates.json")))

    specs: list[FacilitySpec] = []
    if profile.get("hospitals"):
        specs += [
            _hospital_spec(row, province_code, wards)
            for row in read_csv("facilities", str(profile["hospitals"]))
        ]
    if profile.get("central_hospitals"):
        specs += [
            _hospital_spec(row, province_code, wards, central=True)
            for row in read_csv("facilities", str(profile["central_hospitals"]))
        ]
    if profile.get("emergency"):
        specs += [
            _emergency_spec(row, province_code, wards)
            for row in read_csv("facilities", str(profile["emergency"]))
        ]
    if profile.get("commune_health_stations"):
        specs += [_commune_health_station_spec(ward) for ward in wards.values()]
    _check_unique_codes(specs)
    for spec in specs:
        spec.template = templates.resolve(spec)

    report = LoadReport()
    with transaction.atomic():
        facility_ids = _upsert_facilities(specs, report)
        _upsert_departments(specs, facility_ids, templates, report)
    return report


# --- source rows -------------------------------------------------------------------------------


@dataclass
class FacilitySpec:
    """What the source says one facility should be, before it is written."""

    code: str
    values: dict[str, Any]
    parent_code: str = ""
    template_name: str = ""
    # The kind whose templates fit when the facility's own kind has none: a central hospital
    # is laid out like the general or specialist hospital it is.
    layout_kind: str = ""
    template: tuple[DepartmentSpec, ...] = ()


def _profile(province_code: str) -> dict[str, Any]:
    with data_path(*PROFILES_FILE).open(encoding="utf-8") as handle:
        profiles: dict[str, Any] = json.load(handle).get("profiles", {})
    profile = profiles.get(province_code)
    if not isinstance(profile, dict):
        raise InvalidInput(
            "facilities.no_profile",
            vi=f"Chưa có dữ liệu cơ sở y tế cho tỉnh/thành phố mã {province_code}.",
            en=f"No facility data is shipped for province {province_code}.",
            field="province_code",
        )
    return profile


def _bad_row(source: str, row: dict[str, str], problem: str) -> InvalidInput:
    return InvalidInput(
        "facilities.bad_source_row",
        vi=f"Dòng dữ liệu sai trong {source}: {problem}.",
        en=f"Bad row in {source}: {problem}.",
        row=row,
    )


def _choice(value: str, allowed: Iterable[str], source: str, row: dict[str, str]) -> str:
    options = list(allowed)
    if value not in options:
        raise _bad_row(source, row, f"{value!r} is not one of {', '.join(options)}")
    return value


def _location(row: dict[str, str], source: str, wards: dict[str, Ward]) -> dict[str, Any]:
    ward_code = row.get("ward_code", "")
    if ward_code and ward_code not in wards:
        raise _bad_row(source, row, f"ward {ward_code} is not a ward of this province")
    try:
        latitude = float(row["latitude"]) if row.get("latitude") else None
        longitude = float(row["longitude"]) if row.get("longitude") else None
    except ValueError as exc:
        raise _bad_row(source, row, "coordinates are not numbers") from exc
    if (latitude is None) != (longitude is None):
        raise _bad_row(source, row, "give both latitude and longitude or neither")
    if latitude is not None and not row.get("location_source"):
        raise _bad_row(source, row, "coordinates need a location_source")
    return {
        "ward_id": ward_code or None,
        "latitude": latitude,
        "longitude": longitude,
        "location_source": row.get("location_source", "") if latitude is not None else "",
    }


def _common(row: dict[str, str], source: str, province_code: str) -> dict[str, Any]:
    code = row["code"]
    if not _FACILITY_CODE.match(code) or not row.get("name"):
        raise _bad_row(source, row, "code must be 2-20 of A-Z, 0-9 and '-', and name given")
    insurance_code = row.get("insurance_code", "")
    if insurance_code and not _INSURANCE_CODE.match(insurance_code):
        raise _bad_row(source, row, "insurance_code must be 5 digits")
    return {
        "insurance_code": insurance_code,
        "name": row["name"],
        "name_en": row.get("name_en", ""),
        "province_id": province_code,
        "address": row.get("address", ""),
    }


def _hospital_spec(
    row: dict[str, str], province_code: str, wards: dict[str, Ward], *, central: bool = False
) -> FacilitySpec:
    """A hospital row. The city's hospitals are general or specialist by their `kind`; a central
    (ministry-run) hospital is of its own kind, and its row's `kind` only picks its layout."""
    source = "central hospitals file" if central else "hospitals file"
    layout_kind = _HOSPITAL_KINDS.get(row.get("kind", ""))
    if layout_kind is None:
        raise _bad_row(source, row, "kind must be general or specialist")
    kind = FacilityKind.CENTRAL_HOSPITAL if central else layout_kind
    specialty = row.get("specialty", "")
    if specialty:
        _choice(specialty, Specialty.values, source, row)
    status = _choice(row.get("status", ""), ListingStatus.values, source, row)
    notes = [row.get("note", "")]
    if row.get("other_insurance_codes"):
        notes.append(f"other insurance codes in the old list: {row['other_insurance_codes']}")
    if row.get("renamed_2025"):
        notes.append(row["renamed_2025"])
    location = _location(row, source, wards)
    values = {
        **_common(row, source, province_code),
        **location,
        "kind": kind,
        "specialty": specialty,
        # A mapped hospital's point is where OSM draws it; never a guess.
        "location_is_approximate": False,
        "listing_status": status,
        "note": "; ".join(note for note in notes if note),
        "source_note": _CENTRAL_SOURCE if central else _CITY_SOURCE,
    }
    return FacilitySpec(
        code=row["code"],
        values=values,
        template_name=row.get("template", ""),
        layout_kind=layout_kind,
    )


def _emergency_spec(
    row: dict[str, str], province_code: str, wards: dict[str, Ward]
) -> FacilitySpec:
    source = "emergency file"
    kind = _EMERGENCY_KINDS.get(row.get("kind", ""))
    if kind is None:
        raise _bad_row(source, row, "kind must be centre or station")
    approximate = _choice(row.get("location_is_approximate", "no"), ["yes", "no"], source, row)
    facts = [
        ("area before 2025", row.get("area_pre2025_district", "")),
        ("host facility", row.get("host_facility_code", "")),
        ("opened", row.get("opened", "")),
        ("staff", row.get("staff", "")),
        ("ambulances on duty", row.get("ambulances_on_duty", "")),
        ("status", row.get("status", "")),
    ]
    values = {
        **_common(row, source, province_code),
        **_location(row, source, wards),
        "kind": kind,
        "specialty": "",
        "location_is_approximate": approximate == "yes",
        "listing_status": ListingStatus.LISTED,
        "note": "; ".join(f"{label}: {value}" for label, value in facts if value),
        "source_note": row.get("source", "")[:300],
    }
    return FacilitySpec(
        code=row["code"],
        values=values,
        parent_code=row.get("parent_code", ""),
        template_name=row.get("template", ""),
    )


def _commune_health_station_spec(ward: Ward) -> FacilitySpec:
    """The health station of a ward. No official code is known: the code is TYT-<ward code>."""
    kind_en = {"phường": "Ward", "xã": "Commune", "đặc khu": "Special Zone"}.get(ward.kind, "")
    values = {
        "insurance_code": "",
        "name": f"Trạm Y tế {ward.kind} {ward.short_name}",
        "name_en": f"{ward.short_name} {kind_en} Health Station".replace("  ", " "),
        "kind": FacilityKind.COMMUNE_HEALTH_STATION,
        "specialty": "",
        "province_id": ward.province_id,
        "ward_id": ward.code,
        "address": "",
        "latitude": ward.latitude,
        "longitude": ward.longitude,
        "location_is_approximate": ward.latitude is not None,
        "location_source": f"centroid of {ward.name}" if ward.latitude is not None else "",
        "listing_status": ListingStatus.GENERATED,
        "note": "",
        "source_note": "generated: one station per ward; internal code, no official code known",
    }
    return FacilitySpec(code=f"{COMMUNE_HEALTH_STATION_PREFIX}{ward.code}", values=values)


def _check_unique_codes(specs: list[FacilitySpec]) -> None:
    seen: set[str] = set()
    for spec in specs:
        if spec.code in seen:
            raise InvalidInput(
                "facilities.duplicate_code",
                vi=f"Mã cơ sở {spec.code} xuất hiện hai lần trong dữ liệu nguồn.",
                en=f"Facility code {spec.code} appears twice in the source data.",
            )
        seen.add(spec.code)


# --- department templates ----------------------------------------------------------------------


@dataclass(frozen=True)
class ServicePointSpec:
    code: str
    kind: str
    name: str
    name_en: str
    floor: int
    position: int


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    kind: str
    specialty: str
    name: str
    name_en: str
    position: int
    points: tuple[ServicePointSpec, ...]


@dataclass
class Templates:
    departments: dict[str, dict[str, Any]]
    layouts: dict[str, list[str]]
    _built: dict[str, tuple[DepartmentSpec, ...]] = field(default_factory=dict)

    def resolve(self, spec: FacilitySpec) -> tuple[DepartmentSpec, ...]:
        """The departments of a facility: its named template, else kind:specialty, else kind,
        trying its own kind first and then its layout kind."""
        specialty = spec.values["specialty"]
        candidates = [spec.template_name] if spec.template_name else []
        for kind in dict.fromkeys(str(k) for k in (spec.values["kind"], spec.layout_kind) if k):
            candidates += [f"{kind}:{specialty}", kind]
        for name in candidates:
            if name in self.layouts:
                if name not in self._built:
                    self._built[name] = self._build(name)
                return self._built[name]
        raise _bad_template(f"no template for facility {spec.code} (tried {', '.join(candidates)})")

    def _build(self, name: str) -> tuple[DepartmentSpec, ...]:
        built: list[DepartmentSpec] = []
        for position, code in enumerate(self.layouts[name], start=1):
            definition = self.departments.get(code)
            if definition is None:
                raise _bad_template(f"template {name} names unknown department {code}")
            built.append(_department_spec(code, position, definition))
        return tuple(built)


def _bad_template(problem: str) -> InvalidInput:
    return InvalidInput(
        "facilities.bad_template",
        vi=f"Mẫu khoa phòng sai: {problem}.",
        en=f"Bad department template: {problem}.",
    )


def _department_spec(code: str, position: int, definition: dict[str, Any]) -> DepartmentSpec:
    kind = str(definition.get("kind", ""))
    specialty = str(definition.get("specialty", ""))
    if kind not in DepartmentKind.values:
        raise _bad_template(f"department {code} has unknown kind {kind!r}")
    if specialty and specialty not in Specialty.values:
        raise _bad_template(f"department {code} has unknown specialty {specialty!r}")
    default_floor = int(definition.get("floor", 1))
    points: list[ServicePointSpec] = []
    for point in definition.get("points", []):
        point_kind = str(point.get("kind", ""))
        if point_kind not in ServicePointKind.values:
            raise _bad_template(f"a point of {code} has unknown kind {point_kind!r}")
        floor = int(point.get("floor", default_floor))
        count = int(point.get("count", 0))
        numbered = range(1, count + 1) if count else [0]
        for n in numbered:
            points.append(
                ServicePointSpec(
                    code=f"{point['code']}{n:02d}" if n else str(point["code"]),
                    kind=point_kind,
                    name=f"{point['name']} {n}" if n else str(point["name"]),
                    name_en=f"{point['name_en']} {n}" if n else str(point.get("name_en", "")),
                    floor=floor,
                    position=len(points) + 1,
                )
            )
    codes = [p.code for p in points]
    if len(set(codes)) != len(codes):
        raise _bad_template(f"department {code} repeats a service point code")
    return DepartmentSpec(
        code=code,
        kind=kind,
        specialty=specialty,
        name=str(definition["name"]),
        name_en=str(definition.get("name_en", "")),
        position=position,
        points=tuple(points),
    )


def _read_templates(filename: str) -> Templates:
    with data_path("facilities", filename).open(encoding="utf-8") as handle:
        raw = json.load(handle)
    return Templates(departments=raw["departments"], layouts=raw["templates"])


# --- writing -----------------------------------------------------------------------------------


def _upsert_facilities(specs: list[FacilitySpec], report: LoadReport) -> dict[str, int]:
    """Write facilities, parents before children; return the id of every facility by code."""
    codes = {s.code for s in specs} | {s.parent_code for s in specs if s.parent_code}
    ids: dict[str, int] = dict(Facility.objects.filter(code__in=codes).values_list("code", "id"))
    remaining = list(specs)
    while remaining:
        ready = [s for s in remaining if not s.parent_code or s.parent_code in ids]
        if not ready:
            missing = sorted({s.parent_code for s in remaining})
            raise InvalidInput(
                "facilities.unknown_parent",
                vi=f"Không tìm thấy cơ sở cấp trên: {', '.join(missing)}.",
                en=f"Parent facilities not found: {', '.join(missing)}.",
            )
        _write_facility_batch(ready, ids, report)
        written = {s.code for s in ready}
        remaining = [s for s in remaining if s.code not in written]
    return ids


def _write_facility_batch(
    batch: list[FacilitySpec], ids: dict[str, int], report: LoadReport
) -> None:
    """Upsert facilities whose parents (if any) are in `ids`; add their own ids to it."""
    candidates: list[Facility] = []
    for spec in batch:
        candidate = Facility(
            code=spec.code,
            parent_id=ids[spec.parent_code] if spec.parent_code else None,
            **spec.values,
        )
        candidate.search_text = candidate.build_search_text()
        candidates.append(candidate)
    existing = Facility.objects.in_bulk([c.code for c in candidates], field_name="code")
    _sync(
        Facility,
        candidates,
        existing=existing,
        key=lambda f: f.code,
        fields=_FACILITY_FIELDS,
        kind="facilities",
        report=report,
    )
    ids.update(
        Facility.objects.filter(code__in=[c.code for c in candidates]).values_list("code", "id")
    )


def _upsert_departments(
    specs: list[FacilitySpec],
    facility_ids: dict[str, int],
    templates: Templates,
    report: LoadReport,
) -> None:
    ids = [facility_ids[s.code] for s in specs]
    existing_departments = {
        (d.facility_id, d.code): d for d in Department.objects.filter(facility_id__in=ids)
    }
    wanted: list[Department] = []
    for spec in specs:
        facility_id = facility_ids[spec.code]
        for department in spec.template:
            wanted.append(
                Department(
                    facility_id=facility_id,
                    code=department.code,
                    name=department.name,
                    name_en=department.name_en,
                    kind=department.kind,
                    specialty=department.specialty,
                    position=department.position,
                )
            )
    _sync(
        Department,
        wanted,
        existing=existing_departments,
        key=lambda d: (d.facility_id, d.code),
        fields=_DEPARTMENT_FIELDS,
        kind="departments",
        report=report,
    )

    department_ids = {
        (facility_id, code): pk
        for pk, facility_id, code in Department.objects.filter(facility_id__in=ids).values_list(
            "id", "facility_id", "code"
        )
    }
    existing_points = {
        (p.department_id, p.code): p
        for p in ServicePoint.objects.filter(department__facility_id__in=ids)
    }
    points: list[ServicePoint] = []
    for spec in specs:
        facility_id = facility_ids[spec.code]
        for department in spec.template:
            department_id = department_ids[(facility_id, department.code)]
            points.extend(
                ServicePoint(
                    department_id=department_id,
                    code=point.code,
                    name=point.name,
                    name_en=point.name_en,
                    kind=point.kind,
                    floor=point.floor,
                    position=point.position,
                )
                for point in department.points
            )
    _sync(
        ServicePoint,
        points,
        existing=existing_points,
        key=lambda p: (p.department_id, p.code),
        fields=_SERVICE_POINT_FIELDS,
        kind="service_points",
        report=report,
    )


def _sync(
    model: type[M],
    candidates: list[M],
    *,
    existing: dict[Any, M],
    key: Callable[[M], Hashable],
    fields: Iterable[str],
    kind: str,
    report: LoadReport,
) -> None:
    """Create candidates that do not exist; copy loader-owned fields onto those that differ."""
    owned = list(fields)
    to_create: list[M] = []
    to_update: list[M] = []
    changed: set[str] = set()
    for candidate in candidates:
        current = existing.get(key(candidate))
        if current is None:
            to_create.append(candidate)
            report.add(kind, Outcome.CREATED)
            continue
        differing = [f for f in owned if getattr(current, f) != getattr(candidate, f)]
        if not differing:
            report.add(kind, Outcome.UNCHANGED)
            continue
        for attname in differing:
            setattr(current, attname, getattr(candidate, attname))
        to_update.append(current)
        changed.update(differing)
        report.add(kind, Outcome.UPDATED)
    if to_create:
        model._default_manager.bulk_create(to_create, batch_size=500)
    if to_update:
        model._default_manager.bulk_update(to_update, sorted(changed), batch_size=500)
