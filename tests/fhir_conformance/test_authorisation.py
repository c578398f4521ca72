"""What a hospital system meets before its first FHIR request: the OAuth2 token endpoint.

(Its tests use the `db` fixture, so pytest-django creates the test database even when this
suite runs alone; the others share one live server and its data, see conftest.)
"""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_an_unknown_client_gets_invalid_client():
    answer = Client().post(
        "/oauth/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION="Basic bm9ib2R5Om5vdGhpbmc=",  # nobody:nothing
    )
    assert (answer.status_code, answer.json()["error"]) == (401, "invalid_client")


def test_the_fhir_api_refuses_a_request_without_a_token(client):
    answer = client.get("/fhir/R4/Observation")
    assert answer.status_code == 401
    assert answer.json()["resourceType"] == "OperationOutcome"
