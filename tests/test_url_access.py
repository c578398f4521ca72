"""Walk every URL of the platform as every role and as an anonymous visitor.

Each URL name must be declared below with who may use it; a URL added without a declaration
fails this test, so no page or endpoint ships without an access decision.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cityhealth.accounts.services import create_staff_user, grant_role
from cityhealth.core import clock
from cityhealth.core.roles import Role
from cityhealth.emergency.models import Incident, MoveUp, PreAlert, Unit
from cityhealth.facilities.models import Facility
from cityhealth.people.enums import ReviewKind
from cityhealth.people.models import Merge, Person, ReviewItem
from cityhealth.records.models import AccessEvent
from cityhealth.records.services import update_resource

ANONYMOUS = "anonymous"
STAFF = frozenset(role.value for role in Role)
EVERYONE = STAFF | {ANONYMOUS}
ADMIN_ONLY = frozenset({Role.ADMIN.value})
FRONT_LINE = STAFF - {Role.CREW.value, Role.MANAGER.value, Role.KIOSK.value}
REGISTERS = FRONT_LINE - {Role.CASHIER.value}
REVIEWERS = frozenset({Role.ADMIN.value, Role.RECEPTIONIST.value})
# Fixed ids of the records the `people_records` fixture makes for the person URLs.
PERSON, SURVIVOR, RETIRED, MERGED_SURVIVOR, MERGED_RETIRED = (
    "7000001",
    "7000002",
    "7000003",
    "7000004",
    "7000005",
)
MERGE, REVIEW_ITEM = "7000001", "7000001"
DISPATCHERS = frozenset({Role.ADMIN.value, Role.DISPATCHER.value})
CREWS = DISPATCHERS | {Role.CREW.value}
KPI_VIEWERS = DISPATCHERS | {Role.MANAGER.value}
PRE_ALERT_RECEIVERS = frozenset({Role.ADMIN.value, Role.ED_STAFF.value})
RECORD_USERS = frozenset({Role.ADMIN.value, Role.CLINICIAN.value})
AUDIT_READERS = frozenset({Role.ADMIN.value, Role.MANAGER.value})
ACCESS_EVENT = "7000001"
OBSERVATION = {
    "resourceType": "Observation",
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "8302-2"}]},
}
INCIDENT, DISPATCH_UNIT, CREW_UNIT = "7000001", "WALK-1", "WALK-2"
MOVE_UP, PRE_ALERT, ED_HOSPITAL = "7000002", "7000003", "BV-XANHPON"
CARD = "001195012345||TRẦN THỊ MINH ANH|12071995|Nữ|Hà Nội|03052022"
CHECKERS_IN = frozenset({Role.ADMIN.value, Role.RECEPTIONIST.value, Role.KIOSK.value})
CALLERS = frozenset(
    {Role.ADMIN.value, Role.RECEPTIONIST.value, Role.CLINICIAN.value, Role.CASHIER.value}
)
# The room, visit and queue entry the `reception_records` fixture makes for the queue URLs.
ROOM, ENTRY, VISIT = "7000001", "7000001", "7000001"
DESK_STAFF = frozenset({Role.ADMIN.value, Role.RECEPTIONIST.value})


@dataclass(frozen=True)
class Rule:
    allowed: frozenset[str]
    method: str = "get"
    kwargs: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    body: dict[str, str] | None = None
    json: dict[str, object] | None = None
    patch: list[dict[str, object]] | None = None  # a JSON Patch document


RULES: dict[str, Rule] = {
    "web:home": Rule(EVERYONE),
    "healthz": Rule(EVERYONE),
    "web:audit_log": Rule(frozenset({Role.ADMIN.value, Role.MANAGER.value})),
    "accounts:login": Rule(EVERYONE),
    "accounts:logout": Rule(EVERYONE, method="post"),
    "set_language": Rule(EVERYONE, method="post", body={"language": "en", "next": "/"}),
    "facilities:directory": Rule(STAFF),
    "facilities:detail": Rule(STAFF, kwargs={"code": "BV-XANHPON"}),
    "api:openapi-json": Rule(STAFF),
    "api:openapi-view": Rule(STAFF),
    "api:who_am_i": Rule(STAFF),
    "api:list_provinces": Rule(STAFF),
    "api:list_wards": Rule(STAFF, query={"province": "01", "q": "ba dinh"}),
    "api:get_ward": Rule(STAFF, kwargs={"code": "00070"}),
    "api:list_facilities": Rule(STAFF, query={"kind": "general_hospital"}),
    "api:get_facility": Rule(STAFF, kwargs={"code": "BV-XANHPON"}),
    "api:read_citizen_id": Rule(FRONT_LINE, kwargs={"number": "001195012345"}),
    "api:read_bhyt": Rule(FRONT_LINE, kwargs={"code": "DN4010123456789"}),
    "api:read_cccd_qr": Rule(
        FRONT_LINE,
        method="post",
        json={"raw": "001195012345||TRẦN THỊ MINH ANH|12071995|Nữ|Hà Nội|03052022"},
    ),
    "people:search": Rule(FRONT_LINE, query={"q": "tran thi"}),
    "people:detail": Rule(FRONT_LINE, kwargs={"person_id": PERSON}),
    "people:review_queue": Rule(REVIEWERS),
    "people:resolve_review": Rule(
        REVIEWERS, method="post", kwargs={"item_id": REVIEW_ITEM}, body={"decision": "dismiss"}
    ),
    "api:scan_card": Rule(REGISTERS, method="post", json={"qr": CARD}),
    "api:lookup_person": Rule(FRONT_LINE, query={"citizen_id": "001195012345"}),
    "api:search_persons": Rule(FRONT_LINE, query={"q": "tran thi", "birth_year": "1995"}),
    "api:register_person": Rule(
        REGISTERS, method="post", json={"full_name": "Người Thử", "birth_year": "1990"}
    ),
    "api:match_record": Rule(
        REGISTERS, method="post", json={"full_name": "Trần Thị Minh Anh", "birth_year": 1995}
    ),
    "api:get_person": Rule(FRONT_LINE, kwargs={"person_id": PERSON}),
    "api:get_person_fhir": Rule(FRONT_LINE, kwargs={"person_id": PERSON}),
    "api:reissue_citizen_id": Rule(
        REGISTERS,
        method="post",
        kwargs={"person_id": PERSON},
        json={"citizen_id": "001195099999", "reason": "walk"},
    ),
    "api:merge_persons": Rule(
        ADMIN_ONLY,
        method="post",
        json={"survivor_id": SURVIVOR, "retired_id": RETIRED, "reason": "walk"},
    ),
    "api:undo_merge": Rule(ADMIN_ONLY, method="post", kwargs={"merge_id": MERGE}),
    "api:check_in": Rule(
        CHECKERS_IN,
        method="post",
        json={"facility": ED_HOSPITAL, "clinic": "CLINIC-INTERNAL", "qr": CARD},
    ),
    "api:point_queue": Rule(CALLERS, kwargs={"point_id": ROOM}),
    "reception:kiosk": Rule(CHECKERS_IN, kwargs={"facility": ED_HOSPITAL}),
    "reception:kiosk_identify": Rule(
        CHECKERS_IN, method="post", kwargs={"facility": ED_HOSPITAL}, body={"scan": CARD}
    ),
    "reception:kiosk_check_in": Rule(
        CHECKERS_IN, method="post", kwargs={"facility": ED_HOSPITAL}, body={"pass": "x"}
    ),
    "reception:kiosk_ticket": Rule(
        CHECKERS_IN, kwargs={"facility": ED_HOSPITAL, "token": "walk-ticket"}
    ),
    "reception:ticket": Rule(EVERYONE, kwargs={"token": "walk-ticket"}),
    "reception:ticket_pdf": Rule(EVERYONE, kwargs={"token": "walk-ticket"}),
    "reception:board": Rule(EVERYONE, kwargs={"facility": ED_HOSPITAL, "area": "clinic"}),
    "reception:board_events": Rule(
        EVERYONE, kwargs={"facility": ED_HOSPITAL, "area": "clinic"}, query={"once": "1"}
    ),
    "reception:point": Rule(CALLERS, kwargs={"point_id": ROOM}),
    "reception:desk": Rule(DESK_STAFF),
    "reception:desk_child": Rule(DESK_STAFF),
    "reception:desk_foreigner": Rule(DESK_STAFF),
    "reception:desk_unknown": Rule(DESK_STAFF),
    "reception:desk_visit": Rule(DESK_STAFF, kwargs={"visit_id": VISIT}),
    "reception:staffing": Rule(STAFF),
    "reception:statistics": Rule(
        frozenset({Role.ADMIN.value, Role.RECEPTIONIST.value, Role.MANAGER.value})
    ),
    "api:call_next": Rule(CALLERS, method="post", kwargs={"point_id": ROOM}),
    "api:recall": Rule(CALLERS, method="post", kwargs={"entry_id": ENTRY}),
    "api:no_show": Rule(CALLERS, method="post", kwargs={"entry_id": ENTRY}),
    "api:send": Rule(
        CALLERS, method="post", kwargs={"entry_id": ENTRY}, json={"department": "LAB"}
    ),
    "api:finish": Rule(CALLERS, method="post", kwargs={"entry_id": ENTRY}),
    "emergency:dispatch_room": Rule(DISPATCHERS),
    "emergency:new_call": Rule(DISPATCHERS, method="post", body={"caller_number": "0912"}),
    "emergency:call_taker": Rule(DISPATCHERS, kwargs={"incident_id": INCIDENT}),
    "emergency:kpis": Rule(KPI_VIEWERS),
    "emergency:incoming": Rule(PRE_ALERT_RECEIVERS),
    "emergency:incoming_acknowledge": Rule(
        PRE_ALERT_RECEIVERS, method="post", body={"pre_alert": INCIDENT}
    ),
    "emergency:incoming_status": Rule(PRE_ALERT_RECEIVERS, method="post", body={"beds_free": "3"}),
    "api:destinations": Rule(CREWS, kwargs={"incident_id": INCIDENT}),
    "api:send_pre_alert": Rule(
        CREWS,
        kwargs={"incident_id": INCIDENT},
        json={"unit": DISPATCH_UNIT, "facility": "BV-XANHPON"},
    ),
    "emergency:plan_event": Rule(DISPATCHERS),
    "emergency:kpis_coverage": Rule(KPI_VIEWERS),
    "emergency:kpis_wards": Rule(KPI_VIEWERS),
    "emergency:crew_units": Rule(CREWS),
    "emergency:console_events": Rule(DISPATCHERS, query={"once": "1"}),
    "emergency:ward_outlines": Rule(DISPATCHERS),
    "emergency:road_lines": Rule(DISPATCHERS),
    "api:find_places": Rule(DISPATCHERS, query={"q": "hang bai"}),
    "api:report_handset_location": Rule(
        DISPATCHERS,
        json={
            "message_id": "walk-aml-1",
            "caller_number": "0912345678",
            "latitude": 21.0285,
            "longitude": 105.8542,
            "accuracy_m": 20,
        },
    ),
    "api:incident_handset_locations": Rule(DISPATCHERS, kwargs={"incident_id": INCIDENT}),
    "api:list_move_ups": Rule(DISPATCHERS),
    "fhir:metadata": Rule(EVERYONE),
    "fhir:smart_configuration": Rule(EVERYONE),
    # The access trail: those who read the audit log (clients: an AuditEvent scope).
    "fhir:audit_search": Rule(AUDIT_READERS, query={"patient": PERSON}),
    "fhir:audit_read": Rule(AUDIT_READERS, kwargs={"logical_id": ACCESS_EVENT}),
    # Client credentials get a token; no staff session or role does.
    "oauth_token": Rule(frozenset(), method="post", body={"grant_type": "client_credentials"}),
    "fhir:create": Rule(
        RECORD_USERS, method="post", kwargs={"resource_type": "Observation"}, json=OBSERVATION
    ),
    "fhir:read": Rule(
        RECORD_USERS, kwargs={"resource_type": "Observation", "logical_id": "walk-obs"}
    ),
    "fhir:update": Rule(
        RECORD_USERS,
        method="put",
        kwargs={"resource_type": "Observation", "logical_id": "walk-obs"},
        json={**OBSERVATION, "id": "walk-obs"},
    ),
    "fhir:delete": Rule(
        RECORD_USERS,
        method="delete",
        kwargs={"resource_type": "Observation", "logical_id": "walk-del"},
    ),
    "fhir:history": Rule(
        RECORD_USERS, kwargs={"resource_type": "Observation", "logical_id": "walk-obs"}
    ),
    "fhir:vread": Rule(
        RECORD_USERS,
        kwargs={"resource_type": "Observation", "logical_id": "walk-obs", "version_id": "1"},
    ),
    "fhir:patch": Rule(
        RECORD_USERS,
        method="patch",
        kwargs={"resource_type": "Observation", "logical_id": "walk-obs"},
        patch=[{"op": "replace", "path": "/status", "value": "amended"}],
    ),
    # Conditional interactions name their target by a search.
    "fhir:conditional_update": Rule(
        RECORD_USERS,
        method="put",
        kwargs={"resource_type": "Observation"},
        query={"identifier": "urn:walk|cu"},
        json={**OBSERVATION, "identifier": [{"system": "urn:walk", "value": "cu"}]},
    ),
    "fhir:conditional_patch": Rule(
        RECORD_USERS,
        method="patch",
        kwargs={"resource_type": "Observation"},
        query={"_id": "walk-obs"},
        patch=[{"op": "replace", "path": "/status", "value": "corrected"}],
    ),
    "fhir:conditional_delete": Rule(
        RECORD_USERS,
        method="delete",
        kwargs={"resource_type": "Observation"},
        query={"identifier": "urn:walk|nothing"},
    ),
    "fhir:type_history": Rule(RECORD_USERS, kwargs={"resource_type": "Observation"}),
    "fhir:system_history": Rule(RECORD_USERS),
    # Batch and transaction Bundles: each entry is authorized on its own as well.
    "fhir:batch": Rule(
        RECORD_USERS,
        method="post",
        json={
            "resourceType": "Bundle",
            "type": "batch",
            "entry": [{"request": {"method": "GET", "url": "Observation/walk-obs"}}],
        },
    ),
    "fhir:search": Rule(RECORD_USERS, kwargs={"resource_type": "Observation"}, query={"code": "x"}),
    "fhir:patient_everything": Rule(RECORD_USERS, kwargs={"logical_id": PERSON}),
    "fhir:patient_match": Rule(
        RECORD_USERS,
        method="post",
        json={
            "resourceType": "Parameters",
            "parameter": [
                {
                    "name": "resource",
                    "resource": {"resourceType": "Patient", "name": [{"text": "Người Thử"}]},
                }
            ],
        },
    ),
    # Bulk export kick-offs (asynchronous: 202 and a status URL).
    "fhir:export": Rule(RECORD_USERS),
    "fhir:patient_export": Rule(RECORD_USERS),
    "fhir:group_export": Rule(RECORD_USERS, kwargs={"group_id": "walk-group"}),
    "fhir:search_post": Rule(
        RECORD_USERS, method="post", kwargs={"resource_type": "Observation"}, body={"code": "x"}
    ),
    "emergency:incoming_arrived": Rule(
        PRE_ALERT_RECEIVERS, method="post", body={"pre_alert": PRE_ALERT}
    ),
    "api:incoming_pre_alerts": Rule(PRE_ALERT_RECEIVERS, query={"facility": ED_HOSPITAL}),
    "api:ed_status": Rule(PRE_ALERT_RECEIVERS, query={"facility": ED_HOSPITAL}),
    "api:publish_ed_status": Rule(
        PRE_ALERT_RECEIVERS,
        method="put",
        query={"facility": ED_HOSPITAL},
        json={"beds_free": 4, "on_diversion": False},
    ),
    "api:acknowledge_pre_alert": Rule(
        PRE_ALERT_RECEIVERS,
        kwargs={"alert_id": PRE_ALERT},
        query={"facility": ED_HOSPITAL},
        json={},
    ),
    "api:patient_arrived": Rule(
        PRE_ALERT_RECEIVERS,
        kwargs={"alert_id": PRE_ALERT},
        query={"facility": ED_HOSPITAL},
        json={},
    ),
    "api:suggest_move_up": Rule(DISPATCHERS, method="post", json={}),
    "api:order_move_up": Rule(DISPATCHERS, kwargs={"move_up_id": MOVE_UP}, json={}),
    "api:dismiss_move_up": Rule(DISPATCHERS, kwargs={"move_up_id": MOVE_UP}, json={}),
    "emergency:crew_page": Rule(CREWS, kwargs={"code": CREW_UNIT}),
    "emergency:crew_route": Rule(CREWS, kwargs={"code": CREW_UNIT}),
    "emergency:crew_status": Rule(
        CREWS, method="post", kwargs={"code": CREW_UNIT}, body={"status": "out_of_service"}
    ),
    "emergency:crew_vitals": Rule(
        CREWS, method="post", kwargs={"code": CREW_UNIT}, body={"hr": "80"}
    ),
    "emergency:crew_treatment": Rule(
        CREWS, method="post", kwargs={"code": CREW_UNIT}, body={"kind": "intervention"}
    ),
    "emergency:crew_pre_alert": Rule(
        CREWS, method="post", kwargs={"code": CREW_UNIT}, body={"facility": "BV-XANHPON"}
    ),
    "emergency:crew_event": Rule(
        CREWS, method="post", kwargs={"code": CREW_UNIT}, body={"event": "handover"}
    ),
    "api:report_call": Rule(DISPATCHERS, json={"call_id": "walk-1", "caller_number": "0912"}),
    "api:list_incidents": Rule(DISPATCHERS),
    "api:get_incident": Rule(DISPATCHERS, kwargs={"incident_id": INCIDENT}),
    "api:answer_call": Rule(DISPATCHERS, kwargs={"incident_id": INCIDENT}, json={}),
    "api:save_draft": Rule(
        DISPATCHERS,
        method="put",
        kwargs={"incident_id": INCIDENT},
        json={"version": 0, "fields": {"notes": "walk"}},
    ),
    "api:confirm_location": Rule(
        DISPATCHERS,
        kwargs={"incident_id": INCIDENT},
        json={"latitude": 21.0285, "longitude": 105.8542, "method": "map"},
    ),
    "api:triage_incident": Rule(
        DISPATCHERS, kwargs={"incident_id": INCIDENT}, json={"priority": "P2"}
    ),
    "api:assign_unit": Rule(
        DISPATCHERS, kwargs={"incident_id": INCIDENT}, json={"unit": DISPATCH_UNIT}
    ),
    "api:record_event": Rule(
        CREWS, kwargs={"incident_id": INCIDENT}, json={"event": "patient_contact"}
    ),
    "api:cancel_incident": Rule(
        DISPATCHERS, kwargs={"incident_id": INCIDENT}, json={"reason": "walk"}
    ),
    "api:list_units": Rule(DISPATCHERS),
    "api:find_complaints": Rule(DISPATCHERS, query={"q": "dau nguc"}),
    "api:triage_step": Rule(DISPATCHERS, json={"complaint": "CHEST", "answers": {}}),
    "api:recommendations": Rule(DISPATCHERS, kwargs={"incident_id": INCIDENT}),
    "api:report_status": Rule(CREWS, kwargs={"code": CREW_UNIT}, json={"status": "out_of_service"}),
    "api:report_positions": Rule(
        CREWS,
        kwargs={"code": CREW_UNIT},
        json={
            "positions": [{"latitude": 21.03, "longitude": 105.85, "at": "2026-01-01T00:00:00Z"}]
        },
    ),
    "api:report_fleet_positions": Rule(
        CREWS,
        json={
            "positions": [
                {
                    "unit": CREW_UNIT,
                    "latitude": 21.03,
                    "longitude": 105.85,
                    "at": "2026-01-01T00:00:00Z",
                }
            ]
        },
    ),
}
# The admin is for the admin role only, whatever the page; its login page is open to all.
ADMIN_RULE = Rule(ADMIN_ONLY)
ADMIN_EXCEPTIONS = {
    "admin:login": Rule(EVERYONE),
    "admin:logout": Rule(EVERYONE, method="post"),
    # Reference data loaded from files and task results are read-only in the admin.
    "admin:geo_province_add": Rule(frozenset()),
    "admin:geo_formerprovince_add": Rule(frozenset()),
    "admin:geo_ward_add": Rule(frozenset()),
    "admin:django_tasks_database_dbtaskresult_add": Rule(frozenset()),
    # Persons change only through people.services (rules and audit): the admin only looks.
    "admin:people_person_add": Rule(frozenset()),
    "admin:people_personidentifier_add": Rule(frozenset()),
    "admin:people_insurancecard_add": Rule(frozenset()),
    "admin:people_guardianship_add": Rule(frozenset()),
    "admin:people_reviewitem_add": Rule(frozenset()),
    "admin:people_merge_add": Rule(frozenset()),
}
SKIPPED = {
    # /api/ itself is no endpoint: it answers 404 to everyone.
    "api:api-root",
    "fhir:api-root",
    # Need an object id or a content type; the admin's own checks guard them, as `admin:index`.
    "admin:view_on_site",
    "admin:autocomplete",
    "admin:password_change",
    "admin:password_change_done",
    "admin:jsi18n",
    # A bulk export's status and files answer only the client that asked for it (404 for
    # anyone else, as for no job): fhir/tests/test_export.py walks them as owner and stranger.
    "fhir:export_status",
    "fhir:export_cancel",
    "fhir:export_file",
}


def _walk(patterns: list[URLPattern | URLResolver], namespace: str = "") -> Iterator[str]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, inner)
        elif entry.name:
            yield f"{namespace}{entry.name}"


def _rule_for(name: str) -> Rule | None:
    if name.startswith("admin:"):
        return ADMIN_EXCEPTIONS.get(name, ADMIN_RULE)
    return RULES.get(name)


def _got_in(response, *, is_api: bool) -> bool:
    status = response.status_code
    if status == 302 and "/login/" in response["Location"]:
        return False
    if is_api:
        if status in (401, 403):
            return False
        # 409: let in, then refused by the state an earlier walker left (a unit already sent).
        assert status < 400 or status == 409, f"unexpected {status}: {response.content[:300]!r}"
        return True
    if status == 403:
        return False
    assert status in (200, 302), f"unexpected {status}"
    return True


@pytest.fixture
def people_records(db: None) -> None:
    """Persons, a merge and a review item at the fixed ids the person URLs name."""
    for pk in (PERSON, SURVIVOR, RETIRED, MERGED_SURVIVOR, MERGED_RETIRED):
        Person.objects.create(pk=int(pk), full_name=f"Người Thử {pk}", birth_year=1990)
    Person.objects.filter(pk=int(MERGED_RETIRED)).update(merged_into=int(MERGED_SURVIVOR))
    Merge.objects.create(
        pk=int(MERGE),
        survivor_id=int(MERGED_SURVIVOR),
        retired_id=int(MERGED_RETIRED),
        reason="walk",
        moved={
            "identifiers": [],
            "retired_identifiers": [],
            "insurance_cards": [],
            "guardianships_as_child": [],
            "guardianships_as_guardian": [],
        },
        performed_by="system",
        performed_at=clock.now(),
    )
    ReviewItem.objects.create(
        pk=int(REVIEW_ITEM), kind=ReviewKind.POSSIBLE_DUPLICATE, person_id=int(PERSON)
    )
    AccessEvent.objects.create(
        pk=int(ACCESS_EVENT),
        occurred_at=clock.now(),
        actor="client:1",
        interaction="read",
        person_id=int(PERSON),
        status=200,
    )


@pytest.fixture
def emergency_records(db: None) -> None:
    """An incident on scene and two units at the fixed ids the 115 URLs name."""
    now = clock.now()
    Incident.objects.create(
        pk=int(INCIDENT),
        number="walk-incident",
        received_at=now,
        latitude=21.0285,
        longitude=105.8542,
        location_confirmed_at=now,
        on_scene_at=now,
    )
    for code in (DISPATCH_UNIT, CREW_UNIT):
        Unit.objects.create(
            code=code, call_sign=code, kind="als", operator="centre", status_since=now
        )
    PreAlert.objects.create(
        pk=int(PRE_ALERT),
        incident_id=int(INCIDENT),
        unit=Unit.objects.get(code=CREW_UNIT),
        facility=Facility.objects.get(code=ED_HOSPITAL),
        priority="P1",
        created_at=now,
        created_by="walker",
        eta_at=now,
    )
    for logical_id in ("walk-obs", "walk-del"):
        update_resource(
            resource_type="Observation",
            logical_id=logical_id,
            body=OBSERVATION,
            source="walker",
        )
    update_resource(
        resource_type="Group",
        logical_id="walk-group",
        body={"resourceType": "Group", "type": "person", "actual": True},
        source="walker",
    )
    MoveUp.objects.create(
        pk=int(MOVE_UP),
        unit=Unit.objects.get(code=DISPATCH_UNIT),
        post=Facility.objects.get(code="115-03"),
        gain_share=0.02,
        gain_residents=170_000,
        drive_seconds=900.0,
        suggested_at=now,
    )


@pytest.fixture
def reception_records(db: None) -> None:
    """A room of the hospital's internal-medicine clinic and a patient waiting for it."""
    from cityhealth.facilities.models import Department, ServicePoint
    from cityhealth.reception.models import QueueEntry, Visit

    clinic = Department.objects.get(facility__code=ED_HOSPITAL, code="CLINIC-INTERNAL")
    room = ServicePoint.objects.create(
        pk=int(ROOM), department=clinic, code="WALK", name="Phòng thử", kind="room"
    )
    now = clock.now()
    visit = Visit.objects.create(
        pk=7000001, facility=clinic.facility, person_id=int(PERSON), token="walk-ticket",
        day=clock.today(), prefix="A", number=999, channel="desk", identified_by="citizen_id",
        checked_in_at=now, checked_in_by="walker",
    )  # fmt: skip
    QueueEntry.objects.create(
        pk=int(ENTRY), visit=visit, facility=clinic.facility, department=clinic,
        service_point=room, step=1, state="waiting", priority=0, entered_at=now,
    )  # fmt: skip


@pytest.mark.django_db
@pytest.mark.usefixtures(
    "hanoi_registry", "people_records", "emergency_records", "reception_records"
)
def test_every_url_admits_exactly_the_declared_roles():
    clients: dict[str, Client] = {ANONYMOUS: Client()}
    users = {}
    for role in Role:
        user = create_staff_user(username=f"walker-{role.value}", password="walk-the-urls-1")
        # Emergency-department staff belong to a hospital: they see its incoming patients.
        hospital = Facility.objects.get(code=ED_HOSPITAL) if role == Role.ED_STAFF else None
        grant_role(user=user, role=role, facility=hospital)
        client = Client()
        client.force_login(user)
        clients[role.value] = client
        users[role.value] = user

    names = sorted(set(_walk(get_resolver().url_patterns)))
    undeclared = [n for n in names if _rule_for(n) is None and n not in SKIPPED]
    assert not undeclared, f"URLs without an access rule: {undeclared}"

    failures: list[str] = []
    walked = 0
    for name in names:
        if name in SKIPPED:
            continue
        rule = _rule_for(name)
        assert rule is not None
        try:
            url = reverse(name, kwargs=rule.kwargs or None)
        except Exception:
            if name.startswith("admin:"):
                continue
            raise
        is_api = url.startswith(("/api/", "/fhir/", "/oauth/"))
        if (rule.query and rule.method != "get") or (rule.query and rule.json is not None):
            url = f"{url}?{urlencode(rule.query)}"  # a write that names its target in the query
        for who, client in clients.items():
            if rule.method == "delete":
                response = client.delete(url)
            elif rule.method == "patch":
                response = client.patch(url, rule.patch, content_type="application/json-patch+json")
            elif rule.json is not None and rule.method == "put":
                response = client.put(url, rule.json, content_type="application/json")
            elif rule.json is not None:
                response = client.post(url, rule.json, content_type="application/json")
            elif rule.method == "post":
                response = client.post(url, rule.body or {})
            else:
                response = client.get(url, rule.query)
            entered = _got_in(response, is_api=is_api)
            if entered != (who in rule.allowed):
                failures.append(f"{name} ({url}) as {who}: got {response.status_code}")
            walked += 1
            if name.endswith(":logout") and who != ANONYMOUS:
                client.force_login(users[who])
    assert walked > 100
    assert not failures, "\n".join(failures)
