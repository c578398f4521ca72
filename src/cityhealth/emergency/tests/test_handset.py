"""The caller's phone sends its own position: before, during or after the call is reported,
once or twice, from a number written one way or another."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from cityhealth.accounts.models import ApiClient
from cityhealth.accounts.services import issue_api_token
from cityhealth.core import clock
from cityhealth.core.errors import InvalidInput
from cityhealth.core.models import AuditEntry
from cityhealth.core.roles import Role
from cityhealth.emergency import services
from cityhealth.emergency.models import HandsetLocation

pytestmark = pytest.mark.django_db

AML = {
    "message_id": "aml-1",
    "caller_number": "+84 912 345 678",
    "latitude": 21.0301,
    "longitude": 105.8402,
    "accuracy_m": 18,
}


def record(**changes: Any) -> services.HandsetLocationReceived:
    return services.record_handset_location(**{**AML, **changes}, actor="pbx")


def call(call_id: str = "pbx-1", number: str = "0912345678") -> Any:
    return services.receive_call(call_id=call_id, caller_number=number, actor="pbx").incident


def test_a_position_sent_during_the_call_joins_it_whatever_the_number_format():
    incident = call()
    received = record()
    assert received.created is True
    assert received.location.incident_id == incident.pk
    assert received.location.caller_number == "0912345678"
    assert AuditEntry.objects.filter(action="incident.handset_location").count() == 1


def test_a_position_sent_before_the_call_is_reported_waits_for_it():
    early = record().location
    assert early.incident_id is None
    incident = call()
    early.refresh_from_db()
    assert early.incident_id == incident.pk


def test_a_stale_waiting_position_is_not_joined_to_a_later_call():
    early = record().location
    HandsetLocation.objects.filter(pk=early.pk).update(
        received_at=clock.now() - dt.timedelta(minutes=30)
    )
    call()
    early.refresh_from_db()
    assert early.incident_id is None


def test_a_repeated_message_is_stored_once():
    first = record()
    again = record(latitude=21.0)
    assert again.created is False
    assert again.location.pk == first.location.pk
    assert HandsetLocation.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"message_id": "bad id with spaces"}, "handset.bad_message_id"),
        ({"caller_number": "call me"}, "handset.bad_caller_number"),
        ({"accuracy_m": -5}, "handset.bad_accuracy"),
        ({"source": "pigeon"}, "handset.bad_accuracy"),
        ({"latitude": 10.7769, "longitude": 106.7009}, "location.outside_city"),
        ({"latitude": 105.8402, "longitude": 21.0301}, "location.outside_city"),
    ],
)
def test_bad_messages_are_refused_with_a_reason(changes, code):
    with pytest.raises(InvalidInput) as refused:
        record(**changes)
    assert refused.value.code == code
    assert HandsetLocation.objects.count() == 0


def test_over_http_the_telephone_system_posts_and_the_call_taker_reads(client_as):
    system = ApiClient.objects.create(name="pbx-115", scopes=["report_calls"])
    pbx = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(client=system).raw}")
    dispatcher = client_as(Role.DISPATCHER)
    incident = call()
    posted = pbx.post("/api/emergency/handset-locations", AML, content_type="application/json")
    assert posted.status_code == 201
    assert posted.json()["incident"] == incident.number
    repeated = pbx.post("/api/emergency/handset-locations", AML, content_type="application/json")
    assert repeated.status_code == 200
    broken = pbx.post(
        "/api/emergency/handset-locations", "{not json", content_type="application/json"
    )
    assert broken.status_code in {400, 422}
    listed = dispatcher.get(f"/api/emergency/incidents/{incident.pk}/handset-locations").json()
    assert [(h["accuracy_m"], h["caller_number"]) for h in listed] == [(18, "0912345678")]
    # The telephone system may not read calls.
    assert pbx.get(f"/api/emergency/incidents/{incident.pk}/handset-locations").status_code == 403


def test_the_places_api_answers_the_call_taker_only(client_as):
    from cityhealth.geo.services import load_administrative_units

    load_administrative_units()
    dispatcher = client_as(Role.DISPATCHER)
    found = dispatcher.get("/api/emergency/places", {"q": "hang bai"}).json()
    assert found[0]["label"] == "Phố Hàng Bài"
    assert found[0]["ward_name"].startswith("Phường")
    assert dispatcher.get("/api/emergency/places", {"q": "x" * 5000}).json() == []
    assert client_as(Role.CREW).get("/api/emergency/places", {"q": "hang bai"}).status_code == 403
