"""Reads of accounts: who holds which role, and which API client a token belongs to."""

from __future__ import annotations

import hashlib
import hmac

from cityhealth.accounts.models import ApiClient, ApiToken, User
from cityhealth.core import clock
from cityhealth.core.roles import Role

TOKEN_PREFIX = "chk"  # noqa: S105 — a label in front of every token, not a secret


def hash_secret(secret: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(secret.encode()).hexdigest()


def authenticate_api_token(raw: str) -> ApiToken | None:
    """The live token for `raw` ("chk_<key id>_<secret>"), or None for anything else."""
    parts = raw.strip().split("_")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    try:
        # key_id is unique: get() needs no ORDER BY, unlike first(). Every device request
        # passes here, so the query is kept to one indexed lookup with the client joined.
        token = ApiToken.objects.select_related("client", "client__facility").get(
            key_id=parts[1], revoked_at__isnull=True, client__is_active=True
        )
    except ApiToken.DoesNotExist:
        return None
    if not hmac.compare_digest(token.secret_hash, hash_secret(parts[2])):
        return None
    if token.expires_at is not None and token.expires_at <= clock.now():
        return None
    return token


def authenticate_client(client_id: str, secret: str) -> ApiClient | None:
    """The active OAuth2 client with these credentials, or None."""
    client = (
        ApiClient.objects.select_related("facility")
        .filter(client_id=client_id, is_active=True)
        .exclude(secret_hash="")
        .first()
    )
    if client is None or not hmac.compare_digest(client.secret_hash, hash_secret(secret)):
        return None
    return client


def facility_codes_of(user: User) -> list[str]:
    """The codes of the facilities where the user holds a role, in the order granted."""
    return list(
        user.memberships.filter(facility__isnull=False)
        .order_by("id")
        .values_list("facility__code", flat=True)
    )


def roles_of(user: User) -> frozenset[Role]:
    return user.roles


def actor_of(principal: object) -> str:
    """The audit log's name for a caller: "user:12", "client:3" or "anonymous"."""
    if isinstance(principal, ApiToken):
        return f"client:{principal.client_id}"
    if isinstance(principal, User) and principal.pk is not None:
        return f"user:{principal.pk}"
    return "anonymous"


def resident_of(principal: object) -> int | None:
    """The person a resident's client is bound to (`ApiClient.person_id`); None for staff
    and for any other client."""
    if isinstance(principal, ApiToken):
        return principal.client.person_id
    return None


def actor_label_of(principal: object) -> str:
    """A readable name for the same caller, shown beside the audit entry."""
    if isinstance(principal, ApiToken):
        return str(principal.client)
    if isinstance(principal, User):
        return str(principal)
    return ""


def acts_at(principal: object, facility_id: int) -> bool:
    """Whether the caller works for the facility: a staff member holding a role there or
    city-wide, or an API client of that facility (or of none: a city-wide system)."""
    scope = facilities_acted_for(principal)
    return scope is None or facility_id in scope


def facilities_acted_for(principal: object) -> frozenset[int] | None:
    """The ids of the facilities the caller works for (`acts_at`); None: every facility (a
    city-wide role or system). Nobody signed in works for none."""
    if isinstance(principal, ApiToken):
        facility_id = principal.client.facility_id
        return None if facility_id is None else frozenset({facility_id})
    if isinstance(principal, User) and principal.pk is not None:
        ids = set(principal.memberships.values_list("facility_id", flat=True))
        return None if None in ids else frozenset(i for i in ids if i is not None)
    return frozenset()


def staff_identity(principal: object) -> tuple[str, str]:
    """(name, 12-digit citizen ID) of the member of staff behind a request, as the insurance
    gateway wants them with each lookup; a system client gives its name and no ID."""
    if isinstance(principal, User):
        return (principal.full_name or principal.get_username(), principal.citizen_id)
    if isinstance(principal, ApiToken):
        return (principal.client.name, "")
    return ("", "")
