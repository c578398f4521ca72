"""The FHIR API's short path (`cityhealth.fhir_hot_path`) answers exactly as the generic one.

Each request below is sent through the ASGI application twice: as served (reads, vreads and
searches with a bearer token take the short path) and with the short path turned off. Status,
headers, body and the access-trail row must be the same, for answers and for every kind of
refusal; requests the short path must not take (a session cookie, Patient, other methods)
are checked to go the generic way.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from django.test import Client

import cityhealth.asgi
from cityhealth.accounts.services import create_api_client, issue_api_token
from cityhealth.asgi import application
from cityhealth.core.roles import Role
from cityhealth.facilities.models import Facility
from cityhealth.fhir_hot_path import HotPath, hot_route
from cityhealth.people.models import Person
from cityhealth.records.models import AccessEvent

pytestmark = pytest.mark.django_db(transaction=True)
FHIR = "application/fhir+json"
LICENSE = "http://fhir.ehealth.gov.vn/core/sid/provider-medical-license-number"


def call(
    path: str, headers: dict[str, str], *, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    path, _, query = path.partition("?")

    async def run() -> tuple[int, dict[str, str], bytes]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
            "query_string": query.encode(), "root_path": "",
            "headers": [(b"host", b"testserver")]
            + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
        }  # fmt: skip
        await application(scope, receive, send)
        start = sent[0]
        answer = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, answer

    return asyncio.run(run())


def both_ways(
    monkeypatch: pytest.MonkeyPatch, path: str, headers: dict[str, str]
) -> tuple[Any, Any]:
    """(short path's answer and trail row, generic path's), the short path known taken."""
    taken: list[str] = []
    respond = HotPath.respond

    def counted(self: HotPath, request: Any, route: Any) -> Any:
        taken.append(request.path)
        return respond(self, request, route)

    with monkeypatch.context() as patch:
        patch.setattr(HotPath, "respond", counted)
        short = call(path, headers)
    assert taken == [path.partition("?")[0]], "the short path did not serve it"
    short_row = _last_row()
    with monkeypatch.context() as patch:
        patch.setattr(cityhealth.asgi, "hot_route", lambda scope: None)
        generic = call(path, headers)
    return (short, short_row), (generic, _last_row())


def _last_row() -> dict[str, Any]:
    row = AccessEvent.objects.order_by("-id").values().first()
    assert row is not None
    return {k: v for k, v in row.items() if k not in ("id", "occurred_at")}


def _comparable(answer: tuple[int, dict[str, str], bytes]) -> tuple[int, dict[str, str], Any]:
    status, headers, body = answer
    return status, headers, json.loads(body) if body else None


@pytest.fixture
def record() -> dict[str, Any]:
    """A hospital's client, a resident, a record with a consent, and tokens of several kinds."""
    writer_made = create_api_client(name="HIS", scopes=["system/*.cruds"])
    writer = Client(
        HTTP_AUTHORIZATION="Bearer "
        + issue_api_token(client=writer_made.client, scopes=["system/*.cruds"]).raw
    )

    def post(body: dict[str, Any]) -> str:
        answer = writer.post(f"/fhir/R4/{body['resourceType']}", body, content_type=FHIR)
        assert answer.status_code == 201, answer.content
        return str(answer.json()["id"])

    lan, minh = Person.objects.create(full_name="Lan"), Person.objects.create(full_name="Minh")
    code = {"coding": [{"system": "http://loinc.org", "code": "8302-2"}]}
    shared = post(
        {
            "resourceType": "Observation", "status": "final", "code": code,
            "subject": {"reference": f"Patient/{lan.pk}"},
            "effectiveDateTime": "2026-03-01T08:00:00+07:00",
            "valueQuantity": {"value": 102.50, "unit": "cm"},
        }
    )  # fmt: skip
    private = post(
        {
            "resourceType": "Observation", "status": "final", "code": code,
            "subject": {"reference": f"Patient/{minh.pk}"},
        }
    )  # fmt: skip
    post(
        {
            "resourceType": "Consent", "status": "active",
            "scope": {"coding": [{"code": "patient-privacy"}]},
            "category": [{"coding": [{"code": "59284-0", "system": "http://loinc.org"}]}],
            "patient": {"reference": f"Patient/{minh.pk}"},
            "provision": {
                "type": "deny",
                "actor": [
                    {
                        "role": {"coding": [{"code": "IRCP"}]},
                        "reference": {"reference": "Organization/BV-A"},
                    }
                ],
            },
        }
    )  # fmt: skip
    doctor = post(
        {
            "resourceType": "Practitioner",
            "identifier": [{"system": LICENSE, "value": "CCHN-00042"}],
            "name": [{"family": "Nguyễn", "given": ["Văn An"]}],
        }
    )
    gone = post({"resourceType": "Practitioner", "name": [{"family": "Trần"}]})
    assert writer.delete(f"/fhir/R4/Practitioner/{gone}").status_code == 204
    changed = {"resourceType": "Practitioner", "id": doctor, "active": True,
               "identifier": [{"system": LICENSE, "value": "CCHN-00042"}]}  # fmt: skip
    assert (
        writer.put(f"/fhir/R4/Practitioner/{doctor}", changed, content_type=FHIR).status_code == 200
    )

    def bearer(*scopes: str, facility: str | None = None, person: Person | None = None) -> str:
        made = create_api_client(
            name=f"client-{scopes}-{facility}-{person}",
            scopes=list(scopes),
            facility=Facility.objects.get_or_create(
                code=facility, defaults={"name": facility, "kind": "general_hospital"}
            )[0]
            if facility
            else None,
            person_id=person.pk if person else None,
        )
        return "Bearer " + issue_api_token(client=made.client, scopes=list(scopes)).raw

    return {
        "shared": shared, "private": private, "doctor": doctor, "gone": gone, "lan": lan,
        "hospital": bearer("system/*.rs", facility="BV-A"),
        "narrow": bearer("system/Practitioner.rs", facility="BV-B"),
        "resident": bearer("patient/*.read", person=lan),
    }  # fmt: skip


REQUESTS = [
    # (path, whose token, extra headers, the status both paths answer)
    ("/fhir/R4/Observation/{shared}", "hospital", {}, 200),
    ("/fhir/R4/Observation/{shared}?_pretty=true", "hospital", {}, 200),
    ("/fhir/R4/Observation/{shared}?_format=json", "hospital", {"Accept": "application/json"}, 200),
    ("/fhir/R4/Observation/{shared}?_format=xml", "hospital", {}, 406),
    ("/fhir/R4/Observation/{shared}", "hospital", {"Accept": "application/fhir+xml"}, 406),
    ("/fhir/R4/Observation/{private}", "hospital", {}, 404),  # consent: denied to BV-A
    ("/fhir/R4/Observation/{private}", "narrow", {}, 403),  # no scope for Observation
    ("/fhir/R4/Observation/{shared}", "narrow", {"Accept-Language": "en"}, 403),
    ("/fhir/R4/Observation/{shared}", "resident", {}, 200),  # her own
    ("/fhir/R4/Observation/{private}", "resident", {}, 404),  # someone else's
    ("/fhir/R4/Observation/nothing-here", "hospital", {"Accept-Language": "vi"}, 404),
    ("/fhir/R4/Observation/{shared}", "unknown", {}, 401),
    ("/fhir/R4/Practitioner/{gone}", "hospital", {}, 410),
    ("/fhir/R4/Practitioner/{doctor}/_history/1", "hospital", {}, 200),
    ("/fhir/R4/Practitioner/{doctor}/_history/2", "hospital", {}, 200),
    ("/fhir/R4/Practitioner/{doctor}/_history/9", "hospital", {}, 404),
    ("/fhir/R4/Practitioner/{gone}/_history/2", "hospital", {}, 410),
    ("/fhir/R4/Practitioner?identifier=" + LICENSE + "|CCHN-00042", "hospital", {}, 200),
    ("/fhir/R4/Practitioner?identifier=" + LICENSE + "|CCHN-00042", "narrow", {}, 200),
    ("/fhir/R4/Practitioner?_count=1&_total=accurate&_summary=true", "hospital", {}, 200),
    (
        "/fhir/R4/Observation?patient=Patient/{lan}&code=http://loinc.org|8302-2&date=ge2026-01-01",
        "hospital",
        {},
        200,
    ),
    ("/fhir/R4/Observation?subject=Patient/{lan}&_elements=code", "resident", {}, 200),
    ("/fhir/R4/Observation?code=http://loinc.org|8302-2", "hospital", {}, 200),
    ("/fhir/R4/Observation?no-such-parameter=1", "hospital", {}, 400),
    ("/fhir/R4/Observation?date=yesterday", "hospital", {"Accept-Language": "en"}, 400),
    ("/fhir/R4/Observation?_count=-1", "hospital", {}, 400),
    ("/fhir/R4/Encounter?_count=0&_total=accurate", "hospital", {}, 200),
    ("/fhir/R4/Encounter", "narrow", {}, 403),
    ("/fhir/R4/Patient?_id={lan}", "hospital", {}, 200),
    ("/fhir/R4/Patient?_id={lan}", "resident", {}, 200),
]


def test_the_short_path_answers_and_trails_as_the_generic_one(
    record: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    differences = []
    for path, token, extra, status in REQUESTS:
        url = path.format(**{k: getattr(v, "pk", v) for k, v in record.items()})
        headers = {"Authorization": record.get(token, "Bearer not-a-token"), **extra}
        (short, short_row), (generic, generic_row) = both_ways(monkeypatch, url, headers)
        if _comparable(short) != _comparable(generic) or short_row != generic_row:
            differences.append((url, _comparable(short), _comparable(generic)))
        elif short[0] != status:
            differences.append((url, f"HTTP {short[0]}, expected {status}", short[2][:300]))
    assert not differences, differences
    searched = [
        json.loads(call(url.format(lan=record["lan"].pk), {"Authorization": record[who]})[2])
        for url, who in (
            ("/fhir/R4/Observation?code=http://loinc.org|8302-2", "hospital"),
            ("/fhir/R4/Practitioner?identifier=" + LICENSE + "|CCHN-00042", "narrow"),
        )
    ]
    # Consent filtered Minh's observation out; the search found the doctor.
    assert [len(bundle.get("entry", [])) for bundle in searched] == [1, 1]
    assert searched[0]["entry"][0]["resource"]["id"] == record["shared"]


def test_what_the_short_path_leaves_to_the_generic_one() -> None:
    def scope(path: str, method: str = "GET", **headers: str) -> dict[str, Any]:
        return {
            "method": method,
            "path": path,
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        }

    bearer = {"Authorization": "Bearer any-token"}
    assert hot_route(scope("/fhir/R4/Observation/x", **bearer)) is not None
    assert hot_route(scope("/fhir/R4/Observation", **bearer)) is not None
    assert hot_route(scope("/fhir/R4/Observation/x/_history/3", **bearer)) is not None
    assert hot_route(scope("/fhir/R4/Patient", **bearer)) is not None  # the projection
    for path in (
        "/fhir/R4/Patient/1",  # the registry's, audited in its chain
        "/fhir/R4/AuditEvent",  # the trail's own API
        "/fhir/R4/Observation/x/_history",
        "/fhir/R4/Observation/_history",
        "/fhir/R4/Patient/1/$everything",
        "/fhir/R4/metadata",
        "/fhir/R4/Basic/x",  # a type this server does not have: its 400 comes from there
        "/fhir/R4/Observation/x/_history/1x",
    ):
        assert hot_route(scope(path, **bearer)) is None, path
    assert hot_route(scope("/fhir/R4/Observation/x", method="PUT", **bearer)) is None
    assert hot_route(scope("/fhir/R4/Observation/x")) is None  # no token: the generic 401
    assert hot_route(scope("/fhir/R4/Observation/x", Authorization="Basic eDp5")) is None
    with_cookie = {**bearer, "Cookie": "sessionid=abc"}
    assert hot_route(scope("/fhir/R4/Observation/x", **with_cookie)) is None


def test_a_staff_session_takes_the_generic_path_with_its_role(
    client_as: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(HotPath, "respond", None)  # taking the short path would fail
    for role, status in ((Role.CASHIER, 403), (Role.CLINICIAN, 404)):
        session = client_as(role).cookies["sessionid"].value
        answer = call("/fhir/R4/Observation/x", {"Cookie": f"sessionid={session}"})
        assert answer[0] == status
