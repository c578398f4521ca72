from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, identify_hasher
from django.test import override_settings

from cityhealth import settings as product_settings
from cityhealth.accounts.models import ApiClient, Membership, User
from cityhealth.accounts.selectors import authenticate_api_token
from cityhealth.accounts.services import (
    create_staff_user,
    ensure_demo_accounts,
    grant_role,
    issue_api_token,
    revoke_api_token,
)
from cityhealth.core import clock
from cityhealth.core.errors import InvalidInput
from cityhealth.core.models import AuditEntry
from cityhealth.core.roles import Permission, Role

pytestmark = pytest.mark.django_db


def test_passwords_are_hashed_with_argon2():
    # The suite hashes at a lower cost (cityhealth.testing): this test uses the product's own
    # hashers, and the stored hash carries the product's cost.
    with override_settings(PASSWORD_HASHERS=product_settings.PASSWORD_HASHERS):
        user = create_staff_user(username="lan", password="a-long-password-1")
        hasher = identify_hasher(user.password)
        assert type(hasher) is Argon2PasswordHasher
        assert not hasher.must_update(user.password)
        assert user.check_password("a-long-password-1")
        assert not user.check_password("a-long-password-2")


def test_username_taken_is_a_domain_error():
    create_staff_user(username="lan", password="a-long-password-1")
    with pytest.raises(InvalidInput) as error:
        create_staff_user(username="lan", password="another-password-2")
    assert error.value.code == "account.username_taken"


def test_roles_grant_permissions_and_admin_flags():
    user = create_staff_user(username="minh", password="a-long-password-1")
    assert not user.has_permission(Permission.VIEW_FACILITIES)
    grant_role(user=user, role=Role.CASHIER)
    assert user.has_permission(Permission.VIEW_FACILITIES)
    assert not user.has_permission(Permission.USE_ADMIN)
    assert not user.is_staff
    grant_role(user=user, role=Role.ADMIN)
    user = User.objects.get(pk=user.pk)
    assert user.is_staff
    assert user.is_superuser
    assert user.has_permission(Permission.USE_ADMIN)
    assert AuditEntry.objects.filter(action="account.role_granted").count() == 2


def test_inactive_user_has_no_permission():
    user = create_staff_user(username="ha", password="a-long-password-1")
    grant_role(user=user, role=Role.ADMIN)
    assert user.has_permission(Permission.VIEW_FACILITIES)
    user.is_active = False
    assert not user.has_permission(Permission.VIEW_FACILITIES)


def test_granting_twice_keeps_one_membership():
    user = create_staff_user(username="tu", password="a-long-password-1")
    grant_role(user=user, role=Role.MANAGER)
    grant_role(user=user, role=Role.MANAGER)
    assert Membership.objects.filter(user=user).count() == 1


def test_api_token_round_trip_and_revocation():
    client = ApiClient.objects.create(name="his", scopes=[str(Permission.VIEW_FACILITIES)])
    issued = issue_api_token(client=client, label="test")
    assert issued.raw.startswith("chk_")
    assert issued.token.secret_hash not in issued.raw  # only the hash is stored
    found = authenticate_api_token(issued.raw)
    assert found == issued.token
    assert found.has_permission(Permission.VIEW_FACILITIES)
    assert not found.has_permission(Permission.USE_ADMIN)
    key, secret = issued.raw.split("_")[1:]
    assert authenticate_api_token(f"chk_{key}_{secret}x") is None
    assert authenticate_api_token("garbage") is None
    assert authenticate_api_token("chk__") is None
    revoke_api_token(token=issued.token)
    assert authenticate_api_token(issued.raw) is None


def test_expired_and_inactive_client_tokens_are_refused():
    client = ApiClient.objects.create(name="bank")
    soon = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    issued = issue_api_token(client=client, expires_at=soon)
    with clock.frozen_at(soon - dt.timedelta(seconds=1)):
        assert authenticate_api_token(issued.raw) is not None
    with clock.frozen_at(soon):
        assert authenticate_api_token(issued.raw) is None
    fresh = issue_api_token(client=client)
    client.is_active = False
    client.save()
    assert authenticate_api_token(fresh.raw) is None


def test_demo_accounts_cover_every_role_and_are_idempotent():
    first = ensure_demo_accounts(password="demo-password-1", facility_of_role={})
    second = ensure_demo_accounts(password="demo-password-1", facility_of_role={})
    assert {a.role for a in first} == set(Role)
    assert first == second
    assert User.objects.filter(username__startswith="demo-").count() == len(Role)
    assert Membership.objects.count() == len(Role)
    assert User.objects.get(username="demo-ed-staff").check_password("demo-password-1")
