"""Authentication of API callers: bearer tokens of API clients, or a staff session."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from cityhealth.accounts.models import ApiToken
from cityhealth.accounts.selectors import authenticate_api_token
from cityhealth.core import clock

LAST_USED_PRECISION = timedelta(minutes=1)


class ApiTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = authenticate_api_token(token)
        now = clock.now()
        # "Last used" to the minute is enough to spot a dead or a leaked token; writing it on
        # every request would cost a write per position a crew's device sends.
        if found is not None and (
            found.last_used_at is None or now - found.last_used_at > LAST_USED_PRECISION
        ):
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        return found


class StaffSessionAuth(SessionAuth):
    """A signed-in staff member's browser session (CSRF-checked on unsafe methods)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if request.user.is_authenticated and request.user.is_active:
            return request.user
        return None


API_AUTH = [ApiTokenAuth(), StaffSessionAuth()]
