"""`POST /api/reception/check-ins` and the calling endpoints, as a hospital's system or a
member of staff would use them: the answer's shape, repeats, and errors as problems."""

from __future__ import annotations

import pytest
from django.test import Client

from cityhealth.core.roles import Role
from cityhealth.reception.tests.conftest import HOSPITAL, WOMAN, WOMAN_CARD

pytestmark = pytest.mark.django_db


def test_check_in_answers_the_visit_ticket_insurance_and_wait(hospital, client_as):
    desk: Client = client_as(Role.RECEPTIONIST)
    body = {"facility": HOSPITAL, "clinic": "CLINIC-INTERNAL", "qr": WOMAN_CARD}
    first = desk.post("/api/reception/check-ins", body, content_type="application/json")
    assert first.status_code == 201, first.content
    answer = first.json()
    assert answer["ticket"]["number"] == "A001"
    assert answer["ticket"]["room"]
    assert answer["ticket"]["floor"] == 2
    assert answer["insurance"]["status"] in {
        "eligible",
        "check_papers",
        "not_covered",
        "mismatch",
        "pending",
    }
    assert answer["insurance"]["message"]
    assert answer["wait_minutes"] == 0
    assert answer["again"] is False
    again = desk.post(
        "/api/reception/check-ins",
        {"facility": HOSPITAL, "clinic": "CLINIC-INTERNAL", "citizen_id": WOMAN},
        content_type="application/json",
    )
    assert again.status_code == 200
    assert again.json()["visit"] == answer["visit"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"facility": HOSPITAL, "clinic": "CLINIC-INTERNAL", "qr": "garbage"}, 400, None),
        ({"facility": HOSPITAL, "clinic": "CLINIC-INTERNAL", "citizen_id": "12"}, 400, None),
        ({"facility": HOSPITAL, "clinic": "CLINIC-INTERNAL"}, 400, "reception.no_identity"),
        ({"facility": "BV-NOPE", "clinic": "X", "qr": WOMAN_CARD}, 404, "facility.not_found"),
        (
            {"facility": HOSPITAL, "clinic": "NOPE", "qr": WOMAN_CARD},
            400,
            "reception.unknown_clinic",
        ),
    ],
)
def test_bad_input_is_a_clear_problem(hospital, client_as, body, status, code):
    desk: Client = client_as(Role.RECEPTIONIST)
    answer = desk.post("/api/reception/check-ins", body, content_type="application/json")
    assert answer.status_code == status, answer.content
    problem = answer.json()
    if code:
        assert problem["code"] == code
    assert problem["detail"]


def test_broken_json_is_refused_and_nothing_is_written(hospital, client_as):
    from cityhealth.reception.models import Visit

    desk: Client = client_as(Role.RECEPTIONIST)
    answer = desk.post("/api/reception/check-ins", "{not json", content_type="application/json")
    assert answer.status_code in (400, 422)
    assert not Visit.objects.exists()


def test_calling_through_the_api(hospital, client_as):
    desk: Client = client_as(Role.RECEPTIONIST)
    made = desk.post(
        "/api/reception/check-ins",
        {"facility": HOSPITAL, "clinic": "CLINIC-INTERNAL", "qr": WOMAN_CARD},
        content_type="application/json",
    ).json()
    from cityhealth.reception.models import QueueEntry

    room = QueueEntry.objects.get(visit_id=made["visit"]).service_point_id
    queue = desk.get(f"/api/reception/points/{room}/queue").json()
    assert [e["ticket"] for e in queue] == ["A001"]
    called = desk.post(f"/api/reception/points/{room}/call-next").json()
    assert called["state"] == "called"
    empty = desk.post(f"/api/reception/points/{room}/call-next")
    assert empty.status_code == 409
    assert empty.json()["code"] == "reception.queue_empty"
    sent = desk.post(
        f"/api/reception/entries/{called['id']}/send", {"department": "PHARMACY"},
        content_type="application/json",
    ).json()  # fmt: skip
    assert sent["queue"]
    done = desk.post(f"/api/reception/entries/{sent['id']}/finish").json()
    assert done["status"] == "done"
