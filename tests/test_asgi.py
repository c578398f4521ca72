"""The ASGI application: FHIR requests in one hop to a kept thread, with every check and
their access-trail row; other paths through Django's own handler."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from cityhealth.accounts.services import create_api_client, issue_api_token
from cityhealth.asgi import application
from cityhealth.records.models import AccessEvent


def call(
    path: str, headers: dict[str, str], *, method: str = "GET", body: bytes = b""
) -> tuple[int, bytes]:
    async def run() -> tuple[int, bytes]:
        sent: list[dict[str, Any]] = []
        delivered = False

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # no disconnect while the request runs
            raise AssertionError

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver")]
            + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80),
        }
        await application(scope, receive, send)
        answer = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return sent[0]["status"], answer

    return asyncio.run(run())


@pytest.mark.django_db(transaction=True)
def test_a_fhir_request_is_authorized_answered_and_trailed():
    made = create_api_client(name="HIS", scopes=["system/*.rs"])
    raw = issue_api_token(client=made.client, scopes=["system/*.rs"]).raw
    refused, _ = call("/fhir/R4/Observation/none", {})
    assert refused == 401
    missing, body = call("/fhir/R4/Observation/none", {"Authorization": f"Bearer {raw}"})
    assert missing == 404
    assert json.loads(body)["resourceType"] == "OperationOutcome"
    rows = list(AccessEvent.objects.order_by("id").values_list("status", "interaction"))
    assert rows == [(401, "read"), (404, "read")]


@pytest.mark.django_db(transaction=True)
def test_a_write_goes_through_the_same_hop_in_its_transaction():
    made = create_api_client(name="Lab", scopes=["system/*.cruds"])
    raw = issue_api_token(client=made.client, scopes=["system/*.cruds"]).raw
    headers = {"Authorization": f"Bearer {raw}", "Content-Type": "application/fhir+json"}
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2339-0"}]},
        "valueQuantity": {"value": 5.50, "unit": "mmol/L"},
    }
    status, body = call(
        "/fhir/R4/Observation", headers, method="POST", body=json.dumps(observation).encode()
    )
    assert status == 201, body
    logical_id = json.loads(body)["id"]
    status, body = call(f"/fhir/R4/Observation/{logical_id}", headers)
    assert status == 200
    assert json.loads(body)["valueQuantity"]["value"] == 5.5


@pytest.mark.django_db(transaction=True)
def test_other_paths_keep_djangos_handler():
    status, _ = call("/healthz", {})
    assert status == 200
