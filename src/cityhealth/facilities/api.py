"""JSON API of facilities (mounted at /api/facilities): the registry, for any staff member.

No `from __future__ import annotations` here: Django Ninja's pagination reads the query
parameter types at import time and needs them as real objects.
"""

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from cityhealth.core.access import api_principal, ensure_permission
from cityhealth.core.roles import Permission
from cityhealth.facilities import selectors
from cityhealth.facilities.enums import FacilityKind
from cityhealth.facilities.models import Department, Facility, ServicePoint

router = Router()

OSM_ATTRIBUTION = "© OpenStreetMap contributors, ODbL-1.0"


class FacilityOut(Schema):
    code: str
    insurance_code: str
    name: str
    name_en: str
    kind: FacilityKind
    specialty: str
    ward: str | None
    ward_name: str | None
    latitude: float | None
    longitude: float | None
    location_is_approximate: bool
    parent: str | None
    listing_status: str
    location_attribution: str | None

    @staticmethod
    def resolve_location_attribution(obj: Facility) -> str | None:
        return OSM_ATTRIBUTION if obj.location_from_osm else None

    @staticmethod
    def resolve_ward(obj: Facility) -> str | None:
        return obj.ward_id

    @staticmethod
    def resolve_ward_name(obj: Facility) -> str | None:
        return obj.ward.name if obj.ward else None

    @staticmethod
    def resolve_parent(obj: Facility) -> str | None:
        return obj.parent.code if obj.parent else None


class ServicePointOut(Schema):
    code: str
    name: str
    name_en: str
    kind: str
    floor: int
    is_active: bool


class DepartmentOut(Schema):
    code: str
    name: str
    name_en: str
    kind: str
    specialty: str
    service_points: list[ServicePointOut]

    @staticmethod
    def resolve_service_points(obj: Department) -> list[ServicePoint]:
        return list(obj.service_points.all())


class FacilityDetailOut(FacilityOut):
    address: str
    location_source: str
    note: str
    source_note: str
    is_active: bool
    children: list[str]
    departments: list[DepartmentOut]

    @staticmethod
    def resolve_children(obj: Facility) -> list[str]:
        return [child.code for child in obj.children.all()]

    @staticmethod
    def resolve_departments(obj: Facility) -> list[Department]:
        return list(obj.departments.all())


@router.get("/", response=list[FacilityOut], summary="List facilities")
@paginate(PageNumberPagination, page_size=50)
def list_facilities(
    request: HttpRequest,
    kind: FacilityKind | None = None,
    ward: str | None = None,
    q: str = "",
) -> QuerySet[Facility]:
    """Active facilities, filtered by kind, by ward code and by a search in codes, names and
    addresses (diacritics ignored). Paginated: `page`, `page_size` (50 by default)."""
    ensure_permission(api_principal(request), Permission.VIEW_FACILITIES)
    return selectors.list_facilities(kind=kind, ward=ward, q=q)


@router.get("/{code}", response=FacilityDetailOut, summary="Get a facility")
def get_facility(request: HttpRequest, code: str) -> Facility:
    """One facility with its departments, rooms and counters; 404 `facility.not_found` if the
    code is unknown."""
    ensure_permission(api_principal(request), Permission.VIEW_FACILITIES)
    return selectors.get_facility(code)
