"""Fixtures shared by every test (registered as a pytest plugin by the root conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from cityhealth.accounts.models import User
from cityhealth.accounts.services import create_staff_user, grant_role
from cityhealth.core.roles import Role

TEST_PASSWORD = "correct-horse-battery-9"  # noqa: S105 — test accounts only


@pytest.fixture
def make_staff(db: None) -> Callable[..., User]:
    """make_staff(Role.CASHIER) → a saved user holding that role city-wide."""
    counter = {"n": 0}

    def make(*roles: Role, username: str | None = None) -> User:
        counter["n"] += 1
        user = create_staff_user(
            username=username or f"staff{counter['n']}", password=TEST_PASSWORD
        )
        for role in roles:
            grant_role(user=user, role=role)
        return user

    return make


@pytest.fixture
def client_as(make_staff: Callable[..., User]) -> Callable[..., Client]:
    """client_as(Role.ADMIN) → a test client signed in as a new user with that role."""

    def signed_in(*roles: Role) -> Client:
        client = Client()
        client.force_login(make_staff(*roles))
        return client

    return signed_in
