"""Two hospital systems sending the same unknown person at the same moment make one person
(PostgreSQL: real concurrent transactions; SQLite has one writer at a time anyway)."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from cityhealth.accounts.models import ApiClient
from cityhealth.accounts.services import issue_api_token
from cityhealth.people.models import Person

BODY = {
    "resourceType": "Patient",
    "name": [{"text": "Quách Thị Đồng Thời"}],
    "birthDate": "1987-06-15",
    "gender": "female",
    "telecom": [{"system": "phone", "value": "0977000111"}],
}


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_creates_of_one_unknown_person_make_one_person():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    tokens = [
        issue_api_token(
            client=ApiClient.objects.create(
                name=f"his-{n}", scopes=["read_records", "write_records", "view_persons"]
            )
        ).raw
        for n in range(2)
    ]
    start = threading.Barrier(2)
    answers: list[tuple[int, str]] = []

    def post(token: str) -> None:
        try:
            client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
            start.wait()
            answer = client.post(
                "/fhir/R4/Patient", json.dumps(BODY), content_type="application/fhir+json"
            )
            # The id is in the Location (the body depends on what the client may read).
            answers.append((answer.status_code, answer["Location"].split("/Patient/")[1]))
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _id in answers) == [200, 201]
    assert len({person_id for _status, person_id in answers}) == 1
    assert Person.objects.filter(full_name="Quách Thị Đồng Thời").count() == 1
