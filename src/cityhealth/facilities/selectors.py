"""Reads of facilities for pages, APIs and other apps."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When

from cityhealth.core.errors import not_found
from cityhealth.core.text import fold_for_search
from cityhealth.facilities.enums import FacilityKind
from cityhealth.facilities.models import Department, Facility, ServicePoint


def list_facilities(
    *,
    kind: str | None = None,
    ward: str | None = None,
    q: str = "",
    province: str | None = None,
    include_inactive: bool = False,
) -> QuerySet[Facility]:
    """Facilities by kind (hospitals first, in FacilityKind order), then code. `ward` is a ward
    code; `q` matches code, names and address word by word, ignoring case and diacritics."""
    facilities = Facility.objects.select_related("ward", "parent")
    if not include_inactive:
        facilities = facilities.filter(is_active=True)
    if kind:
        facilities = facilities.filter(kind=kind)
    if ward:
        facilities = facilities.filter(ward_id=ward)
    if province:
        facilities = facilities.filter(province_id=province)
    words = fold_for_search(q).split()
    if words:
        condition = Q()
        for word in words:
            condition &= Q(search_text__contains=word)
        facilities = facilities.filter(condition)
    return facilities.annotate(kind_rank=_KIND_RANK).order_by("kind_rank", "code")


_KIND_RANK = Case(
    *(When(kind=kind.value, then=Value(rank)) for rank, kind in enumerate(FacilityKind)),
    default=Value(len(FacilityKind)),
    output_field=IntegerField(),
)


def get_facility(code: str) -> Facility:
    """One facility with its departments and their service points (active or not), in order.

    Raises `facility.not_found` for an unknown code.
    """
    departments = Department.objects.order_by("position", "code").prefetch_related(
        Prefetch("service_points", queryset=ServicePoint.objects.order_by("position", "code"))
    )
    facility = (
        Facility.objects.select_related("ward", "province", "parent")
        .prefetch_related(
            Prefetch("departments", queryset=departments),
            Prefetch("children", queryset=Facility.objects.order_by("code")),
        )
        .filter(code=code)
        .first()
    )
    if facility is None:
        raise not_found("Facility", "cơ sở y tế")
    return facility


@dataclass(frozen=True)
class KindCount:
    kind: FacilityKind
    count: int

    @property
    def label(self) -> str:
        return str(self.kind.label)


def count_facilities_by_kind(*, province: str | None = None) -> list[KindCount]:
    """How many active facilities of each kind there are (every kind listed, zeros included)."""
    facilities = Facility.objects.filter(is_active=True)
    if province:
        facilities = facilities.filter(province_id=province)
    counts = dict(
        facilities.order_by().values("kind").annotate(n=Count("id")).values_list("kind", "n")
    )
    return [KindCount(kind=kind, count=counts.get(kind.value, 0)) for kind in FacilityKind]
