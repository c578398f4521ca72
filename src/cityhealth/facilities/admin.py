"""Admin of the facility registry: facilities, their departments and service points (editable).

The loader (`services.load_facilities`) owns the fields it reads from data/facilities/ and will
set them back on its next run; the `active` flags and anything added here are left alone.
"""

from __future__ import annotations

from django.contrib import admin

from cityhealth.facilities.models import Department, Facility, ServicePoint


class DepartmentInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Department
    fields = ["position", "code", "name", "name_en", "kind", "specialty"]
    extra = 0
    show_change_link = True
    ordering = ["position", "code"]


class ServicePointInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ServicePoint
    fields = ["position", "code", "name", "name_en", "kind", "floor", "is_active"]
    extra = 0
    ordering = ["position", "code"]


@admin.register(Facility)
class FacilityAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "code",
        "name",
        "kind",
        "specialty",
        "ward",
        "insurance_code",
        "listing_status",
        "location_is_approximate",
        "is_active",
    ]
    list_filter = [
        "kind",
        "specialty",
        "listing_status",
        "location_is_approximate",
        "is_active",
        "province",
    ]
    list_select_related = ["ward"]
    search_fields = ["code", "insurance_code", "name", "name_en", "search_text"]
    autocomplete_fields = ["province", "ward", "parent"]
    inlines = [DepartmentInline]
    fieldsets = [
        (None, {"fields": ["code", "insurance_code", "name", "name_en", "kind", "specialty"]}),
        (
            "Location",
            {
                "fields": [
                    "province",
                    "ward",
                    "address",
                    "latitude",
                    "longitude",
                    "location_is_approximate",
                    "location_source",
                ]
            },
        ),
        (
            "Registry",
            {"fields": ["parent", "listing_status", "note", "source_note", "is_active"]},
        ),
    ]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["code", "name", "facility", "kind", "specialty", "position"]
    list_filter = ["kind", "specialty", "facility__kind"]
    list_select_related = ["facility"]
    search_fields = ["code", "name", "name_en", "facility__code", "facility__name"]
    autocomplete_fields = ["facility"]
    inlines = [ServicePointInline]
    ordering = ["facility__code", "position", "code"]
