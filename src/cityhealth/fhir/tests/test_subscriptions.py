"""Subscriptions over rest-hook, delivered to a real HTTP receiver on this machine: checked
and activated as written, matched after each committed write by the search engine, posted
in write order, retried with backoff, logged, and set to `error` when the subscriber never
answers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, TestCase
from django_tasks_db.models import DBTaskResult

from cityhealth.fhir import subscriptions
from cityhealth.fhir.models import Delivery, DeliveryAttempt
from cityhealth.fhir.tests.operation_factories import his, person
from cityhealth.records.bulk import NewResource, write_new_resources
from cityhealth.records.models import Resource

pytestmark = pytest.mark.django_db
DELIVER = "cityhealth.fhir.tasks.deliver_notifications"
FHIR = "application/fhir+json"
WEIGHT = "http://loinc.org|29463-7"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A subscriber's endpoint: answers each request with the next of `answers` (an HTTP
    status, or "hang" to say nothing for longer than the sender waits), then with 200."""

    answers: list[int | str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            state.received.append(
                Received(
                    self.command, self.path, dict(self.headers.items()), self.rfile.read(length)
                )
            )
            answer = state.answers.pop(0) if state.answers else 200
            if answer == "hang":
                time.sleep(1.5)
                answer = 200
            self.send_response(int(answer))
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_PUT = _answer  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def quick_retries(settings: Any) -> None:
    settings.FHIR_SUBSCRIPTION_RETRY_SECONDS = 0
    settings.FHIR_SUBSCRIPTION_TIMEOUT_SECONDS = 0.5
    subscriptions.forget_active()


def run_deliveries() -> int:
    """What the worker does: run every delivery task that is due, until none is."""
    ran = 0
    for _ in range(50):
        due = list(DBTaskResult.objects.ready().filter(task_path=DELIVER))
        if not due:
            return ran
        for row in due:
            row.status = "SUCCESSFUL"
            row.save(update_fields=["status"])
            row.task.call(*row.task_result.args, **row.task_result.kwargs)
            ran += 1
    return ran


def subscribe(client: Client, endpoint: str, *, criteria: str, **channel: Any) -> Any:
    body = {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "theo dõi cân nặng",
        "criteria": criteria,
        "channel": {"type": "rest-hook", "endpoint": endpoint, **channel},
    }
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post("/fhir/R4/Subscription", json.dumps(body), content_type=FHIR)


def weight(person_id: int, kg: float, code: str = "29463-7") -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": f"Patient/{person_id}"},
        "valueQuantity": {"value": kg, "unit": "kg"},
    }


def write(client: Client, capture: Callable[..., Any], method: str, url: str, body: Any) -> Any:
    """A write by a hospital system, committed (so its after-commit work runs)."""
    with capture(execute=True):
        response = getattr(client, method)(url, json.dumps(body), content_type=FHIR)
    assert response.status_code in (200, 201), response.content
    return response.json()


def test_a_subscription_is_checked_and_activated_as_it_is_written(receiver):
    client = his("read_records", "write_records")
    made = subscribe(client, receiver.url, criteria=f"Observation?code={WEIGHT}")
    assert made.status_code == 201, made.content
    assert made.json()["status"] == "active"

    bad_criteria = subscribe(client, receiver.url, criteria="Observation?no-such-param=1")
    assert bad_criteria.status_code in (400, 422)
    assert "criteria" in json.dumps(bad_criteria.json())
    not_a_type = subscribe(client, receiver.url, criteria="Spaceship?name=x")
    assert not_a_type.status_code in (400, 422)
    not_http = subscribe(client, "ftp://127.0.0.1/hook", criteria="Observation")
    assert not_http.status_code in (400, 422)
    assert "endpoint" in json.dumps(not_http.json())


def test_a_matching_write_is_notified_and_others_are_not(
    receiver, django_capture_on_commit_callbacks
):
    client = his("read_records", "write_records")
    anh = person()
    subscribe(
        client,
        receiver.url,
        criteria=f"Observation?code={WEIGHT}&patient=Patient/{anh.pk}",
        header=["Authorization: Bearer subscriber-secret"],
    )
    write(
        client,
        django_capture_on_commit_callbacks,
        "post",
        "/fhir/R4/Observation",
        weight(anh.pk, 61),
    )
    write(
        client,
        django_capture_on_commit_callbacks,
        "post",
        "/fhir/R4/Observation",
        weight(anh.pk, 170, code="8302-2"),
    )
    someone_else = person()
    write(
        client,
        django_capture_on_commit_callbacks,
        "post",
        "/fhir/R4/Observation",
        weight(someone_else.pk, 80),
    )

    assert run_deliveries() >= 1

    assert len(receiver.received) == 1
    notice = receiver.received[0]
    assert (notice.method, notice.path, notice.body) == ("POST", "/hook", b"")
    assert notice.headers["Authorization"] == "Bearer subscriber-secret"
    logged = DeliveryAttempt.objects.get()
    assert (logged.attempt, logged.status_code, logged.error) == (1, 200, "")


def test_with_a_payload_each_version_is_put_in_write_order(
    receiver, django_capture_on_commit_callbacks
):
    client = his("read_records", "write_records")
    anh = person()
    subscribe(client, receiver.url, criteria=f"Observation?code={WEIGHT}", payload=FHIR)
    first = write(
        client,
        django_capture_on_commit_callbacks,
        "post",
        "/fhir/R4/Observation",
        weight(anh.pk, 60),
    )
    url = f"/fhir/R4/Observation/{first['id']}"
    for kg in (61, 62):
        write(
            client,
            django_capture_on_commit_callbacks,
            "put",
            url,
            {**weight(anh.pk, kg), "id": first["id"]},
        )

    run_deliveries()

    assert [r.method for r in receiver.received] == ["PUT", "PUT", "PUT"]
    assert {r.path for r in receiver.received} == {f"/hook/Observation/{first['id']}"}
    sent = [json.loads(r.body) for r in receiver.received]
    assert [s["valueQuantity"]["value"] for s in sent] == [60, 61, 62]
    assert [s["meta"]["versionId"] for s in sent] == ["1", "2", "3"]
    assert receiver.received[0].headers["Content-Type"].startswith(FHIR)


def test_a_failing_subscriber_is_retried_in_order_until_it_takes_it(
    receiver, django_capture_on_commit_callbacks
):
    client = his("read_records", "write_records")
    anh = person()
    receiver.answers = [500, 503]
    made = subscribe(client, receiver.url, criteria="Observation", payload=FHIR).json()
    one = write(
        client,
        django_capture_on_commit_callbacks,
        "post",
        "/fhir/R4/Observation",
        weight(anh.pk, 60),
    )
    two = write(
        client,
        django_capture_on_commit_callbacks,
        "post",
        "/fhir/R4/Observation",
        weight(anh.pk, 61),
    )

    run_deliveries()

    # The first notification was tried three times; the second waited behind it.
    paths = [r.path.rsplit("/", 1)[-1] for r in receiver.received]
    assert paths == [one["id"], one["id"], one["id"], two["id"]]
    log = list(DeliveryAttempt.objects.order_by("pk").values_list("attempt", "status_code"))
    assert log == [(1, 500), (2, 503), (3, 200), (1, 200)]
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
    status = Resource.objects.get(resource_type="Subscription", logical_id=made["id"]).body[
        "status"
    ]
    assert status == "active"


def test_a_subscriber_that_never_answers_puts_the_subscription_in_error(
    settings, receiver, django_capture_on_commit_callbacks
):
    settings.FHIR_SUBSCRIPTION_TIMEOUT_SECONDS = 0.2
    client = his("read_records", "write_records")
    anh = person()
    receiver.answers = ["hang"] * 5
    made = subscribe(client, receiver.url, criteria="Observation").json()
    write(
        client,
        django_capture_on_commit_callbacks,
        "post",
        "/fhir/R4/Observation",
        weight(anh.pk, 60),
    )
    write(
        client,
        django_capture_on_commit_callbacks,
        "post",
        "/fhir/R4/Observation",
        weight(anh.pk, 61),
    )

    with django_capture_on_commit_callbacks(execute=True):
        run_deliveries()

    attempts = list(DeliveryAttempt.objects.order_by("pk"))
    assert [a.attempt for a in attempts] == [1, 2, 3, 4, 5]
    assert all(a.status_code is None and "timed out" in a.error.lower() for a in attempts)
    subscription = Resource.objects.get(resource_type="Subscription", logical_id=made["id"])
    assert subscription.body["status"] == "error"
    assert "5 tries" in subscription.body["error"]
    # Nothing more is sent to it: the second notification waits for the subscription.
    assert list(Delivery.objects.order_by("pk").values_list("status", flat=True)) == [
        "failed",
        "pending",
    ]


def test_an_ended_or_deleted_subscription_notifies_no_one(
    receiver, django_capture_on_commit_callbacks
):
    client = his("read_records", "write_records")
    anh = person()
    ended = {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "đã hết hạn",
        "criteria": "Observation",
        "end": "2020-01-01T00:00:00Z",
        "channel": {"type": "rest-hook", "endpoint": receiver.url},
    }
    write(client, django_capture_on_commit_callbacks, "post", "/fhir/R4/Subscription", ended)
    gone = subscribe(client, receiver.url, criteria="Observation").json()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/fhir/R4/Subscription/{gone['id']}").status_code == 204

    write(
        client,
        django_capture_on_commit_callbacks,
        "post",
        "/fhir/R4/Observation",
        weight(anh.pk, 60),
    )
    run_deliveries()

    assert receiver.received == []
    assert not Delivery.objects.exists()


def test_a_transaction_bundle_of_observations_notifies_a_matching_subscription(
    receiver, django_capture_on_commit_callbacks
):
    client = his("read_records", "write_records")
    anh = person()
    subscribe(client, receiver.url, criteria=f"Observation?code={WEIGHT}", payload=FHIR)
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"urn:uuid:0000000{n}-0000-4000-8000-000000000000",
                "resource": body,
                "request": {"method": "POST", "url": "Observation"},
            }
            for n, body in enumerate([weight(anh.pk, 61), weight(anh.pk, 170, code="8302-2")])
        ],
    }
    answer = write(client, django_capture_on_commit_callbacks, "post", "/fhir/R4/", bundle)
    weighed = answer["entry"][0]["response"]["location"].split("/")[1]

    assert run_deliveries() >= 1
    assert [(r.method, r.path) for r in receiver.received] == [
        ("PUT", f"/hook/Observation/{weighed}")
    ]
    assert json.loads(receiver.received[0].body)["valueQuantity"]["value"] == 61


def test_a_bulk_load_notifies_subscribers_once_committed(
    receiver, django_capture_on_commit_callbacks
):
    client = his("read_records", "write_records")
    anh = person()
    subscribe(client, receiver.url, criteria=f"Observation?code={WEIGHT}")
    loaded = [
        NewResource(body={**weight(anh.pk, kg), "id": f"loaded-{kg}"}, person_id=anh.pk)
        for kg in (60, 61)
    ]
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        write_new_resources(resources=loaded, source="loader")
        assert not Delivery.objects.exists()  # nothing before the load commits
    assert sorted(Delivery.objects.values_list("logical_id", flat=True)) == [
        "loaded-60",
        "loaded-61",
    ]
    assert run_deliveries() >= 1
    assert len(receiver.received) == 2
