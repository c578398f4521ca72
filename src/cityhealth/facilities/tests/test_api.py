from __future__ import annotations

import pytest
from django.test import Client

from cityhealth.core.roles import Role

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("hanoi_registry")]


@pytest.fixture
def clinician(client_as):
    return client_as(Role.CLINICIAN)


def test_list_is_paginated(clinician):
    response = clinician.get("/api/facilities/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 189  # 42 + 13 central hospitals + 8 (115) + 126
    assert len(body["items"]) == 50
    page_4 = clinician.get("/api/facilities/", {"page": 4}).json()
    assert len(page_4["items"]) == 189 - 150


def test_filter_by_kind(clinician):
    body = clinician.get("/api/facilities/", {"kind": "general_hospital", "page_size": 100}).json()
    assert body["count"] == 26
    assert {f["kind"] for f in body["items"]} == {"general_hospital"}
    stations = clinician.get("/api/facilities/", {"kind": "emergency_station"}).json()
    assert stations["count"] == 7
    assert {f["parent"] for f in stations["items"]} == {"115-00"}


def test_filter_by_ward_and_search(clinician):
    body = clinician.get("/api/facilities/", {"ward": "00292"}).json()
    assert {f["code"] for f in body["items"]} == {
        "BV-THANHNHAN",
        "BV-PHOI-HANOI",
        "BV-UNGBUOU-HANOI",
        "TYT-00292",
    }
    # Names and addresses are searched: three hospitals stand on Thanh Nhàn street.
    found = clinician.get("/api/facilities/", {"q": "thanh nhan"}).json()
    assert [f["code"] for f in found["items"]] == [
        "BV-THANHNHAN",
        "BV-PHOI-HANOI",
        "BV-UNGBUOU-HANOI",
    ]
    assert found["items"][0]["ward_name"] == "Phường Bạch Mai"


def test_unknown_kind_is_a_validation_problem(clinician):
    response = clinician.get("/api/facilities/", {"kind": "spa"})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "request.invalid"


def test_detail_with_departments_and_service_points(clinician):
    response = clinician.get("/api/facilities/BV-XANHPON")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Bệnh viện Đa khoa Xanh Pôn"
    assert body["insurance_code"] == "01003"
    assert body["location_source"] == "osm:way/217792888"
    assert body["location_attribution"] == "© OpenStreetMap contributors, ODbL-1.0"
    departments = {d["code"]: d for d in body["departments"]}
    assert body["departments"][0]["code"] == "RECEPTION"
    lab = departments["LAB"]
    assert lab["kind"] == "lab"
    first_counter = lab["service_points"][0]
    assert (first_counter["code"], first_counter["kind"], first_counter["floor"]) == (
        "LM01",
        "counter",
        2,
    )
    assert departments["CASHIER"]["service_points"]


def test_centre_lists_its_stations(clinician):
    body = clinician.get("/api/facilities/115-00").json()
    assert body["children"] == [f"115-0{n}" for n in range(1, 8)]
    assert body["location_is_approximate"] is True


def test_unknown_code_is_a_problem_404(clinician):
    response = clinician.get("/api/facilities/NO-SUCH")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "facility.not_found"
    assert body["status"] == 404


def test_anonymous_caller_is_refused():
    response = Client().get("/api/facilities/")
    assert response.status_code == 401


def test_staff_without_a_role_is_forbidden(make_staff):
    client = Client()
    client.force_login(make_staff())
    response = client.get("/api/facilities/BV-XANHPON")
    assert response.status_code == 403
    assert response.json()["code"] == "access.forbidden"
