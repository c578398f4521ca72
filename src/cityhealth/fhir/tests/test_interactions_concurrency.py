"""Real concurrent requests on PostgreSQL: conditional creates of one identifier racing, and
transactions that update the same resources in opposite orders."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client

from cityhealth.accounts.models import ApiClient
from cityhealth.accounts.services import issue_api_token
from cityhealth.records import selectors, services
from cityhealth.records.models import Resource

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]
FHIR = "application/fhir+json"
LAB = "http://lab.bv-xanhpon.vn/result"
OBSERVATION = {
    "resourceType": "Observation",
    "identifier": [{"system": LAB, "value": "race-1"}],
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "8302-2"}]},
}


def at_once(requests: list[Callable[[Client], Any]]) -> list[Any]:
    """Each of `requests` sent by a thread of its own (its own connection, its own API
    client, so nothing of the caller's is shared), all released together."""
    clients = []
    for n in range(len(requests)):
        system = ApiClient.objects.create(name=f"his-{n}", scopes=["read_records", "write_records"])
        clients.append(issue_api_token(client=system).raw)
    barrier = threading.Barrier(len(requests))
    answers: list[Any] = []

    def run(request: Callable[[Client], Any], raw_token: str) -> None:
        try:
            barrier.wait(timeout=10)
            answers.append(request(Client(HTTP_AUTHORIZATION=f"Bearer {raw_token}")))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(request, raw))
        for request, raw in zip(requests, clients, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


@pytest.fixture
def slow_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """Widen the gap between a conditional search and its write, as a loaded server would."""
    search = selectors.find_by_criteria

    def slowly(**kwargs: Any) -> list[Resource]:
        found = search(**kwargs)
        time.sleep(0.3)
        return found

    monkeypatch.setattr(selectors, "find_by_criteria", slowly)


def create_if_none(client: Client) -> Any:
    return client.post(
        "/fhir/R4/Observation",
        json.dumps(OBSERVATION),
        content_type=FHIR,
        headers={"If-None-Exist": f"identifier={LAB}|race-1"},
    )


@pytest.mark.usefixtures("slow_search")
def test_racing_conditional_creates_of_one_identifier_create_it_once():
    answers = at_once([create_if_none] * 3)
    assert sorted(a.status_code for a in answers) == [200, 200, 201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert Resource.objects.filter(resource_type="Observation").count() == 1


@pytest.mark.usefixtures("slow_search")
def test_without_the_criteria_lock_the_race_would_duplicate(monkeypatch):
    """The control of the test above: it does catch a missing lock."""
    monkeypatch.setattr(services, "lock_criteria", lambda **kwargs: None)
    answers = at_once([create_if_none] * 2)
    assert [a.status_code for a in answers] == [201, 201]
    assert Resource.objects.filter(resource_type="Observation").count() == 2


def test_racing_transactions_on_the_same_resources_queue_without_deadlock():
    for logical_id in ("lock-a", "lock-b"):
        with transaction.atomic():
            services.update_resource(
                resource_type="Observation",
                logical_id=logical_id,
                body={**OBSERVATION, "id": logical_id},
                source="x",
            )

    def update(order: tuple[str, ...]) -> Callable[[Client], Any]:
        entries = [
            {
                "resource": {**OBSERVATION, "id": logical_id, "status": "amended"},
                "request": {"method": "PUT", "url": f"Observation/{logical_id}"},
            }
            for logical_id in order
        ]
        body = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
        return lambda client: client.post("/fhir/R4/", json.dumps(body), content_type=FHIR)

    forward, backward = update(("lock-a", "lock-b")), update(("lock-b", "lock-a"))
    answers = at_once([forward, backward, forward, backward])
    assert [a.status_code for a in answers] == [200, 200, 200, 200]
    assert sorted(Resource.objects.values_list("version_id", flat=True)) == [5, 5]
