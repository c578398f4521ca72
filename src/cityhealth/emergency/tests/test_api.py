"""The dispatch centre's JSON API: the telephone system, the call-taker and a crew's phone."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from cityhealth.accounts.models import ApiClient
from cityhealth.accounts.services import issue_api_token
from cityhealth.core import clock
from cityhealth.core.models import AuditEntry
from cityhealth.core.roles import Role
from cityhealth.emergency.models import Unit

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"


@pytest.fixture
def telephony() -> Client:
    system = ApiClient.objects.create(name="pbx-115", scopes=["report_calls"])
    raw = issue_api_token(client=system).raw
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


@pytest.fixture
def dispatcher(client_as: Any) -> Client:
    signed_in: Client = client_as(Role.DISPATCHER)
    return signed_in


@pytest.fixture
def crew(client_as: Any) -> Client:
    signed_in: Client = client_as(Role.CREW)
    return signed_in


@pytest.fixture
def unit() -> Unit:
    return Unit.objects.create(
        code="115-00-A1", call_sign="A1", kind="als", operator="centre", status_since=clock.now()
    )


def send(client: Client, method: str, url: str, body: object = None) -> Any:
    return getattr(client, method)(f"/api/emergency{url}", body, content_type="application/json")


def test_from_ring_to_handover_over_http(telephony, dispatcher, crew, unit):
    rang = send(telephony, "post", "/calls", {"call_id": "c-1", "caller_number": "0912345678"})
    assert rang.status_code == 201
    again = send(telephony, "post", "/calls", {"call_id": "c-1", "caller_number": "0912345678"})
    assert again.status_code == 200
    incident = rang.json()["id"]
    assert again.json()["id"] == incident
    url = f"/incidents/{incident}"

    assert send(dispatcher, "post", f"/incidents/{incident}/answer").json()["status"] == "taking"
    draft = send(
        dispatcher,
        "put",
        f"/incidents/{incident}/draft",
        {"version": 0, "fields": {"notes": "ngã"}},
    )
    assert draft.json()["version"] == 1
    stale = send(
        dispatcher, "put", f"/incidents/{incident}/draft", {"version": 0, "fields": {"notes": "x"}}
    )
    assert stale.status_code == 409
    assert stale["Content-Type"] == PROBLEM
    assert stale.json()["code"] == "incident.stale_draft"
    located = send(
        dispatcher,
        "post",
        f"/incidents/{incident}/location",
        {"latitude": 21.0285, "longitude": 105.8542, "method": "map", "car_reachable": False,
         "walk_metres": 80},
    )  # fmt: skip
    assert located.json()["car_reachable"] is False
    found = send(dispatcher, "get", "/triage/complaints?q=ngung tho").json()
    assert found[0]["code"] == "ARREST"
    step = send(dispatcher, "post", "/triage/step", {"complaint": "ARREST", "answers": {}})
    first = step.json()["question"]
    assert first["options"]
    incomplete = send(dispatcher, "post", f"{url}/triage", {"complaint": "CHEST", "answers": {}})
    assert incomplete.status_code == 400
    assert incomplete.json()["code"] == "triage.needs_answer"
    answers: dict[str, str] = {}
    while True:  # answer "no" (or the first option) until the protocol decides
        body = {"complaint": "ARREST", "answers": answers}
        question = send(dispatcher, "post", "/triage/step", body).json()["question"]
        if question is None:
            break
        values = [o["value"] for o in question["options"]]
        answers[question["id"]] = "no" if "no" in values else values[0]
    triaged = send(dispatcher, "post", f"{url}/triage", {"complaint": "ARREST", "answers": answers})
    assert triaged.json()["status"] == "pending"
    assert triaged.json()["priority"] == "P1"
    assert triaged.json()["triage"]["protocol"]["version"] == "1.0.0"
    assert triaged.json()["triage"]["instructions"]
    queue = send(dispatcher, "get", "/incidents").json()
    assert [i["id"] for i in queue] == [incident]
    assigned = send(dispatcher, "post", f"/incidents/{incident}/assign", {"unit": "115-00-A1"})
    assert assigned.json()["units"] == ["115-00-A1"]

    for status in ("en_route", "on_scene"):
        assert send(crew, "post", "/units/115-00-A1/status", {"status": status}).status_code == 200
    illegal = send(crew, "post", "/units/115-00-A1/status", {"status": "available"})
    assert illegal.status_code == 409
    assert illegal.json()["code"] == "unit.illegal_status_change"
    contact = send(crew, "post", f"/incidents/{incident}/events", {"event": "patient_contact"})
    assert contact.json()["times"]["patient_contact"] is not None
    moved = send(
        crew,
        "post",
        "/units/115-00-A1/positions",
        {"positions": [{"latitude": 21.03, "longitude": 105.85, "at": clock.now().isoformat()}]},
    )
    assert moved.json() == {"stored": 1, "latest_moved": True, "rejected": []}
    units = send(dispatcher, "get", "/units").json()
    assert units[0]["status"] == "on_scene"
    assert units[0]["incident"] == rang.json()["number"]
    assert AuditEntry.objects.filter(action__startswith="incident.").count() >= 6


def test_who_may_do_what(telephony, dispatcher, crew, unit):
    incident = send(telephony, "post", "/calls", {"call_id": "c-2"}).json()["id"]
    # The telephone system reports calls and nothing else; a crew cannot dispatch.
    assert send(telephony, "get", "/incidents").status_code == 403
    assert (
        send(crew, "post", f"/incidents/{incident}/assign", {"unit": "115-00-A1"}).status_code
        == 403
    )
    assert send(Client(), "post", "/calls", {"call_id": "c-3"}).status_code == 401
    assert send(dispatcher, "get", "/incidents/999999").status_code == 404
    assert send(dispatcher, "post", "/units/NOPE/status", {"status": "en_route"}).status_code == 404


def test_bad_input_is_a_clear_problem(dispatcher):
    incident = send(dispatcher, "post", "/calls", {"call_id": "c-4"}).json()["id"]
    outside = send(
        dispatcher,
        "post",
        f"/incidents/{incident}/location",
        {"latitude": 105.85, "longitude": 21.02, "method": "map"},
    )
    assert outside.status_code == 400
    assert outside.json()["code"] == "location.outside_city"
    broken = dispatcher.post(
        f"/api/emergency/incidents/{incident}/triage", "{P1", content_type="application/json"
    )
    assert broken.status_code == 400
    no_location = send(dispatcher, "post", f"/incidents/{incident}/assign", {"unit": "x"})
    assert no_location.status_code == 404  # no such unit: checked before the incident's state
