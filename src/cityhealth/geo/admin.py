"""Admin of geo: reference data, loaded from data/geo/ by the loader; read-only here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from cityhealth.geo.models import FormerProvince, Province, Ward


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Changes come from the shipped data files through `load_administrative_units`."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class FormerProvinceInline(admin.TabularInline):  # type: ignore[type-arg]
    model = FormerProvince
    fields = ["id_code", "name"]
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Province)
class ProvinceAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "kind"]
    list_filter = ["kind"]
    search_fields = ["code", "name", "search_text"]
    inlines = [FormerProvinceInline]


@admin.register(FormerProvince)
class FormerProvinceAdmin(ReadOnlyAdmin):
    list_display = ["id_code", "name", "province"]
    list_select_related = ["province"]
    search_fields = ["id_code", "name"]
    list_filter = ["province"]


@admin.register(Ward)
class WardAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "kind", "province", "population", "area_km2"]
    list_select_related = ["province"]
    list_filter = ["kind", "province"]
    search_fields = ["code", "name", "short_name", "search_text"]
    fields = [
        "code",
        "name",
        "short_name",
        "kind",
        "province",
        "latitude",
        "longitude",
        "area_km2",
        "population",
        "formed_from",
    ]
