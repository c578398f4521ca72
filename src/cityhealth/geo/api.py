"""JSON API of geo (mounted at /api/geo): provinces and wards, for any staff member."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Schema

from cityhealth.core.access import api_principal, ensure_permission
from cityhealth.core.roles import Permission
from cityhealth.geo import selectors
from cityhealth.geo.models import Province, Ward

router = Router()


class ProvinceOut(Schema):
    code: str
    name: str
    kind: str
    ward_count: int


class WardOut(Schema):
    code: str
    name: str
    short_name: str
    kind: str
    province: str
    latitude: float | None
    longitude: float | None
    area_km2: float | None
    population: int | None

    @staticmethod
    def resolve_province(obj: Ward) -> str:
        return obj.province_id


class WardDetailOut(WardOut):
    province_name: str
    formed_from: list[str]

    @staticmethod
    def resolve_province_name(obj: Ward) -> str:
        return obj.province.name

    @staticmethod
    def resolve_formed_from(obj: Ward) -> list[str]:
        return selectors.split_formed_from(obj.formed_from)


@router.get("/provinces", response=list[ProvinceOut], summary="List provinces")
def list_provinces(request: HttpRequest, q: str = "") -> QuerySet[Province]:
    """The 34 provinces (since 01/07/2025), optionally filtered by name (diacritics ignored)."""
    ensure_permission(api_principal(request), Permission.VIEW_FACILITIES)
    return selectors.list_provinces(q=q)


@router.get("/wards", response=list[WardOut], summary="List wards")
def list_wards(request: HttpRequest, province: str | None = None, q: str = "") -> QuerySet[Ward]:
    """Wards and communes, by province code and by name or code (diacritics ignored)."""
    ensure_permission(api_principal(request), Permission.VIEW_FACILITIES)
    return selectors.list_wards(province=province, q=q)


@router.get("/wards/{code}", response=WardDetailOut, summary="Get a ward")
def get_ward(request: HttpRequest, code: str) -> Ward:
    """One ward by its 5-digit official code; 404 `ward.not_found` if there is none."""
    ensure_permission(api_principal(request), Permission.VIEW_FACILITIES)
    return selectors.get_ward(code)
