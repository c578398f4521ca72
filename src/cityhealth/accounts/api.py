"""JSON API of accounts: who am I."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from cityhealth.accounts.models import ApiToken, User
from cityhealth.core.access import api_principal
from cityhealth.core.roles import permissions_of

router = Router()


class MembershipOut(Schema):
    role: str
    facility_code: str | None


class WhoAmIOut(Schema):
    kind: str  # "staff" or "api_client"
    name: str
    roles: list[MembershipOut]
    permissions: list[str]


@router.get("/me", response=WhoAmIOut, summary="Who is calling")
def who_am_i(request: HttpRequest) -> WhoAmIOut:
    principal = api_principal(request)
    if isinstance(principal, ApiToken):
        return WhoAmIOut(
            kind="api_client",
            name=principal.client.name,
            roles=[],
            permissions=sorted(principal.client.scopes),
        )
    assert isinstance(principal, User)
    memberships = principal.memberships.select_related("facility").order_by("role")
    return WhoAmIOut(
        kind="staff",
        name=str(principal),
        roles=[
            MembershipOut(role=m.role, facility_code=m.facility.code if m.facility else None)
            for m in memberships
        ],
        permissions=sorted(permissions_of(principal.roles)),
    )
