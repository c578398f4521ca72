"""Authentication of API callers: bearer tokens of API clients, or a staff session."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from cityhealth.accounts.models import ApiToken
from cityhealth.accounts.selectors import authenticate_api_token
from cityhealth.core import clock


class ApiTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = authenticate_api_token(token)
        if found is not None:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=clock.now())
        return found


class StaffSessionAuth(SessionAuth):
    """A signed-in staff member's browser session (CSRF-checked on unsafe methods)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if request.user.is_authenticated and request.user.is_active:
            return request.user
        return None


API_AUTH = [ApiTokenAuth(), StaffSessionAuth()]
