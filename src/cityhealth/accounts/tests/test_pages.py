from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from cityhealth.core.models import AuditEntry
from cityhealth.core.roles import Role
from cityhealth.testing import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def test_sign_in_and_out(make_staff):
    make_staff(Role.RECEPTIONIST, username="thu")
    client = Client()
    page = client.get(reverse("accounts:login"))
    assert page.status_code == 200
    assert "Đăng nhập" in page.content.decode()
    response = client.post(
        reverse("accounts:login"), {"username": "thu", "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
    assert AuditEntry.objects.filter(action="account.signed_in").count() == 1
    home = client.get(reverse("web:home"))
    assert "thu" in home.content.decode()
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("web:audit_log")).status_code == 302


def test_wrong_password_is_refused_and_audited(make_staff):
    make_staff(Role.CASHIER, username="an")
    response = Client().post(reverse("accounts:login"), {"username": "an", "password": "nope"})
    assert response.status_code == 200
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.content.decode()
    assert AuditEntry.objects.filter(action="account.sign_in_failed", target_id="an").exists()


def test_english_switch(make_staff):
    client = Client()
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert "Sign in" in client.get(reverse("accounts:login")).content.decode()
