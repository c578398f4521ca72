"""Admin of the person registry: read-only.

Persons are created, changed and merged only through `people.services`, which check the
rules (one person per human, no identifier claimed twice) and write the audit log; the admin
only looks. Its lists show no more than an id, a name and a birth year.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from cityhealth.people.models import (
    Guardianship,
    InsuranceCard,
    Merge,
    Person,
    PersonIdentifier,
    ReviewItem,
)


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class IdentifierInline(admin.TabularInline):  # type: ignore[type-arg]
    model = PersonIdentifier
    fields = ("kind", "issuer", "value", "status", "valid_from", "valid_to", "reason", "source")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ["id", "full_name", "birth_year", "sex", "ward", "merged_into", "deceased"]
    list_filter = ["sex", "birth_date_precision", "deceased", "eid_linked"]
    list_select_related = ["ward"]
    search_fields = ["=id", "search_text"]
    show_full_result_count = False  # counting millions of rows for every page is not worth it
    inlines = [IdentifierInline]


@admin.register(PersonIdentifier)
class PersonIdentifierAdmin(ReadOnlyAdmin):
    list_display = ["id", "person_id", "kind", "issuer", "value", "status", "valid_to"]
    list_filter = ["kind", "status"]
    search_fields = ["=value"]
    show_full_result_count = False


@admin.register(InsuranceCard)
class InsuranceCardAdmin(ReadOnlyAdmin):
    list_display = ["id", "person_id", "code", "social_insurance_number", "valid_to"]
    search_fields = ["=social_insurance_number", "=code"]
    show_full_result_count = False


@admin.register(Guardianship)
class GuardianshipAdmin(ReadOnlyAdmin):
    list_display = ["id", "child_id", "guardian_id", "relationship"]


@admin.register(ReviewItem)
class ReviewItemAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "status", "person_id", "other_person_id", "created_at"]
    list_filter = ["kind", "status"]


@admin.register(Merge)
class MergeAdmin(ReadOnlyAdmin):
    list_display = ["id", "retired_id", "survivor_id", "performed_by", "performed_at", "undone_at"]
