"""Writes of geo: loading the administrative units shipped in `data/geo/`.

The loader is an idempotent upsert keyed on the official codes: running it again creates nothing,
and a source row that changed updates its record. It never deletes a unit (other tables point at
wards); a unit that left the source stays until someone removes it on purpose.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TypeVar

from django.db import models, transaction

from cityhealth.core.datafiles import read_csv
from cityhealth.core.errors import InvalidInput
from cityhealth.core.loading import LoadReport, Outcome
from cityhealth.geo.enums import WardKind
from cityhealth.geo.models import FormerProvince, Province, Ward

M = TypeVar("M", bound=models.Model)

PROVINCES_FILE = ("geo", "provinces_2025.csv")
FORMER_PROVINCES_FILE = ("geo", "former_provinces.csv")
WARD_FILES_INDEX = ("geo", "ward_files.csv")

_PROVINCE_CODE = re.compile(r"^\d{2}$")
_FORMER_CODE = re.compile(r"^\d{3}$")
_WARD_CODE = re.compile(r"^\d{5}$")


def load_administrative_units(*, province_code: str = "01") -> LoadReport:
    """Upsert the 34 provinces, the 63 former provinces and the wards of `province_code`.

    The wards of a province come from the file named for it in `data/geo/ward_files.csv`.
    """
    report = LoadReport()
    provinces = [_province_from_row(row) for row in read_csv(*PROVINCES_FILE)]
    known = {province.code for province in provinces}
    if province_code not in known:
        raise InvalidInput(
            "geo.unknown_province",
            vi=f"Không có tỉnh/thành phố mã {province_code}.",
            en=f"There is no province with code {province_code}.",
            field="province_code",
        )
    former = [_former_from_row(row, known) for row in read_csv(*FORMER_PROVINCES_FILE)]
    wards = [
        _ward_from_row(row, province_code) for row in read_csv("geo", _ward_file_of(province_code))
    ]
    with transaction.atomic():
        _upsert(Province, provinces, kind="provinces", report=report)
        _upsert(FormerProvince, former, kind="former_provinces", report=report)
        _upsert(Ward, wards, kind="wards", report=report)
    return report


def _ward_file_of(province_code: str) -> str:
    for row in read_csv(*WARD_FILES_INDEX):
        if row["province_code"] == province_code:
            return row["file"]
    raise InvalidInput(
        "geo.no_ward_data",
        vi=f"Chưa có dữ liệu phường/xã cho tỉnh/thành phố mã {province_code}.",
        en=f"No ward data is shipped for province {province_code}.",
        field="province_code",
    )


def _bad_row(source: str, row: dict[str, str], problem: str) -> InvalidInput:
    return InvalidInput(
        "geo.bad_source_row",
        vi=f"Dòng dữ liệu sai trong {source}: {problem}.",
        en=f"Bad row in {source}: {problem}.",
        row=row,
    )


def _province_from_row(row: dict[str, str]) -> Province:
    if not _PROVINCE_CODE.match(row["code"]) or not row["name"]:
        raise _bad_row("provinces_2025.csv", row, "code must be 2 digits and name given")
    return Province(code=row["code"], name=row["name"], kind=row["kind"])


def _former_from_row(row: dict[str, str], known: set[str]) -> FormerProvince:
    if not _FORMER_CODE.match(row["id_code"]) or row["province_code"] not in known:
        raise _bad_row("former_provinces.csv", row, "3-digit code and a known province needed")
    return FormerProvince(
        id_code=row["id_code"], name=row["name"], province_id=row["province_code"]
    )


def _ward_from_row(row: dict[str, str], province_code: str) -> Ward:
    source = f"ward file of province {province_code}"
    if not _WARD_CODE.match(row["code"]) or not row["name"]:
        raise _bad_row(source, row, "code must be 5 digits and name given")
    if row["kind"] not in WardKind.values:
        raise _bad_row(source, row, f"kind must be one of {', '.join(WardKind.values)}")
    try:
        return Ward(
            code=row["code"],
            name=row["name"],
            short_name=row["short_name"] or row["name"],
            kind=row["kind"],
            province_id=province_code,
            latitude=_optional_float(row.get("latitude", "")),
            longitude=_optional_float(row.get("longitude", "")),
            area_km2=_optional_float(row.get("area_km2", "")),
            population=int(row["population"]) if row.get("population") else None,
            formed_from=row.get("formed_from", ""),
        )
    except ValueError as exc:
        raise _bad_row(source, row, "a number could not be read") from exc


def _optional_float(value: str) -> float | None:
    return float(value) if value else None


def _upsert(model: type[M], candidates: Iterable[M], *, kind: str, report: LoadReport) -> None:
    """Create missing rows, update rows whose loaded fields differ, keyed on the primary key."""
    wanted = list(candidates)
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    for candidate in wanted:
        build = getattr(candidate, "build_search_text", None)
        if build is not None:
            candidate.search_text = build()  # type: ignore[attr-defined]
    existing = model._default_manager.in_bulk([c.pk for c in wanted])
    to_create: list[M] = []
    to_update: list[M] = []
    changed_fields: set[str] = set()
    for candidate in wanted:
        current = existing.get(candidate.pk)
        if current is None:
            to_create.append(candidate)
            report.add(kind, Outcome.CREATED)
            continue
        differing = [
            f.attname
            for f in fields
            if getattr(current, f.attname) != getattr(candidate, f.attname)
        ]
        if differing:
            for attname in differing:
                setattr(current, attname, getattr(candidate, attname))
            to_update.append(current)
            changed_fields.update(differing)
            report.add(kind, Outcome.UPDATED)
        else:
            report.add(kind, Outcome.UNCHANGED)
    if to_create:
        model._default_manager.bulk_create(to_create)
    if to_update:
        model._default_manager.bulk_update(to_update, sorted(changed_fields))
