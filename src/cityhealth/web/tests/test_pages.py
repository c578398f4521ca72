from __future__ import annotations

import json

import pytest
from django.db import DatabaseError
from django.test import Client
from django.urls import reverse

from cityhealth.core.audit import record_audit
from cityhealth.core.roles import Role

pytestmark = pytest.mark.django_db


def test_healthz_checks_the_database(monkeypatch):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}

    def broken(*args, **kwargs):
        raise DatabaseError("server closed the connection")

    from django.db.backends.utils import CursorWrapper

    monkeypatch.setattr(CursorWrapper, "execute", broken)
    down = Client().get("/healthz")
    assert down.status_code == 503
    assert down.json()["database"] == "unreachable"


def test_home_shows_only_the_modules_of_the_role(client_as):
    crew_home = client_as(Role.CREW).get("/").content.decode()
    assert reverse("facilities:directory") in crew_home
    assert reverse("emergency:crew_units") in crew_home
    assert f'href="{reverse("emergency:dispatch_room")}"' not in crew_home
    assert reverse("web:audit_log") not in crew_home
    assert reverse("admin:index") not in crew_home
    admin_home = client_as(Role.ADMIN).get("/").content.decode()
    for name in ("facilities:directory", "web:audit_log", "admin:index"):
        assert reverse(name) in admin_home
    manager_home = client_as(Role.MANAGER).get("/").content.decode()
    assert reverse("web:audit_log") in manager_home
    assert reverse("admin:index") not in manager_home


def test_anonymous_home_is_a_welcome_page_in_vietnamese():
    body = Client().get("/").content.decode()
    assert 'lang="vi"' in body
    assert reverse("accounts:login") in body


def test_unknown_page_is_a_readable_404():
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Không tìm thấy" in body
    assert "not_found" in body


def test_audit_log_page_lists_and_verifies(client_as):
    record_audit(actor="user:1", action="person.read", target_type="person", target_id=7)
    client = client_as(Role.MANAGER)
    page = client.get(reverse("web:audit_log"), {"verify": "1"}).content.decode()
    assert "person.read" in page
    assert "nguyên vẹn" in page or "intact" in page


def test_api_errors_are_problem_json_in_the_callers_language(client_as):
    client = client_as(Role.ADMIN)
    response = client.get("/api/no-such-endpoint")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    anonymous = Client().get("/api/accounts/me")
    assert anonymous.status_code == 401
    body = anonymous.json()
    assert body["code"] == "access.not_signed_in"
    assert body["status"] == 401
    assert body["type"] == "urn:cityhealth:problem:access.not_signed_in"
    assert "đăng nhập" in body["detail"]
    english = Client().get("/api/accounts/me", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["detail"] == "Sign in or send a valid bearer token."
    assert anonymous["WWW-Authenticate"].startswith("Bearer")


def test_bearer_token_identifies_an_api_client(db):
    from cityhealth.accounts.models import ApiClient
    from cityhealth.accounts.services import issue_api_token

    client = ApiClient.objects.create(name="his-xanh-pon", scopes=["view_facilities"])
    raw = issue_api_token(client=client).raw
    response = Client().get("/api/accounts/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert response.json() == {
        "kind": "api_client",
        "name": "his-xanh-pon",
        "roles": [],
        "permissions": ["view_facilities"],
    }
    wrong = Client().get("/api/accounts/me", HTTP_AUTHORIZATION="Bearer chk_nope_nope")
    assert wrong.status_code == 401


def test_staff_session_me(client_as):
    response = client_as(Role.CASHIER).get("/api/accounts/me")
    assert response.status_code == 200
    data = response.json()
    assert data["kind"] == "staff"
    assert data["roles"] == [{"role": "cashier", "facility_code": None}]
    assert "view_facilities" in data["permissions"]


def test_openapi_schema_is_served(client_as):
    response = client_as(Role.CLINICIAN).get("/api/openapi.json")
    assert response.status_code == 200
    assert json.loads(response.content)["info"]["title"] == "cityhealth API"


def test_pages_are_vietnamese_even_for_an_english_browser():
    client = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    body = client.get(reverse("accounts:login")).content.decode()
    assert "Đăng nhập" in body
    assert 'lang="vi"' in body
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Sign in" in client.get(reverse("accounts:login")).content.decode()
    client.post(reverse("set_language"), {"language": "vi", "next": "/"})
    assert "Đăng nhập" in client.get(reverse("accounts:login")).content.decode()
