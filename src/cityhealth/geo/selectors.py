"""Reads of geo: provinces and wards for pages, APIs and other apps."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from cityhealth.core.errors import not_found
from cityhealth.core.text import fold_for_search
from cityhealth.geo.models import Province, Ward


def search_filter(q: str, *, code_field: str = "code") -> Q | None:
    """A filter matching every word of `q` in `search_text`, ignoring case and diacritics.

    A query of digits only matches codes that start with it. None when `q` is blank.
    """
    text = q.strip()
    if not text:
        return None
    if text.isdigit():
        return Q(**{f"{code_field}__startswith": text})
    condition = Q()
    for word in fold_for_search(text).split():
        condition &= Q(search_text__contains=word)
    return condition


def list_provinces(*, q: str = "") -> QuerySet[Province]:
    """Provinces in code order, each annotated with `ward_count` (wards loaded for it)."""
    provinces = Province.objects.annotate(ward_count=Count("wards"))
    condition = search_filter(q)
    if condition is not None:
        provinces = provinces.filter(condition)
    return provinces.order_by("code")


def list_wards(
    *, province: str | None = None, q: str = "", kind: str | None = None
) -> QuerySet[Ward]:
    """Wards in code order; `province` is a 2-digit province code, `q` a name or code."""
    wards = Ward.objects.all()
    if province:
        wards = wards.filter(province_id=province)
    if kind:
        wards = wards.filter(kind=kind)
    condition = search_filter(q)
    if condition is not None:
        wards = wards.filter(condition)
    return wards.order_by("code")


def get_ward(code: str) -> Ward:
    ward = Ward.objects.select_related("province").filter(code=code).first()
    if ward is None:
        raise not_found("Ward", "phường/xã")
    return ward


def split_formed_from(text: str) -> list[str]:
    """The pre-2025 units a ward was formed from, split on commas outside parentheses."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return [part for part in parts if part]
