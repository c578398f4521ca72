from __future__ import annotations

import pytest
from django.test import Client

from cityhealth.core.roles import Role

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("hanoi_units")]


@pytest.fixture
def clinician(client_as):
    return client_as(Role.CLINICIAN)


def test_provinces(clinician):
    response = clinician.get("/api/geo/provinces")
    assert response.status_code == 200
    body = response.json()
    assert len(body) == 34
    hanoi = next(p for p in body if p["code"] == "01")
    assert hanoi["ward_count"] == 126


def test_wards_of_a_province(clinician):
    body = clinician.get("/api/geo/wards", {"province": "01"}).json()
    assert len(body) == 126
    hoan_kiem = next(w for w in body if w["code"] == "00070")
    assert (hoan_kiem["name"], hoan_kiem["province"]) == ("Phường Hoàn Kiếm", "01")


def test_wards_search_without_diacritics(clinician):
    body = clinician.get("/api/geo/wards", {"q": "hoan kiem"}).json()
    assert [w["code"] for w in body] == ["00070"]


def test_ward_detail(clinician):
    response = clinician.get("/api/geo/wards/00004")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Phường Ba Đình"
    assert body["province_name"] == "Thành phố Hà Nội"
    assert body["population"] == 65023
    assert "Phường Trúc Bạch" in body["formed_from"]


def test_unknown_ward_is_a_problem_404(clinician):
    response = clinician.get("/api/geo/wards/99999")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "ward.not_found"


def test_anonymous_caller_is_refused():
    response = Client().get("/api/geo/wards")
    assert response.status_code == 401
    assert response.json()["code"] == "access.not_signed_in"


def test_staff_without_a_role_is_forbidden(make_staff):
    client = Client()
    client.force_login(make_staff())
    response = client.get("/api/geo/provinces")
    assert response.status_code == 403
    assert response.json()["code"] == "access.forbidden"
