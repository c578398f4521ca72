"""Writes of accounts: staff users, role grants, API clients and tokens, demo accounts."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from cityhealth.accounts.models import ApiClient, ApiToken, Membership, User
from cityhealth.accounts.selectors import TOKEN_PREFIX, hash_secret
from cityhealth.accounts.types import is_known_scope, smart_scopes
from cityhealth.core import clock
from cityhealth.core.audit import record_audit
from cityhealth.core.errors import InvalidInput
from cityhealth.core.roles import Role
from cityhealth.facilities.models import Facility


def sync_admin_flags(user: User) -> None:
    # The Django admin keys off is_staff/is_superuser; the role is the source of truth.
    is_admin = user.memberships.filter(role=Role.ADMIN).exists()
    if user.is_staff != is_admin or user.is_superuser != is_admin:
        user.is_staff = is_admin
        user.is_superuser = is_admin
        user.save(update_fields=["is_staff", "is_superuser"])


def create_staff_user(
    *, username: str, password: str, full_name: str = "", citizen_id: str = ""
) -> User:
    if User.objects.filter(username=username).exists():
        raise InvalidInput(
            "account.username_taken",
            vi=f"Tên đăng nhập {username!r} đã có người dùng.",
            en=f"The username {username!r} is taken.",
            field="username",
        )
    user = User(username=username, full_name=full_name, citizen_id=citizen_id)
    user.set_password(password)
    user.save()
    return user


def grant_role(
    *, user: User, role: Role, facility: Facility | None = None, granted_by: str = "system"
) -> Membership:
    membership, created = Membership.objects.get_or_create(user=user, role=role, facility=facility)
    if created:
        record_audit(
            actor=granted_by,
            action="account.role_granted",
            target_type="user",
            target_id=user.pk,
            facility_code=facility.code if facility else "",
            details={"role": str(role)},
        )
    sync_admin_flags(user)
    user.__dict__.pop("_roles_cache", None)
    return membership


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    raw: str  # shown once; only its hash is stored


def issue_api_token(
    *,
    client: ApiClient,
    label: str = "",
    expires_at: datetime | None = None,
    scopes: list[str] | None = None,
) -> IssuedToken:
    """A new token of `client`; `scopes` None means whatever the client holds."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32).replace("_", "-")
    token = ApiToken.objects.create(
        client=client,
        key_id=key_id,
        secret_hash=hash_secret(secret),
        label=label,
        expires_at=expires_at,
        scopes=scopes,
    )
    record_audit(
        actor="system",
        action="api_token.issued",
        target_type="api_client",
        target_id=client.pk,
        details={"key_id": key_id, "label": label},
    )
    return IssuedToken(token=token, raw=f"{TOKEN_PREFIX}_{key_id}_{secret}")


@dataclass(frozen=True)
class ClientCredentials:
    client: ApiClient
    client_id: str
    secret: str  # shown once; only its hash is stored


def create_api_client(
    *,
    name: str,
    scopes: list[str],
    facility: Facility | None = None,
    person_id: int | None = None,
    created_by: str = "system",
) -> ClientCredentials:
    """An OAuth2 client (client credentials grant). Called again with the name of an existing
    client, it gives that client a new secret (the old one stops working) and these scopes."""
    unknown = [scope for scope in scopes if not is_known_scope(scope)]
    if unknown:
        raise InvalidInput(
            "api_client.unknown_scope",
            vi=f"Phạm vi quyền không hợp lệ: {', '.join(unknown)}.",
            en=f"Unknown scope(s): {', '.join(unknown)}.",
            field="scope",
        )
    contexts = {scope.context for scope in smart_scopes(scopes)}
    if contexts - ({"patient"} if person_id is not None else {"system", "user"}):
        raise InvalidInput(
            "api_client.scope_context",
            vi="Ứng dụng của một người dân chỉ có phạm vi patient/…; ứng dụng của hệ thống "
            "không có phạm vi patient/….",
            en="A resident's client holds only patient/… scopes; a system's client none.",
            field="scope",
        )
    client = ApiClient.objects.filter(name=name).first() or ApiClient(name=name)
    secret = secrets.token_urlsafe(32)
    client.client_id = client.client_id or secrets.token_hex(12)
    client.secret_hash = hash_secret(secret)
    client.scopes = list(dict.fromkeys(scopes))
    client.facility = facility
    client.person_id = person_id
    client.save()
    record_audit(
        actor=created_by,
        action="api_client.credentials_set",
        target_type="api_client",
        target_id=client.pk,
        facility_code=facility.code if facility else "",
        details={"client_id": client.client_id, "scopes": client.scopes, "person": person_id},
    )
    return ClientCredentials(client=client, client_id=client.client_id, secret=secret)


def revoke_api_token(*, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
        record_audit(
            actor="system",
            action="api_token.revoked",
            target_type="api_client",
            target_id=token.client_id,
            details={"key_id": token.key_id},
        )


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    facility_code: str


def ensure_demo_accounts(
    *, password: str, facility_of_role: Mapping[Role, Facility | None]
) -> list[DemoAccount]:
    """One account per role (`demo-<role>`), at the facility given for its role (None or absent:
    city-wide). Run again, it changes nothing but a changed password."""
    accounts: list[DemoAccount] = []
    for role in Role:
        username = f"demo-{role.value.replace('_', '-')}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = create_staff_user(
                username=username, password=password, full_name=f"Demo {role.label}"
            )
        elif not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        at = facility_of_role.get(role)
        grant_role(user=user, role=role, facility=at)
        accounts.append(DemoAccount(username, role, at.code if at else ""))
    return accounts
