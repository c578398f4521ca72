"""The dispatch room's pages: the queue, a new call, the call-taker's form."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse

from cityhealth.core.roles import Role
from cityhealth.emergency import services
from cityhealth.emergency.models import Incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatcher(client_as: Any) -> Any:
    return client_as(Role.DISPATCHER)


def test_a_new_call_opens_the_call_takers_form_answered(dispatcher):
    response = dispatcher.post(reverse("emergency:new_call"), {"caller_number": "0912345678"})
    incident = Incident.objects.get()
    assert response["Location"] == reverse("emergency:call_taker", args=[incident.pk])
    assert incident.answered_at is not None
    assert incident.caller_number == "0912345678"


def test_the_form_comes_back_with_what_was_typed_before_a_reload(dispatcher):
    incident = services.receive_call(call_id="pbx-1", caller_number="", actor="pbx").incident
    services.save_call_draft(
        incident=incident,
        fields={"address": "ngõ 12 Hàng Bông", "patients": 2},
        version=0,
        actor="a",
    )
    page = dispatcher.get(reverse("emergency:call_taker", args=[incident.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    start = html.index('id="incident-data"')
    payload = json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])
    assert payload["draft"] == {"address": "ngõ 12 Hàng Bông", "patients": 2}
    assert payload["version"] == 1
    assert 'lang="vi"' in html


def test_the_queue_lists_open_incidents_and_units(dispatcher):
    services.receive_call(call_id="pbx-2", caller_number="0987", actor="pbx")
    page = dispatcher.get(reverse("emergency:dispatch_room"))
    assert page.status_code == 200
    assert len(page.context["incidents"]) == 1


def test_only_dispatchers_take_calls(client_as):
    assert client_as(Role.CREW).get(reverse("emergency:dispatch_room")).status_code == 403
    assert client_as(Role.RECEPTIONIST).post(reverse("emergency:new_call")).status_code == 403
    assert not Incident.objects.exists()


def test_the_console_stream_sends_the_queue_units_and_alerts(dispatcher):
    import datetime as dt

    from cityhealth.core import clock
    from cityhealth.emergency.models import Unit

    old = clock.now() - dt.timedelta(minutes=3)
    incident = services.receive_call(
        call_id="pbx-9", caller_number="", received_at=old, actor="pbx"
    ).incident
    services.confirm_location(
        incident=incident, latitude=21.0285, longitude=105.8542, method="map", actor="t"
    )
    services.record_triage(incident=incident, priority="P1", complaint="X", outcome={}, actor="t")
    Unit.objects.create(
        code="A1", call_sign="A1", kind="als", operator="centre", status="en_route",
        status_since=old,
    )  # fmt: skip
    response = dispatcher.get(reverse("emergency:console_events"), {"once": "1"})
    assert response["Content-Type"] == "text/event-stream"
    body = b"".join(response.streaming_content).decode()
    assert body.startswith("event: snapshot\ndata: ")
    snapshot = json.loads(body.split("data: ", 1)[1])
    assert [i["number"] for i in snapshot["incidents"]] == [incident.number]
    assert {a["code"] for a in snapshot["alerts"]} == {"p1_unassigned", "position_stale"}
    wards = dispatcher.get(reverse("emergency:ward_outlines"))
    assert len(json.loads(wards.content)["features"]) == 126


def test_the_event_planner_prints_a_plan_and_names_bad_input(dispatcher):
    page = dispatcher.get(reverse("emergency:plan_event"))
    assert "Quảng trường Ba Đình" in page.content.decode()
    planned = dispatcher.post(
        reverse("emergency:plan_event"),
        {"event": page.context["event_text"], "minutes": "8", "ambulances": "10", "posts": "8"},
    )
    assert planned.status_code == 200
    assert planned.context["plan_text"]
    broken = dispatcher.post(reverse("emergency:plan_event"), {"event": "{oops"})
    assert broken.status_code == 400
    assert "JSON" in broken.context["problem"]
    outside = json.loads(page.context["event_text"])
    outside["places"][0]["lat"] = 10.77
    refused = dispatcher.post(reverse("emergency:plan_event"), {"event": json.dumps(outside)})
    assert refused.status_code == 400
