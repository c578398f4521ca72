"""Staff roles and what each may do.

Pages and API endpoints declare the `Permission` they need; a role is a named bundle of them.
Keeping the table here (in `core`) lets every app check permissions without importing
`accounts`.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    RECEPTIONIST = "receptionist", _("Receptionist")
    CLINICIAN = "clinician", _("Clinician")
    CASHIER = "cashier", _("Cashier")
    DISPATCHER = "dispatcher", _("115 dispatcher")
    CREW = "crew", _("Ambulance crew")
    ED_STAFF = "ed_staff", _("Emergency department staff")
    MANAGER = "manager", _("Health department manager")
    # A self-service kiosk's account: it checks residents in, and nothing else.
    KIOSK = "kiosk", _("Check-in kiosk")


class Permission(StrEnum):
    VIEW_FACILITIES = "view_facilities"
    VIEW_API_DOCS = "view_api_docs"
    VIEW_AUDIT_LOG = "view_audit_log"
    USE_ADMIN = "use_admin"
    MANAGE_ACCOUNTS = "manage_accounts"
    PARSE_IDENTIFIERS = "parse_identifiers"
    VIEW_PERSONS = "view_persons"
    REGISTER_PERSONS = "register_persons"
    REVIEW_PERSONS = "review_persons"
    MERGE_PERSONS = "merge_persons"
    DISPATCH = "dispatch"  # take 115 calls, triage, assign units
    REPORT_UNIT_STATUS = "report_unit_status"  # a crew's status and position
    REPORT_CALLS = "report_calls"  # the telephone system announcing calls
    RECEIVE_PRE_ALERTS = "receive_pre_alerts"  # a hospital ED: incoming patients, its status
    VIEW_EMERGENCY_KPIS = "view_emergency_kpis"  # 115 response times and coverage
    READ_RECORDS = "read_records"  # the shared health record (FHIR), read
    WRITE_RECORDS = "write_records"  # the shared health record (FHIR), write
    CHECK_IN = "check_in"  # register a visit: kiosk, reception desk, a hospital's system
    RECEPTION_DESK = "reception_desk"  # the desk: declared priorities, walk-ins, fee-paying
    CALL_PATIENTS = "call_patients"  # call next, recall, no-show, send on at a room or counter
    VIEW_QUEUE_STATS = "view_queue_stats"  # waits and throughput per hospital and clinic


_EVERY_STAFF_MEMBER = frozenset({Permission.VIEW_FACILITIES, Permission.VIEW_API_DOCS})
_FRONT_LINE = _EVERY_STAFF_MEMBER | {Permission.PARSE_IDENTIFIERS, Permission.VIEW_PERSONS}
_REGISTERS = _FRONT_LINE | {Permission.REGISTER_PERSONS}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.RECEPTIONIST: _REGISTERS
    | {
        Permission.REVIEW_PERSONS,
        Permission.CHECK_IN,
        Permission.RECEPTION_DESK,
        Permission.CALL_PATIENTS,
        Permission.VIEW_QUEUE_STATS,
    },
    Role.CLINICIAN: _REGISTERS
    | {Permission.READ_RECORDS, Permission.WRITE_RECORDS, Permission.CALL_PATIENTS},
    Role.CASHIER: _FRONT_LINE | {Permission.CALL_PATIENTS},
    Role.DISPATCHER: _REGISTERS
    | {Permission.DISPATCH, Permission.REPORT_UNIT_STATUS, Permission.VIEW_EMERGENCY_KPIS},
    Role.CREW: _EVERY_STAFF_MEMBER | {Permission.REPORT_UNIT_STATUS},
    Role.ED_STAFF: _REGISTERS | {Permission.RECEIVE_PRE_ALERTS},
    Role.MANAGER: _EVERY_STAFF_MEMBER
    | {Permission.VIEW_AUDIT_LOG, Permission.VIEW_EMERGENCY_KPIS, Permission.VIEW_QUEUE_STATS},
    # A kiosk checks residents in (finding them by their card, registering a card's holder
    # the registry does not know): it may not browse or search the registry.
    Role.KIOSK: _EVERY_STAFF_MEMBER | {Permission.CHECK_IN},
}


def permissions_of(roles: set[Role] | frozenset[Role]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[Role(role)]
    return frozenset(granted)
