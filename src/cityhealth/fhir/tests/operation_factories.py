"""What the tests of `$everything`, `$export` and subscriptions make: a public hospital, a
hospital system's client acting for it, persons, and resources filed in their compartments."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from django.test import Client

from cityhealth.accounts.models import ApiClient
from cityhealth.accounts.services import issue_api_token
from cityhealth.facilities.enums import FacilityKind
from cityhealth.facilities.models import Facility
from cityhealth.people.models import Person
from cityhealth.records.bulk import NewResource, write_new_resources
from cityhealth.records.consent import sync_consent_rules
from cityhealth.records.models import Resource

HOSPITAL = "BV-OPS-TEST"
READ = ("read_records", "view_persons")


def hospital() -> Facility:
    """A general hospital: the city shares records with it for treatment by default."""
    found, _ = Facility.objects.get_or_create(
        code=HOSPITAL,
        defaults={"name": "Bệnh viện Thử", "kind": FacilityKind.GENERAL_HOSPITAL},
    )
    return found


def his(*scopes: str, facility: Facility | None = None, name: str = "") -> Client:
    """A test client holding a bearer token of a hospital system with these scopes."""
    system = ApiClient.objects.create(
        name=name or f"his-{uuid.uuid4().hex[:8]}",
        scopes=list(scopes or READ),
        facility=facility if facility is not None else hospital(),
    )
    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(client=system).raw}")


def person(name: str = "Nguyễn Văn Thử", **fields: Any) -> Person:
    return Person.objects.create(full_name=name, birth_year=1980, **fields)


def observation(person_id: int, code: str = "8867-4", **more: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": uuid.uuid4().hex,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": f"Patient/{person_id}"},
        **more,
    }


def organization(name: str = "Khoa Xét nghiệm") -> dict[str, Any]:
    return {"resourceType": "Organization", "id": uuid.uuid4().hex, "name": name}


def store(
    *items: tuple[dict[str, Any], int | None], at: dt.datetime | None = None
) -> list[Resource]:
    """Write resources as they are (their own ids, vouched for: what is tested here is not
    validation), each in the given person's compartment."""
    write_new_resources(
        resources=[NewResource(body=body, person_id=pid) for body, pid in items],
        source="test",
        trusted=True,
        at=at,
    )
    rows = list(
        Resource.objects.filter(logical_id__in=[body["id"] for body, _ in items]).order_by("pk")
    )
    sync_consent_rules(rows)
    return rows


def get_json(client: Client, url: str, **headers: str) -> Any:
    response = client.get(url, headers=headers)
    return response.status_code, json.loads(response.content or b"null")
