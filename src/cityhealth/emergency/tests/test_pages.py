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
