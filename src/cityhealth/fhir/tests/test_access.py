"""Who may see what in the shared record, over HTTP: SMART scopes per type and interaction,
a resident's own compartment, consent per organization and purpose, break-glass, and the
access trail every request leaves (searchable as AuditEvent)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from cityhealth.accounts.models import ApiToken
from cityhealth.accounts.services import create_api_client, issue_api_token, revoke_api_token
from cityhealth.core import clock
from cityhealth.core.models import AuditEntry
from cityhealth.core.roles import Role
from cityhealth.facilities.models import Facility
from cityhealth.people.models import Person
from cityhealth.records.models import AccessEvent, ConsentRule, Resource

pytestmark = pytest.mark.django_db
FHIR = "application/fhir+json"


def observation(person: Person | None = None, code: str = "8302-2") -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "valueQuantity": {"value": 102.5, "unit": "cm"},
    }
    if person is not None:
        body["subject"] = {"reference": f"Patient/{person.pk}"}
    return body


def hospital(code: str) -> Facility:
    return Facility.objects.create(code=code, name=f"Bệnh viện {code}", kind="general_hospital")


def token_client(
    *scopes: str, facility: Facility | None = None, person: Person | None = None
) -> Client:
    """A client got its token at the token endpoint, as a hospital system does."""
    made = create_api_client(
        name=f"client-{AccessEvent.objects.count()}-{ApiToken.objects.count()}-{scopes}",
        scopes=list(scopes),
        facility=facility,
        person_id=person.pk if person else None,
    )
    basic = base64.b64encode(f"{made.client_id}:{made.secret}".encode()).decode()
    answer = Client().post(
        "/oauth/token",
        {"grant_type": "client_credentials", "scope": " ".join(scopes)},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert answer.status_code == 200, answer.content
    return Client(HTTP_AUTHORIZATION=f"Bearer {answer.json()['access_token']}")


def send(client: Client, method: str, url: str, body: Any = None, **headers: str) -> Any:
    data = json.dumps(body) if body is not None else ""
    return getattr(client, method)(f"/fhir/R4{url}", data, content_type=FHIR, headers=headers)


def created(client: Client, body: dict[str, Any]) -> str:
    answer = send(client, "post", f"/{body['resourceType']}", body)
    assert answer.status_code == 201, answer.content
    return str(answer.json()["id"])


@pytest.fixture
def writer() -> Client:
    return token_client("system/*.cruds", facility=hospital("BV-GHI"))


# --- scopes --------------------------------------------------------------------------------


def test_a_type_scope_reads_that_type_and_a_403_names_the_scope_for_another(writer):
    obs = created(writer, observation())
    condition = created(
        writer,
        {
            "resourceType": "Condition",
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "J18"}]},
            "subject": {"reference": f"Patient/{Person.objects.create(full_name='A').pk}"},
        },
    )
    reader = token_client("system/Observation.rs", facility=hospital("BV-A"))
    assert send(reader, "get", f"/Observation/{obs}").status_code == 200
    staff_like = token_client("user/Observation.read", facility=hospital("BV-B"))
    assert send(staff_like, "get", f"/Observation/{obs}").status_code == 200
    refused = send(reader, "get", f"/Condition/{condition}")
    assert refused.status_code == 403
    issue = refused.json()["issue"][0]
    assert issue["code"] == "forbidden"
    assert "system/Condition.r" in issue["diagnostics"]


def test_a_read_scope_does_not_write_and_a_v1_write_scope_does(writer):
    reader = token_client("system/*.read")
    refused = send(reader, "post", "/Observation", observation())
    assert refused.status_code == 403
    assert "system/Observation.c" in refused.json()["issue"][0]["diagnostics"]
    assert (
        send(token_client("system/*.write"), "post", "/Observation", observation()).status_code
        == 201
    )


def test_v2_letters_are_exact_an_update_needs_u_a_delete_needs_d(writer):
    obs = created(writer, observation())
    updater = token_client("system/Observation.ru")
    changed = {**observation(), "id": obs, "status": "amended"}
    assert send(updater, "put", f"/Observation/{obs}", changed).status_code == 200
    deleting = send(updater, "delete", f"/Observation/{obs}")
    assert deleting.status_code == 403
    assert "system/Observation.d" in deleting.json()["issue"][0]["diagnostics"]


def test_an_expired_or_revoked_token_is_refused_with_401(writer):
    made = create_api_client(name="short-lived", scopes=["system/*.rs"])
    expired = issue_api_token(
        client=made.client, expires_at=clock.now() - timedelta(seconds=1), scopes=["system/*.rs"]
    )
    live = issue_api_token(client=made.client, scopes=["system/*.rs"])
    obs = created(writer, observation())
    for raw in (expired.raw,):
        answer = send(Client(HTTP_AUTHORIZATION=f"Bearer {raw}"), "get", f"/Observation/{obs}")
        assert answer.status_code == 401
    client = Client(HTTP_AUTHORIZATION=f"Bearer {live.raw}")
    assert send(client, "get", f"/Observation/{obs}").status_code == 200
    revoke_api_token(token=live.token)
    assert send(client, "get", f"/Observation/{obs}").status_code == 401


def test_staff_sessions_keep_their_role_permissions(client_as, writer):
    obs = created(writer, observation())
    assert client_as(Role.CLINICIAN).get(f"/fhir/R4/Observation/{obs}").status_code == 200
    assert client_as(Role.CASHIER).get(f"/fhir/R4/Observation/{obs}").status_code == 403


# --- a resident's compartment --------------------------------------------------------------


def test_a_resident_reads_their_own_record_and_another_persons_is_not_found(writer):
    lan, minh = Person.objects.create(full_name="Lan"), Person.objects.create(full_name="Minh")
    own = created(writer, observation(lan))
    other = created(writer, observation(minh))
    resident = token_client("patient/*.read", person=lan)
    assert send(resident, "get", f"/Observation/{own}").status_code == 200
    hidden = send(resident, "get", f"/Observation/{other}")
    missing = send(resident, "get", "/Observation/does-not-exist")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["issue"][0]["code"] == "not-found"
    assert send(resident, "get", f"/Observation/{other}/_history").status_code == 404
    assert send(resident, "get", f"/Observation/{other}/_history/1").status_code == 404
    assert send(resident, "get", f"/Patient/{minh.pk}").status_code == 404


def test_a_resident_reads_their_own_patient_audited_and_nobody_elses():
    lan = Person.objects.create(full_name="Nguyễn Thị Lan")
    minh = Person.objects.create(full_name="Minh")
    resident = token_client("patient/*.read", person=lan)
    own = send(resident, "get", f"/Patient/{lan.pk}")
    assert own.status_code == 200, own.content
    assert (own.json()["resourceType"], own.json()["id"]) == ("Patient", str(lan.pk))
    read = AuditEntry.objects.filter(action="person.read", target_id=str(lan.pk))
    assert read.count() == 1
    assert send(resident, "get", f"/Patient/{minh.pk}").status_code == 404
    assert send(resident, "get", "/Patient/999999").status_code == 404
    assert not AuditEntry.objects.filter(action="person.read", target_id=str(minh.pk)).exists()


def test_a_resident_writes_their_own_consent_and_nothing_of_anyone_elses(writer):
    lan, minh = Person.objects.create(full_name="Lan"), Person.objects.create(full_name="Minh")
    resident = token_client("patient/*.read", "patient/Consent.cu", person=lan)
    assert send(resident, "post", "/Consent", consent(lan, "deny")).status_code == 201
    before = Resource.objects.filter(resource_type="Consent").count()
    refused = send(resident, "post", "/Consent", consent(minh, "deny"))
    assert refused.status_code == 403
    assert Resource.objects.filter(resource_type="Consent").count() == before  # rolled back
    assert not ConsentRule.objects.filter(person_id=minh.pk).exists()
    others = created(writer, consent(minh, "permit"))
    changed = {**consent(minh, "deny"), "id": others}
    assert send(resident, "put", f"/Consent/{others}", changed).status_code == 404


def test_a_resident_client_gets_only_patient_scopes():
    lan = Person.objects.create(full_name="Lan")
    with pytest.raises(Exception, match="patient/"):
        create_api_client(name="lan-app", scopes=["system/*.read"], person_id=lan.pk)


# --- consent -------------------------------------------------------------------------------


def consent(
    person: Person, kind: str, *, organization: str = "", purpose: str = ""
) -> dict[str, Any]:
    provision: dict[str, Any] = {"type": kind}
    if organization:
        provision["actor"] = [
            {
                "role": {"coding": [{"code": "IRCP"}]},
                "reference": {"reference": f"Organization/{organization}"},
            }
        ]
    if purpose:
        provision["purpose"] = [
            {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": purpose}
        ]
    return {
        "resourceType": "Consent",
        "status": "active",
        "scope": {"coding": [{"code": "patient-privacy"}]},
        "category": [{"coding": [{"code": "59284-0", "system": "http://loinc.org"}]}],
        "patient": {"reference": f"Patient/{person.pk}"},
        "provision": provision,
    }


def test_a_deny_for_one_hospital_blocks_its_client_but_not_anothers(writer):
    lan = Person.objects.create(full_name="Lan")
    obs = created(writer, observation(lan))
    bach, xanh = (
        token_client("system/*.rs", facility=hospital("BV-A")),
        token_client("system/*.rs", facility=hospital("BV-B")),
    )
    # With no Consent, the record is shared for treatment among the city's public hospitals.
    assert send(bach, "get", f"/Observation/{obs}").status_code == 200
    assert send(xanh, "get", f"/Observation/{obs}").status_code == 200
    created(writer, consent(lan, "deny", organization="BV-A"))
    assert send(bach, "get", f"/Observation/{obs}").status_code == 404
    assert send(xanh, "get", f"/Observation/{obs}").status_code == 200
    # A purpose other than treatment is not covered by the default sharing …
    research = send(xanh, "get", f"/Observation/{obs}", **{"X-Purpose-Of-Use": "HRESCH"})
    assert research.status_code == 404
    # … until the resident permits it.
    created(writer, consent(lan, "permit", organization="BV-B", purpose="HRESCH"))
    research = send(xanh, "get", f"/Observation/{obs}", **{"X-Purpose-Of-Use": "HRESCH"})
    assert research.status_code == 200


def test_a_client_of_no_hospital_is_not_shared_with_by_default_and_a_bad_purpose_is_400(writer):
    lan = Person.objects.create(full_name="Lan")
    obs = created(writer, observation(lan))
    outsider = token_client("system/*.rs")
    assert send(outsider, "get", f"/Observation/{obs}").status_code == 404
    bad = send(writer, "get", f"/Observation/{obs}", **{"X-Purpose-Of-Use": "GOSSIP"})
    assert bad.status_code == 400


def test_withdrawing_a_consent_restores_the_default(writer):
    lan = Person.objects.create(full_name="Lan")
    obs = created(writer, observation(lan))
    reader = token_client("system/*.rs", facility=hospital("BV-A"))
    deny = created(writer, consent(lan, "deny"))  # no actor: nobody
    assert send(reader, "get", f"/Observation/{obs}").status_code == 404
    assert send(writer, "delete", f"/Consent/{deny}").status_code == 204
    assert send(reader, "get", f"/Observation/{obs}").status_code == 200


# --- break-glass ---------------------------------------------------------------------------


def test_break_glass_opens_a_denied_record_flagged_and_in_the_audit_chain(writer):
    lan = Person.objects.create(full_name="Lan")
    obs = created(writer, observation(lan))
    created(writer, consent(lan, "deny"))
    emergency = token_client("system/*.rs", "break_glass", facility=hospital("115"))
    assert send(emergency, "get", f"/Observation/{obs}").status_code == 404
    reason = "bất tỉnh khi nhập viện / unconscious on arrival"
    opened = send(emergency, "get", f"/Observation/{obs}", **{"X-Break-Glass": reason})
    assert opened.status_code == 200
    row = AccessEvent.objects.filter(break_glass=True).get()
    assert (row.reason, row.person_id, row.status) == (reason, lan.pk, 200)
    entry = AuditEntry.objects.filter(action="record.break_glass").get()
    assert entry.reason == reason
    assert entry.target_id == obs


def test_break_glass_needs_a_reason_and_the_right_to_it(writer, client_as):
    obs = created(writer, observation(Person.objects.create(full_name="Lan")))
    without_right = token_client("system/*.rs", facility=hospital("BV-A"))
    refused = send(without_right, "get", f"/Observation/{obs}", **{"X-Break-Glass": "urgent"})
    assert refused.status_code == 403
    emergency = token_client("system/*.rs", "break_glass")
    assert (
        send(emergency, "get", f"/Observation/{obs}", **{"X-Break-Glass": " "}).status_code == 400
    )
    clinician = client_as(Role.CLINICIAN)
    opened = clinician.get(f"/fhir/R4/Observation/{obs}", headers={"X-Break-Glass": "code blue"})
    assert opened.status_code == 200
    cashier = client_as(Role.CASHIER, Role.CLINICIAN)
    assert (
        cashier.get(f"/fhir/R4/Observation/{obs}", headers={"X-Break-Glass": "x"}).status_code
        == 200
    )
    assert (
        client_as(Role.ADMIN)
        .get(f"/fhir/R4/Observation/{obs}", headers={"X-Break-Glass": "x"})
        .status_code
        == 403
    )


# --- the access trail ----------------------------------------------------------------------


def test_every_access_leaves_a_row_with_its_outcome(writer):
    lan = Person.objects.create(full_name="Lan")
    before = AccessEvent.objects.count()
    obs = created(writer, observation(lan))
    send(writer, "get", f"/Observation/{obs}", **{"X-Purpose-Of-Use": "treat"})
    send(writer, "get", f"/Observation/{obs}/_history/1")
    send(writer, "get", "/Observation/nothing-here")
    send(Client(), "get", f"/Observation/{obs}")
    send(token_client("system/Condition.rs"), "get", f"/Observation/{obs}")
    Client().get("/fhir/R4/metadata")  # open: not an access to anyone's record
    rows = list(AccessEvent.objects.order_by("id")[before:])
    assert [(r.interaction, r.status) for r in rows] == [
        ("create", 201), ("read", 200), ("vread", 200), ("read", 404), ("read", 401),
        ("read", 403),
    ]  # fmt: skip
    create, read, vread = rows[:3]
    assert create.person_id == read.person_id == vread.person_id == lan.pk
    assert (read.purpose, read.organization, read.logical_id) == ("TREAT", "BV-GHI", obs)
    assert vread.version_id == 1
    assert rows[4].actor == "anonymous"
    # A write is also in the tamper-evident audit log.
    assert AuditEntry.objects.filter(action="record.create", target_id=obs).exists()


def test_audit_events_are_searched_by_patient_date_and_agent(writer, client_as):
    lan, minh = Person.objects.create(full_name="Lan"), Person.objects.create(full_name="Minh")
    reader = token_client("system/*.rs", facility=hospital("BV-A"))
    for person in (lan, minh):
        send(reader, "get", f"/Observation/{created(writer, observation(person))}")
    reader_actor = AccessEvent.objects.filter(organization="BV-A").values_list("actor").first()
    assert reader_actor is not None
    auditor = token_client("system/AuditEvent.rs")
    today = clock.now().date().isoformat()
    found = send(
        auditor,
        "get",
        f"/AuditEvent?patient=Patient/{lan.pk}&date=ge{today}&agent={reader_actor[0]}",
    )
    assert found.status_code == 200
    bundle = found.json()
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "searchset")
    [entry] = bundle["entry"]
    event = entry["resource"]
    assert event["resourceType"] == "AuditEvent"
    assert event["meta"]["profile"] == [
        "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientRead"
    ]
    assert (event["action"], event["outcome"]) == ("R", "0")
    assert event["purposeOfEvent"][0]["coding"][0]["code"] == "TREAT"
    assert event["agent"][0]["who"]["identifier"]["value"] == reader_actor[0]
    assert event["agent"][1]["who"]["identifier"]["value"] == "BV-A"
    assert {"reference": f"Patient/{lan.pk}"} in [e.get("what") for e in event["entity"]]
    assert send(auditor, "get", f"/AuditEvent/{event['id']}").json()["id"] == event["id"]
    tomorrow = (clock.now() + timedelta(days=1)).date().isoformat()
    assert send(auditor, "get", f"/AuditEvent?date=ge{tomorrow}").json()["entry"] == []
    assert send(auditor, "get", "/AuditEvent?colour=red").status_code == 400
    # The access trail is for auditors, not for every reader of records.
    assert send(reader, "get", f"/AuditEvent?patient={lan.pk}").status_code == 403
    assert send(token_client("system/*.*"), "get", "/AuditEvent").status_code == 403
    assert client_as(Role.CLINICIAN).get("/fhir/R4/AuditEvent").status_code == 403
    assert client_as(Role.MANAGER).get("/fhir/R4/AuditEvent").status_code == 200
    # AuditEvents are the server's own: not written through the API.
    assert send(writer, "post", "/AuditEvent", {"resourceType": "AuditEvent"}).status_code == 405


def test_a_resident_sees_who_read_their_record_and_nobody_elses(writer):
    lan, minh = Person.objects.create(full_name="Lan"), Person.objects.create(full_name="Minh")
    reader = token_client("system/*.rs", facility=hospital("BV-A"))
    for person in (lan, minh):
        send(reader, "get", f"/Observation/{created(writer, observation(person))}")
    resident = token_client("patient/*.read", "patient/AuditEvent.rs", person=lan)
    own = send(resident, "get", "/AuditEvent").json()["entry"]
    assert own
    assert {e["resource"]["entity"][-1]["what"]["reference"] for e in own} == {f"Patient/{lan.pk}"}
    assert send(resident, "get", f"/AuditEvent?patient={minh.pk}").json()["entry"] == []
    others = AccessEvent.objects.filter(person_id=minh.pk).first()
    assert others is not None
    assert send(resident, "get", f"/AuditEvent/{others.pk}").status_code == 404


def test_audit_event_search_pages_newest_first(writer):
    obs = created(writer, observation())
    for _ in range(3):
        send(writer, "get", f"/Observation/{obs}")
    auditor = token_client("system/AuditEvent.rs")
    first = send(auditor, "get", "/AuditEvent?entity=Observation/" + obs + "&_count=2").json()
    ids = [int(e["resource"]["id"]) for e in first["entry"]]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == 2
    following = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = Client(HTTP_AUTHORIZATION=auditor.defaults["HTTP_AUTHORIZATION"]).get(following)
    more = [int(e["resource"]["id"]) for e in second.json()["entry"]]
    assert more
    assert max(more) < min(ids)


# --- what the server says about its security -----------------------------------------------


def test_the_smart_configuration_and_the_capability_statement_name_the_token_url():
    smart = Client().get("/fhir/R4/.well-known/smart-configuration")
    assert smart.status_code == 200
    body = smart.json()
    assert body["token_endpoint"] == "http://testserver/oauth/token"
    assert body["grant_types_supported"] == ["client_credentials"]
    assert "system/*.read" in body["scopes_supported"]
    security = Client().get("/fhir/R4/metadata").json()["rest"][0]["security"]
    codes = {c["code"] for service in security["service"] for c in service["coding"]}
    assert "SMART-on-FHIR" in codes
    [uris] = security["extension"]
    assert uris["extension"] == [{"url": "token", "valueUri": "http://testserver/oauth/token"}]
    assert AccessEvent.objects.count() == 0  # the open documents are not accesses
