from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from cityhealth.core import clock
from cityhealth.core.roles import Role

pytestmark = pytest.mark.django_db

EXAMPLE = (
    "001195012345||TRẦN THỊ MINH ANH|12071995|Nữ|"
    "Số 8 ngõ 15 phố Ví Dụ, Phường Ba Đình, Hà Nội|03052022"
)
PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def _fixed_today():
    with clock.frozen_at(dt.datetime(2026, 6, 1, 5, 0, tzinfo=dt.UTC)):
        yield


@pytest.fixture
def reception(client_as):
    return client_as(Role.RECEPTIONIST)


def _problem(response, status: int, code: str):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = json.loads(response.content)
    assert body["code"] == code
    assert body["status"] == status
    return body


def test_reads_a_citizen_id(reception):
    response = reception.get("/api/identifiers/citizen-id/001195012345")
    assert response.status_code == 200
    assert response.json() == {
        "number": "001195012345",
        "id_province_code": "001",
        "province_name": "Hà Nội",
        "province_code_2025": "01",
        "province_name_2025": "Thành phố Hà Nội",
        "sex": "female",
        "birth_year": 1995,
        "warnings": [],
    }


def test_compares_a_citizen_id_with_a_given_birth_date_and_sex(reception):
    response = reception.get(
        "/api/identifiers/citizen-id/001195012345",
        {"birth_date": "1996-07-12", "sex": "male"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    warnings = response.json()["warnings"]
    assert [w["code"] for w in warnings] == [
        "citizen_id.birth_year_mismatch",
        "citizen_id.sex_mismatch",
    ]
    assert warnings[0]["message"].startswith("The ID encodes birth year 1995")


def test_garbage_id_is_a_problem_in_vietnamese_by_default(reception):
    body = _problem(
        reception.get("/api/identifiers/citizen-id/12345abc"), 400, "citizen_id.not_12_digits"
    )
    assert body["detail"] == "Số định danh cá nhân phải gồm đúng 12 chữ số."
    assert body["field"] == "citizen_id"


def test_garbage_id_is_a_problem_in_english_when_asked(reception):
    response = reception.get("/api/identifiers/citizen-id/٠٠١١٩٥٠١٢٣٤٥", HTTP_ACCEPT_LANGUAGE="en")
    body = _problem(response, 400, "citizen_id.not_12_digits")
    assert body["detail"] == "A personal ID number must be exactly 12 digits."


def test_unknown_province_is_accepted_with_a_warning(reception):
    response = reception.get("/api/identifiers/citizen-id/003195012345")
    assert response.status_code == 200
    body = response.json()
    assert body["province_name"] is None
    assert [w["code"] for w in body["warnings"]] == ["citizen_id.unknown_province"]
    assert "003" in body["warnings"][0]["message"]


def test_crew_may_not_parse_identifiers(client_as):
    crew = client_as(Role.CREW)
    _problem(crew.get("/api/identifiers/citizen-id/001195012345"), 403, "access.forbidden")
    _problem(
        crew.post("/api/identifiers/cccd-qr", {"raw": EXAMPLE}, content_type="application/json"),
        403,
        "access.forbidden",
    )
    _problem(crew.get("/api/identifiers/bhyt/DN4010123456789"), 403, "access.forbidden")


def test_anonymous_callers_must_sign_in():
    anonymous = Client()
    _problem(anonymous.get("/api/identifiers/citizen-id/001195012345"), 401, "access.not_signed_in")
    _problem(
        anonymous.post(
            "/api/identifiers/cccd-qr", {"raw": EXAMPLE}, content_type="application/json"
        ),
        401,
        "access.not_signed_in",
    )
    _problem(anonymous.get("/api/identifiers/bhyt/DN4010123456789"), 401, "access.not_signed_in")


def _post_qr(client: Client, body: object, **headers: Any):
    return client.post(
        "/api/identifiers/cccd-qr", json.dumps(body), content_type="application/json", **headers
    )


def test_reads_the_qr_text_of_a_card(reception):
    response = _post_qr(reception, {"raw": EXAMPLE + "|extra one|\r\n"})
    assert response.status_code == 200
    body = response.json()
    assert body["citizen_id"]["number"] == "001195012345"
    assert body["citizen_id"]["birth_year"] == 1995
    assert (body["old_id"], body["old_id_kind"]) == (None, "none")
    assert body["full_name"] == "TRẦN THỊ MINH ANH"
    assert (body["date_of_birth"], body["issue_date"]) == ("1995-07-12", "2022-05-03")
    assert body["sex"] == "female"
    assert body["extra_fields"] == ["extra one", ""]
    assert body["id_consistent"] is True
    assert body["warnings"] == []


def test_reports_qr_warnings_in_the_callers_language(reception):
    raw = EXAMPLE.replace("|Nữ|", "|Nam|")
    vi = _post_qr(reception, {"raw": raw}).json()
    en = _post_qr(reception, {"raw": raw}, HTTP_ACCEPT_LANGUAGE="en").json()
    assert vi["id_consistent"] is False
    assert vi["warnings"][0]["code"] == en["warnings"][0]["code"] == "citizen_id.sex_mismatch"
    assert "nữ" in vi["warnings"][0]["message"]
    assert "female" in en["warnings"][0]["message"]


def test_garbage_qr_is_a_problem_with_a_stable_code(reception):
    body = _problem(_post_qr(reception, {"raw": "hello|world"}), 400, "cccd_qr.too_few_fields")
    assert body["message_en"].startswith("The QR text has 2 fields")
    en = _problem(
        _post_qr(
            reception, {"raw": EXAMPLE.replace("12071995", "31021995")}, HTTP_ACCEPT_LANGUAGE="en"
        ),
        400,
        "cccd_qr.bad_date",
    )
    assert en["field"] == "date_of_birth"
    assert en["detail"].startswith("The date of birth")


@pytest.mark.parametrize("body", [{}, {"raw": 7}, {"text": EXAMPLE}, []])
def test_a_qr_request_without_raw_text_is_unprocessable(reception, body):
    _problem(_post_qr(reception, body), 422, "request.invalid")


def test_a_qr_request_that_is_not_json_is_malformed(reception):
    response = reception.post("/api/identifiers/cccd-qr", "{raw:", content_type="application/json")
    _problem(response, 400, "request.malformed_body")


def test_reads_a_bhyt_code(reception):
    response = reception.get("/api/identifiers/bhyt/dn4010123456789", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.json() == {
        "form": "full_code",
        "code": "DN4010123456789",
        "social_insurance_number": "0123456789",
        "group": {
            "code": "DN",
            "level": 4,
            "meaning": "Employee of an enterprise",
            "verified": True,
        },
        "card_level": 4,
        "group_level": 4,
        "province_code": "01",
        "nominal_benefit_percent": 80,
        "warnings": [],
    }


def test_reads_a_bare_bhxh_number(reception):
    body = reception.get("/api/identifiers/bhyt/7912058865").json()
    assert (body["form"], body["group"], body["card_level"]) == ("bhxh_number", None, None)


def test_garbage_bhyt_code_is_a_problem(reception):
    body = _problem(
        reception.get("/api/identifiers/bhyt/XX4010123456789"), 400, "bhyt.unknown_group"
    )
    assert "XX" in body["detail"]
    assert body["detail"] == body["message_vi"]
    _problem(reception.get("/api/identifiers/bhyt/nonsense"), 400, "bhyt.bad_format")
