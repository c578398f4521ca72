"""Authentication of API callers: bearer tokens of API clients, or a staff session."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from cityhealth.accounts.models import ApiClient, ApiToken
from cityhealth.accounts.selectors import authenticate_api_token
from cityhealth.core import clock

LAST_USED_PRECISION = timedelta(minutes=1)
# Live tokens this process has checked: raw token → (monotonic deadline, token with its
# client). A hospital system sends the same token on every request for an hour; looking it
# up each time cost a query (and its ORM compilation) per request, about as much as the
# read it authorizes. Expiry is checked on every use; a revocation or a deactivated client
# saved in this process clears the cache at once, one saved in another process is honoured
# within CITYHEALTH_TOKEN_CACHE_SECONDS (0: no cache).
_live_tokens: dict[str, tuple[float, ApiToken]] = {}
_MAX_CACHED = 10_000


def _forget_tokens(**_: Any) -> None:
    _live_tokens.clear()


for _model in (ApiToken, ApiClient):
    post_save.connect(_forget_tokens, sender=_model, dispatch_uid=f"forget-tokens-{_model}")
    post_delete.connect(_forget_tokens, sender=_model, dispatch_uid=f"forget-tokens-d-{_model}")


def live_token(raw: str) -> ApiToken | None:
    """`authenticate_api_token`, remembered for a few seconds (see `_live_tokens`)."""
    cached = _live_tokens.get(raw)
    if cached is not None and cached[0] > time.monotonic():
        token = cached[1]
        if token.expires_at is None or token.expires_at > clock.now():
            return token
        _live_tokens.pop(raw, None)
        return None
    found = authenticate_api_token(raw)
    seconds = getattr(settings, "CITYHEALTH_TOKEN_CACHE_SECONDS", 0)
    if found is not None and seconds > 0:
        if len(_live_tokens) >= _MAX_CACHED:
            _live_tokens.clear()
        _live_tokens[raw] = (time.monotonic() + seconds, found)
    return found


class ApiTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = live_token(token)
        now = clock.now()
        # "Last used" to the minute is enough to spot a dead or a leaked token; writing it on
        # every request would cost a write per position a crew's device sends.
        if found is not None and (
            found.last_used_at is None or now - found.last_used_at > LAST_USED_PRECISION
        ):
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
            found.last_used_at = now
        return found


class StaffSessionAuth(SessionAuth):
    """A signed-in staff member's browser session (CSRF-checked on unsafe methods)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if request.user.is_authenticated and request.user.is_active:
            return request.user
        return None


API_AUTH = [ApiTokenAuth(), StaffSessionAuth()]
