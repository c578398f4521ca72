"""The modules a signed-in person may open from the home page, each behind a permission."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cityhealth.core.roles import Permission


@dataclass(frozen=True)
class Module:
    key: str
    title: str | Promise
    description: str | Promise
    url_name: str
    permission: Permission


MODULES: tuple[Module, ...] = (
    Module(
        "facilities",
        _("Facilities"),
        _("Hospitals, 115 stations and commune health stations, with their rooms and counters."),
        "facilities:directory",
        Permission.VIEW_FACILITIES,
    ),
    Module(
        "persons",
        _("Persons"),
        _("Find a person by name, birth year, ward, phone or ID number; identity documents."),
        "people:search",
        Permission.VIEW_PERSONS,
    ),
    Module(
        "person_review",
        _("Review queue"),
        _("Card scans that disagree, IDs claimed twice and likely duplicates, to decide."),
        "people:review_queue",
        Permission.REVIEW_PERSONS,
    ),
    Module(
        "dispatch",
        _("115 dispatch"),
        _("Take emergency calls, triage them, send the fastest right unit."),
        "emergency:dispatch_room",
        Permission.DISPATCH,
    ),
    Module(
        "crew",
        _("Crew"),
        _("Your unit's job, status buttons and the care record for the handover."),
        "emergency:crew_units",
        Permission.REPORT_UNIT_STATUS,
    ),
    Module(
        "emergency_kpis",
        _("115 performance"),
        _("Response times by priority, ward and hour against the standards; unit coverage map."),
        "emergency:kpis",
        Permission.VIEW_EMERGENCY_KPIS,
    ),
    Module(
        "audit",
        _("Audit log"),
        _("Who did what to which record; the hash chain shows any tampering."),
        "web:audit_log",
        Permission.VIEW_AUDIT_LOG,
    ),
    Module(
        "admin",
        _("Administration"),
        _("Reference data, staff accounts, roles and API clients."),
        "admin:index",
        Permission.USE_ADMIN,
    ),
    Module(
        "api_docs",
        _("API documentation"),
        _("The JSON API for other systems (OpenAPI)."),
        "api:openapi-view",
        Permission.VIEW_API_DOCS,
    ),
)


def modules_for(principal: object) -> list[Module]:
    checker = getattr(principal, "has_permission", None)
    if checker is None:
        return []
    return [module for module in MODULES if checker(module.permission)]
