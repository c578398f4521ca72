"""The FHIR REST interactions beyond read and write, over HTTP: JSON Patch, conditional
create/update/patch/delete, type and system history with paging, and formats (`_format`,
`Accept`, `Content-Type`, `_pretty`, `Prefer`)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from cityhealth.accounts.models import ApiClient
from cityhealth.accounts.services import issue_api_token
from cityhealth.records.models import Resource, ResourceVersion

pytestmark = pytest.mark.django_db
FHIR = "application/fhir+json"
PATCH = "application/json-patch+json"
LAB = "http://lab.bv-xanhpon.vn/result"


def observation(value: str = "r-1", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Observation",
        "identifier": [{"system": LAB, "value": value}],
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8302-2"}]},
        "valueQuantity": {"value": 102.5, "unit": "cm"},
    }
    body.update(changes)
    return body


@pytest.fixture
def client() -> Client:
    system = ApiClient.objects.create(name="his-test", scopes=["read_records", "write_records"])
    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(client=system).raw}")


def send(
    client: Client,
    method: str,
    url: str,
    body: Any = None,
    *,
    content_type: str = FHIR,
    **headers: str,
) -> Any:
    data = body if isinstance(body, str) else json.dumps(body) if body is not None else ""
    return getattr(client, method)(
        f"/fhir/R4{url}", data, content_type=content_type, headers=headers
    )


def made(client: Client, body: dict[str, Any]) -> str:
    response = send(client, "post", "/Observation", body)
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


# --- PATCH ------------------------------------------------------------------------------------


def test_a_json_patch_makes_a_new_version_recorded_as_patch(client):
    lid = made(client, observation())
    patched = send(
        client,
        "patch",
        f"/Observation/{lid}",
        [
            {"op": "test", "path": "/status", "value": "final"},
            {"op": "replace", "path": "/status", "value": "amended"},
            {"op": "add", "path": "/note", "value": [{"text": "đo lại"}]},
        ],
        content_type=PATCH,
        **{"If-Match": 'W/"1"'},
    )
    assert patched.status_code == 200, patched.content
    assert patched["ETag"] == 'W/"2"'
    assert patched.json()["status"] == "amended"
    assert patched.json()["note"] == [{"text": "đo lại"}]
    assert ResourceVersion.objects.get(logical_id=lid, version_id=2).method == "PATCH"


def test_a_failing_test_operation_is_422_naming_the_operation_and_saves_nothing(client):
    lid = made(client, observation())
    refused = send(
        client,
        "patch",
        f"/Observation/{lid}",
        [
            {"op": "replace", "path": "/status", "value": "amended"},
            {"op": "test", "path": "/status", "value": "preliminary"},
        ],
        content_type=PATCH,
    )
    assert refused.status_code == 422
    issue = refused.json()["issue"][0]
    assert issue["details"]["coding"][0]["code"] == "patch.test_failed"
    assert "1" in issue["diagnostics"]
    assert "/status" in issue["diagnostics"]
    assert Resource.objects.get(logical_id=lid).version_id == 1
    assert Resource.objects.get(logical_id=lid).body["status"] == "final"


@pytest.mark.parametrize(
    ("operations", "status", "code"),
    [
        ([{"op": "remove", "path": "/nothing/here"}], 422, "patch.not_applicable"),
        ([{"op": "replace", "path": "/id", "value": "other"}], 422, "patch.identity"),
        ([{"op": "replace", "path": "/status", "value": "nope"}], 400, "resource.invalid"),
        ([{"op": "jump", "path": "/status"}], 400, "patch.malformed"),
        ({"op": "replace"}, 400, "patch.malformed"),
        ([], 400, "patch.malformed"),
    ],
)
def test_a_patch_that_cannot_apply_is_refused_with_an_outcome(client, operations, status, code):
    lid = made(client, observation())
    refused = send(client, "patch", f"/Observation/{lid}", operations, content_type=PATCH)
    assert refused.status_code == status
    assert refused.json()["issue"][0]["details"]["coding"][0]["code"] == code
    assert Resource.objects.get(logical_id=lid).version_id == 1


def test_a_patch_is_refused_on_a_stale_version_a_missing_resource_or_a_wrong_media_type(client):
    lid = made(client, observation())
    change = [{"op": "replace", "path": "/status", "value": "amended"}]
    stale = send(
        client, "patch", f"/Observation/{lid}", change, content_type=PATCH, **{"If-Match": 'W/"7"'}
    )
    assert stale.status_code == 412
    assert send(client, "patch", "/Observation/nope", change, content_type=PATCH).status_code == 404
    assert send(client, "patch", f"/Observation/{lid}", change).status_code == 415
    assert Resource.objects.get(logical_id=lid).version_id == 1


# --- conditional interactions -----------------------------------------------------------------


def test_conditional_create_creates_once_then_returns_the_match(client):
    header = {"If-None-Exist": f"identifier={LAB}|r-1"}
    first = send(client, "post", "/Observation", observation(), **header)
    assert first.status_code == 201
    again = send(client, "post", "/Observation", observation(), **header)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert ResourceVersion.objects.count() == 1

    made(client, observation("r-2"))
    made(client, observation("r-2"))
    several = send(client, "post", "/Observation", observation("r-2"), **{
        "If-None-Exist": f"identifier={LAB}|r-2"
    })  # fmt: skip
    assert several.status_code == 412
    assert Resource.objects.count() == 3


def test_conditional_update_creates_updates_or_refuses_on_several(client):
    url = f"/Observation?identifier={LAB}|r-9"
    created = send(client, "put", url, observation("r-9"))
    assert created.status_code == 201
    lid = created.json()["id"]
    updated = send(client, "put", url, observation("r-9", status="amended"))
    assert updated.status_code == 200
    assert (updated.json()["id"], updated["ETag"]) == (lid, 'W/"2"')
    clash = send(client, "put", url, observation("r-9", id="someone-else"))
    assert clash.status_code == 400
    made(client, observation("r-9"))
    assert send(client, "put", url, observation("r-9")).status_code == 412
    assert send(client, "put", "/Observation", observation("r-9")).status_code == 400  # no criteria


def test_conditional_patch_patches_the_one_match(client):
    lid = made(client, observation("r-5"))
    change = [{"op": "replace", "path": "/status", "value": "corrected"}]
    url = f"/Observation?identifier={LAB}|r-5"
    patched = send(client, "patch", url, change, content_type=PATCH)
    assert (patched.status_code, patched.json()["id"]) == (200, lid)
    assert send(client, "patch", f"/Observation?identifier={LAB}|none", change,
                content_type=PATCH).status_code == 404  # fmt: skip


def test_conditional_delete_takes_one_and_several_only_when_asked(client):
    lone = made(client, observation("r-7"))
    assert send(client, "delete", f"/Observation?identifier={LAB}|r-7").status_code == 204
    assert Resource.objects.get(logical_id=lone).deleted
    assert send(client, "delete", f"/Observation?identifier={LAB}|r-7").status_code == 204

    twins = {made(client, observation("r-8")), made(client, observation("r-8"))}
    assert send(client, "delete", f"/Observation?identifier={LAB}|r-8").status_code == 412
    assert not Resource.objects.filter(logical_id__in=twins, deleted=True).exists()
    several = send(client, "delete", f"/Observation?identifier={LAB}|r-8&_count=5")
    assert several.status_code == 204
    assert Resource.objects.filter(logical_id__in=twins, deleted=True).count() == 2


# --- history ------------------------------------------------------------------------------------


def test_type_history_pages_by_key_newest_first_and_every_version_once(client):
    lids = [made(client, observation(f"h-{n}")) for n in range(3)]
    send(client, "put", f"/Observation/{lids[0]}", observation("h-0", id=lids[0], status="amended"))
    send(client, "delete", f"/Observation/{lids[1]}")
    seen: list[tuple[str, str]] = []
    url: str | None = "/fhir/R4/Observation/_history?_count=2"
    pages = 0
    while url:
        page = client.get(url).json()
        assert page["type"] == "history"
        assert len(page["entry"]) <= 2
        seen += [(e["fullUrl"].rsplit("/", 1)[1], e["response"]["etag"]) for e in page["entry"]]
        nexts = [link["url"] for link in page["link"] if link["relation"] == "next"]
        url = nexts[0].split("testserver", 1)[1] if nexts else None
        pages += 1
    assert pages == 3
    assert len(seen) == len(set(seen)) == 5
    assert seen[0] == (lids[1], 'W/"2"')  # the deletion, newest
    assert seen[1] == (lids[0], 'W/"2"')
    stamps = [v.last_updated for v in ResourceVersion.objects.order_by("-last_updated", "-pk")]
    assert stamps == sorted(stamps, reverse=True)


def test_history_since_and_at_choose_the_versions(client):
    import datetime as dt

    from cityhealth.core import clock

    start = dt.datetime(2026, 3, 1, 1, 0, tzinfo=dt.UTC)
    with clock.frozen_at(start):
        lid = made(client, observation("t-1"))
    with clock.frozen_at(start + dt.timedelta(days=2)):
        send(client, "put", f"/Observation/{lid}", observation("t-1", id=lid, status="amended"))
    since = client.get("/fhir/R4/Observation/_history?_since=2026-03-02T00:00:00Z").json()
    assert [e["response"]["etag"] for e in since["entry"]] == ['W/"2"']
    at_first = client.get("/fhir/R4/_history?_at=2026-03-02").json()
    assert [e["response"]["etag"] for e in at_first["entry"]] == ['W/"1"']
    both = client.get(f"/fhir/R4/Observation/{lid}/_history?_at=2026-03").json()
    assert [e["response"]["etag"] for e in both["entry"]] == ['W/"2"', 'W/"1"']
    assert client.get("/fhir/R4/_history?_since=yesterday").status_code == 400


def test_system_history_spans_types(client):
    made(client, observation())
    org = send(client, "post", "/Organization", {"resourceType": "Organization", "name": "BV"})
    assert org.status_code == 201
    history = client.get("/fhir/R4/_history").json()
    assert [e["request"]["url"] for e in history["entry"]] == ["Organization", "Observation"]
    assert history["entry"][0]["request"]["method"] == "POST"


# --- formats ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "accept"),
    [
        ("?_format=xml", ""),
        ("?_format=application/fhir%2Bxml", ""),
        ("", "application/fhir+xml"),
        ("", "text/html"),
    ],
)
def test_anything_but_json_is_not_acceptable(client, query, accept):
    lid = made(client, observation())
    headers = {"Accept": accept} if accept else {}
    refused = client.get(f"/fhir/R4/Observation/{lid}{query}", headers=headers)
    assert refused.status_code == 406
    assert refused.json()["resourceType"] == "OperationOutcome"
    assert refused.json()["issue"][0]["code"] == "not-supported"


def test_json_is_served_as_asked_and_pretty_when_asked(client):
    lid = made(client, observation())
    plain = client.get(f"/fhir/R4/Observation/{lid}?_format=json")
    assert plain["Content-Type"].startswith(FHIR)
    assert b"\n" not in plain.content
    as_json = client.get(f"/fhir/R4/Observation/{lid}", headers={"Accept": "application/json"})
    assert as_json["Content-Type"].startswith("application/json")
    pretty = client.get(f"/fhir/R4/Observation/{lid}?_pretty=true")
    assert b'\n  "resourceType"' in pretty.content
    assert pretty.json() == plain.json()
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert client.get(f"/fhir/R4/Observation/{lid}", headers={"Accept": browser}).status_code == 200
    assert client.get("/fhir/R4/metadata?_format=xml").status_code == 406


def test_a_write_needs_a_json_body(client):
    refused = send(client, "post", "/Observation", "<Observation/>", content_type="application/xml")
    assert refused.status_code == 415
    assert refused.json()["issue"][0]["code"] == "not-supported"
    sent_as_json = send(
        client, "post", "/Observation", observation(), content_type="application/json"
    )
    assert sent_as_json.status_code == 201


def test_prefer_return_shapes_the_answer_to_a_write(client):
    minimal = send(client, "post", "/Observation", observation(), Prefer="return=minimal")
    assert minimal.status_code == 201
    assert minimal.content == b""
    assert minimal["Location"]
    assert minimal["ETag"] == 'W/"1"'
    outcome = send(client, "post", "/Observation", observation(), Prefer="return=OperationOutcome")
    assert outcome.json()["resourceType"] == "OperationOutcome"
    assert outcome.json()["issue"][0]["severity"] == "information"
    full = send(client, "post", "/Observation", observation(), Prefer="return=representation")
    assert full.json()["resourceType"] == "Observation"


def test_the_capability_statement_lists_the_interactions(client):
    statement = Client().get("/fhir/R4/metadata").json()
    rest = statement["rest"][0]
    assert {i["code"] for i in rest["interaction"]} >= {"transaction", "batch", "history-system"}
    observation_type = next(r for r in rest["resource"] if r["type"] == "Observation")
    codes = {i["code"] for i in observation_type["interaction"]}
    assert {"patch", "history-type", "create", "update"} <= codes
    assert observation_type["conditionalCreate"] is True
    assert observation_type["conditionalUpdate"] is True
    assert observation_type["conditionalDelete"] == "multiple"
    assert "json" in statement["format"]
    assert "application/json-patch+json" in statement["patchFormat"]


@pytest.mark.usefixtures("hanoi_registry")
def test_history_of_a_type_or_the_store_shows_only_what_consent_lets_the_caller_see(client):
    from cityhealth.facilities.models import Facility
    from cityhealth.people.models import Person

    person = Person.objects.create(full_name="Lê Thị Hoa", birth_year=1988)
    theirs = made(client, observation("c-1", subject={"reference": f"Patient/{person.pk}"}))
    public = send(client, "post", "/Organization", {"resourceType": "Organization", "name": "BV"})
    hospital_client = ApiClient.objects.create(
        name="his-hospital",
        scopes=["read_records"],
        facility=Facility.objects.get(code="BV-XANHPON"),
    )
    hospital = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(client=hospital_client).raw}")

    def ids(caller: Client, url: str) -> set[str]:
        page = caller.get(url).json()
        return {e["fullUrl"].rsplit("/", 1)[1] for e in page["entry"]}

    # A client of no hospital is outside the default sharing for treatment.
    assert theirs not in ids(client, "/fhir/R4/Observation/_history")
    assert ids(client, "/fhir/R4/_history") == {public.json()["id"]}
    # A public hospital treating the person is inside it.
    assert theirs in ids(hospital, "/fhir/R4/Observation/_history")
    assert theirs in ids(hospital, "/fhir/R4/_history")
