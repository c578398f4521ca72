from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from cityhealth.core.models import AuditEntry
from cityhealth.core.roles import Role
from cityhealth.people import services
from cityhealth.people.enums import ReviewKind
from cityhealth.people.models import Merge, Person, PersonIdentifier, ReviewItem

pytestmark = pytest.mark.django_db

ANH = "001195012345"
ANH_NEW = "001195099999"
ADDRESS = "Số 8 ngõ 15 phố Ví Dụ, Phường Ba Đình, Hà Nội"
PROBLEM = "application/problem+json"


def qr(number: str = ANH, old: str = "", name: str = "TRẦN THỊ MINH ANH", dob: str = "12071995"):
    return "|".join([number, old, name, dob, "Nữ", ADDRESS, "03052022"])


def json_post(client: Client, url: str, body: object):
    return client.post(url, body, content_type="application/json")


def problem(response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


@pytest.fixture
def clerk(client_as):
    return client_as(Role.RECEPTIONIST)


@pytest.fixture
def anh() -> Person:
    return services.register_from_scan(qr=qr(), actor="system").person


# --- scan ----------------------------------------------------------------------------------


def test_scan_creates_then_finds(clerk):
    created = json_post(clerk, "/api/people/scan", {"qr": qr(), "facility_code": "01003"})
    assert created.status_code == 201
    body = created.json()
    assert body["created"] is True
    assert body["conflict"] is False
    assert body["review_item_ids"] == []
    assert body["card"]["citizen_id"] == ANH
    assert body["card"]["date_of_birth"] == "1995-07-12"
    assert body["card"]["id_consistent"] is True
    person = body["person"]
    assert person["full_name"] == "Trần Thị Minh Anh"
    assert person["identifiers"] == [
        {
            "kind": "citizen_id",
            "value": ANH,
            "issuer": "",
            "status": "active",
            "valid_from": "2022-05-03",
            "valid_to": None,
            "reason": "",
        }
    ]
    found = json_post(clerk, "/api/people/scan", {"qr": qr()})
    assert found.status_code == 200
    assert found.json()["created"] is False
    assert found.json()["person"]["id"] == person["id"]


def test_scan_that_disagrees_is_flagged_with_its_review_item(clerk, anh):
    response = json_post(clerk, "/api/people/scan", {"qr": qr(name="TRẦN THỊ MINH ÁNH")})
    assert response.status_code == 200
    body = response.json()
    assert body["conflict"] is True
    (item_id,) = body["review_item_ids"]
    assert ReviewItem.objects.get(pk=item_id).kind == ReviewKind.SCAN_CONFLICT
    assert body["person"]["full_name"] == "Trần Thị Minh Anh"  # not overwritten


def test_scan_with_inconsistent_digits_warns(clerk):
    response = json_post(clerk, "/api/people/scan", {"qr": qr(number="001095012345")})
    body = response.json()
    assert response.status_code == 201
    assert body["card"]["id_consistent"] is False
    assert [w["code"] for w in body["card"]["warnings"]] == ["citizen_id.sex_mismatch"]
    assert len(body["review_item_ids"]) == 1


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "cccd_qr.empty"),
        ("hello", "cccd_qr.too_few_fields"),
        (qr(dob="30021995"), "cccd_qr.bad_date"),
        (qr(number="12345"), "cccd_qr.bad_id_number"),
    ],
)
def test_scan_of_text_that_is_no_card_is_a_problem(clerk, raw, code):
    body = problem(json_post(clerk, "/api/people/scan", {"qr": raw}), 400, code)
    assert body["message_vi"]
    assert body["message_en"]
    assert not Person.objects.exists()


def test_scan_request_shape_is_validated(clerk):
    problem(json_post(clerk, "/api/people/scan", {"raw": qr()}), 422, "request.invalid")
    response = clerk.post("/api/people/scan", "{not json", content_type="application/json")
    problem(response, 400, "request.malformed_body")


def test_scan_needs_the_right_to_register(client_as):
    cashier = client_as(Role.CASHIER)
    problem(json_post(cashier, "/api/people/scan", {"qr": qr()}), 403, "access.forbidden")
    problem(json_post(Client(), "/api/people/scan", {"qr": qr()}), 401, "access.not_signed_in")
    assert not Person.objects.exists()


def test_a_claim_conflict_answers_409_and_keeps_the_review_item(clerk):
    first = services.register_person(actor="x", full_name="A", birth_year=1995).person
    second = services.register_person(actor="x", full_name="B", birth_year=1995).person
    for person in (first, second):
        PersonIdentifier.objects.create(
            person=person, kind="citizen_id", value=ANH, status="cancelled"
        )
    body = problem(
        json_post(clerk, "/api/people/scan", {"qr": qr()}), 409, "person.id_claimed_twice"
    )
    item = ReviewItem.objects.get(pk=int(body["params"]["review_item_id"]))
    assert item.kind == ReviewKind.ID_CLAIMED_TWICE
    assert Person.objects.count() == 2


# --- lookup, search, read ------------------------------------------------------------------


def test_lookup_by_citizen_id_answers_a_list_of_zero_or_one(clerk, anh):
    found = clerk.get("/api/people", {"citizen_id": ANH})
    assert found.status_code == 200
    assert [p["id"] for p in found.json()] == [anh.pk]
    missing = clerk.get("/api/people", {"citizen_id": "001195000000"})
    assert (missing.status_code, missing.json()) == (200, [])
    problem(clerk.get("/api/people", {"citizen_id": "12345"}), 400, "citizen_id.not_12_digits")
    problem(clerk.get("/api/people"), 422, "request.invalid")


def test_lookup_by_an_earlier_number_after_a_reissue(clerk, anh):
    response = json_post(
        clerk,
        f"/api/people/{anh.pk}/reissue",
        {"citizen_id": ANH_NEW, "reason": "Cấp lại", "issued_on": "2025-01-15"},
    )
    assert response.status_code == 200
    statuses = {i["value"]: (i["status"], i["valid_to"]) for i in response.json()["identifiers"]}
    assert statuses == {ANH: ("cancelled", "2025-01-15"), ANH_NEW: ("active", None)}
    by_old = clerk.get("/api/people", {"citizen_id": ANH}).json()
    assert [p["id"] for p in by_old] == [anh.pk]
    again = json_post(
        clerk, f"/api/people/{anh.pk}/reissue", {"citizen_id": ANH_NEW, "reason": "retry"}
    )
    assert again.status_code == 200
    assert anh.identifiers.count() == 2


def test_reissue_to_a_number_held_elsewhere_is_409_and_changes_nothing(clerk, anh):
    other = services.register_person(
        actor="x", full_name="Lê Văn Bình", birth_year=1990, citizen_id="001090001234"
    ).person
    body = problem(
        json_post(
            clerk,
            f"/api/people/{anh.pk}/reissue",
            {"citizen_id": "001090001234", "reason": "nhầm?"},
        ),
        409,
        "person.id_claimed_twice",
    )
    item = ReviewItem.objects.get(pk=int(body["params"]["review_item_id"]))
    assert (item.person_id, item.other_person_id) == (other.pk, anh.pk)
    assert list(anh.identifiers.values_list("value", "status")) == [(ANH, "active")]


def test_reissue_errors(clerk, anh):
    problem(
        json_post(clerk, "/api/people/999999/reissue", {"citizen_id": ANH_NEW, "reason": "x"}),
        404,
        "person.not_found",
    )
    problem(
        json_post(clerk, f"/api/people/{anh.pk}/reissue", {"citizen_id": "1", "reason": "x"}),
        400,
        "citizen_id.not_12_digits",
    )
    problem(json_post(clerk, f"/api/people/{anh.pk}/reissue", {}), 422, "request.invalid")


def test_search(clerk, anh):
    services.register_person(actor="x", full_name="Võ Thị Hồng", birth_year=1970)
    response = clerk.get("/api/people/search", {"q": "tran thi minh", "birth_year": 1995})
    assert response.status_code == 200
    assert response.json() == {
        "items": [
            {
                "id": anh.pk,
                "name": "Trần T. M. Anh",
                "birth_year": 1995,
                "sex": "female",
                "ward": None,
                "ward_name": None,
                "deceased": False,
            }
        ],
        "more": False,
    }
    vu = clerk.get("/api/people/search", {"q": "VŨ THỊ HỒNG"}).json()
    assert [p["name"] for p in vu["items"]] == ["Võ T. Hồng"]
    problem(clerk.get("/api/people/search"), 400, "person_search.no_criteria")
    problem(clerk.get("/api/people/search", {"birth_year": 99999}), 400, "person.bad_birth_year")
    problem(clerk.get("/api/people/search", {"birth_year": "abc"}), 422, "request.invalid")
    assert AuditEntry.objects.filter(action="person.search").count() == 2


def test_get_person_reads_and_audits(clerk, anh):
    response = clerk.get(f"/api/people/{anh.pk}", {"reason": "khám"})
    assert response.status_code == 200
    assert response.json()["id"] == anh.pk
    entry = AuditEntry.objects.get(action="person.read", target_id=str(anh.pk))
    assert entry.reason == "khám"


def test_missing_and_forbidden_look_the_same(client_as, anh):
    clerk = client_as(Role.RECEPTIONIST)
    crew = client_as(Role.CREW)

    def answer(client: Client, url: str) -> tuple[int, str, dict[str, Any]]:
        response = client.get(url)
        body: dict[str, Any] = response.json()
        body.pop("instance")  # echoes the path asked for, nothing more
        return response.status_code, response["Content-Type"], body

    missing = f"/api/people/{anh.pk + 1000}"
    existing = f"/api/people/{anh.pk}"
    for url in (missing, existing):
        assert answer(crew, url) == answer(crew, missing)
        assert answer(crew, url)[0] == 403
        assert answer(Client(), url) == answer(Client(), missing)
        assert answer(crew, url + "/fhir") == answer(crew, missing + "/fhir")
    status, _type, body = answer(clerk, missing)
    assert (status, body["code"]) == (404, "person.not_found")
    assert answer(clerk, f"/api/people/{2**70}") == answer(clerk, missing)


def test_a_merged_record_answers_with_its_survivor(clerk, anh):
    other = services.register_person(actor="x", full_name="Tran Thi Minh Anh", birth_year=1995)
    services.merge_persons(survivor=anh, retired=other.person, reason="trùng", actor="x")
    body = clerk.get(f"/api/people/{other.person.pk}").json()
    assert body["id"] == anh.pk
    assert body["merged_from"] == [other.person.pk]


# --- desk registration ---------------------------------------------------------------------


def test_register_at_the_desk(clerk, anh):
    response = json_post(
        clerk,
        "/api/people",
        {
            "full_name": "Nguyễn Minh Khôi",
            "birth_date": "2024-02-29",
            "sex": "male",
            "guardian_citizen_id": ANH,
            "guardian_relationship": "mother",
            "insurance_code": "TE1010123456789",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["guardians"] == [
        {"person_id": anh.pk, "name": "Trần Thị Minh Anh", "relationship": "mother"}
    ]
    assert body["insurance_cards"][0]["code"] == "TE1010123456789"
    assert AuditEntry.objects.filter(action="person.created", target_id=str(body["id"])).exists()


def test_register_errors(clerk, anh):
    problem(
        json_post(clerk, "/api/people", {"full_name": "X", "citizen_id": ANH}),
        409,
        "person.id_claimed_twice",
    )
    assert ReviewItem.objects.filter(kind=ReviewKind.ID_CLAIMED_TWICE).count() == 1
    problem(
        json_post(clerk, "/api/people", {"full_name": "X", "birth_date": "2999-01-01"}),
        400,
        "person.birth_date_in_future",
    )
    problem(
        json_post(clerk, "/api/people", {"full_name": "X", "birth_date": "1995-02-30"}),
        422,
        "request.invalid",
    )
    problem(
        json_post(clerk, "/api/people", {"full_name": "X", "guardian_id": 10**12}),
        400,
        "person.guardian_not_found",
    )
    problem(json_post(clerk, "/api/people", {"sex": "robot"}), 422, "request.invalid")
    assert Person.objects.count() == 1


def test_register_needs_the_right(client_as):
    cashier = client_as(Role.CASHIER)
    problem(json_post(cashier, "/api/people", {"full_name": "X"}), 403, "access.forbidden")


# --- merge and undo ------------------------------------------------------------------------


def test_merge_and_undo(client_as, anh):
    admin = client_as(Role.ADMIN)
    other = services.register_person(
        actor="x", full_name="Tran Thi Minh Anh", birth_year=1995, old_id="012345678"
    ).person
    moving = other.identifiers.get().pk
    body = {"survivor_id": anh.pk, "retired_id": other.pk, "reason": "cùng một người"}
    merged = json_post(admin, "/api/people/merge", body)
    assert merged.status_code == 201, merged.content
    merge = merged.json()
    assert (merge["survivor_id"], merge["retired_id"]) == (anh.pk, other.pk)
    assert merge["moved"]["identifiers"] == [moving]
    assert json_post(admin, "/api/people/merge", body).status_code == 200
    assert Merge.objects.count() == 1

    undone = admin.post(f"/api/people/merges/{merge['id']}/undo")
    assert undone.status_code == 200
    assert undone.json()["undone_at"] is not None
    problem(admin.post(f"/api/people/merges/{merge['id']}/undo"), 409, "merge.already_undone")
    problem(admin.post("/api/people/merges/999999/undo"), 404, "merge.not_found")
    other.refresh_from_db()
    assert other.merged_into_id is None
    assert other.identifiers.get().value == "012345678"


def test_merge_errors(client_as, anh):
    admin = client_as(Role.ADMIN)
    clerk = client_as(Role.RECEPTIONIST)
    body = {"survivor_id": anh.pk, "retired_id": anh.pk, "reason": "x"}
    problem(json_post(clerk, "/api/people/merge", body), 403, "access.forbidden")
    problem(json_post(admin, "/api/people/merge", body), 400, "merge.same_person")
    body["retired_id"] = 424242
    problem(json_post(admin, "/api/people/merge", body), 404, "person.not_found")
    problem(admin.post("/api/people/merges/1/undo"), 404, "merge.not_found")
    problem(clerk.post("/api/people/merges/1/undo"), 403, "access.forbidden")


# --- FHIR ----------------------------------------------------------------------------------


def test_fhir_patient(clerk, anh):
    response = clerk.get(f"/api/people/{anh.pk}/fhir")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    resource = response.json()
    assert resource["resourceType"] == "Patient"
    assert resource["id"] == str(anh.pk)
    assert AuditEntry.objects.filter(action="person.read", target_id=str(anh.pk)).exists()
    problem(clerk.get("/api/people/999999/fhir"), 404, "person.not_found")


def test_english_messages_on_request(clerk):
    response = clerk.get("/api/people/search", headers={"Accept-Language": "en"})
    body = problem(response, 400, "person_search.no_criteria")
    assert body["detail"] == body["message_en"]


def test_control_characters_never_reach_the_database(clerk, anh):
    # PostgreSQL refuses NUL in text: each of these must be a clean answer, not a 500.
    card = qr(number="001195055555").replace(ADDRESS, "Số 8\x00 phố Ví Dụ")
    scanned = json_post(clerk, "/api/people/scan", {"qr": card})
    assert scanned.status_code == 201
    assert scanned.json()["person"]["address"] == "Số 8 phố Ví Dụ"
    problem(
        json_post(clerk, "/api/people/scan", {"qr": qr(), "facility_code": "01\x00"}),
        400,
        "person.bad_facility_code",
    )
    assert clerk.get(f"/api/people/{anh.pk}", {"reason": "khám\x00"}).status_code == 200
    assert AuditEntry.objects.get(action="person.read").reason == "khám"
    problem(
        json_post(clerk, "/api/people", {"full_name": "X", "facility_code": "\x00"}),
        400,
        "person.bad_facility_code",
    )
    body = {"full_name": "Lê\x00 Văn\x01 Tám", "address": "\x00"}
    created = json_post(clerk, "/api/people", body)
    assert created.status_code == 201
    assert created.json()["full_name"] == "Lê Văn Tám"
    search = clerk.get("/api/people/search", {"q": "\x00", "phone": "\x00"})
    problem(search, 400, "person.bad_phone")
