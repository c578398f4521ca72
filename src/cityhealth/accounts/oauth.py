"""The OAuth2 token endpoint (RFC 6749 §4.4, client credentials) at POST /oauth/token.

A hospital system authenticates with its client id and secret (HTTP Basic, or the form
fields `client_id` and `client_secret`) and receives a short-lived bearer token whose scope is
what it asked for narrowed to what the client holds. Errors are RFC 6749 §5.2 JSON.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import timedelta
from typing import Any
from urllib.parse import unquote_plus

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cityhealth.accounts.models import ApiClient
from cityhealth.accounts.selectors import authenticate_client
from cityhealth.accounts.services import issue_api_token
from cityhealth.accounts.types import GRANT_TYPES, grant
from cityhealth.core import clock

DEFAULT_LIFETIME_SECONDS = 3600


def token_lifetime() -> timedelta:
    return timedelta(
        seconds=getattr(settings, "CITYHEALTH_ACCESS_TOKEN_SECONDS", DEFAULT_LIFETIME_SECONDS)
    )


def _answer(body: dict[str, Any], *, status: int = 200) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    # RFC 6749 §5.1: token responses must not be cached.
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def _error(code: str, description: str, *, status: int = 400) -> HttpResponse:
    response = _answer({"error": code, "error_description": description}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="cityhealth"'
    return response


def _basic_credentials(request: HttpRequest) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    # RFC 6749 §2.3.1: both parts are form-urlencoded before they are joined.
    return (unquote_plus(client_id), unquote_plus(secret)) if sep else None


def _client(request: HttpRequest) -> ApiClient | None:
    credentials = _basic_credentials(request) or (
        request.POST.get("client_id", ""),
        request.POST.get("client_secret", ""),
    )
    if not all(credentials):
        return None
    return authenticate_client(*credentials)


@csrf_exempt
@require_POST
def token_endpoint(request: HttpRequest) -> HttpResponse:
    grant_type = request.POST.get("grant_type", "")
    if grant_type not in GRANT_TYPES:
        return _error(
            "unsupported_grant_type",
            "Only grant_type=client_credentials is supported. / Chỉ hỗ trợ client_credentials.",
        )
    client = _client(request)
    if client is None:
        return _error(
            "invalid_client",
            "Unknown client or wrong secret. / Sai mã ứng dụng hoặc khoá bí mật.",
            status=401,
        )
    requested = request.POST.get("scope", "").split()
    scopes = grant(requested, client.scopes) if requested else list(client.scopes)
    if not scopes:
        return _error(
            "invalid_scope",
            "None of the requested scopes is granted to this client. / "
            "Ứng dụng không được cấp phạm vi quyền nào đã yêu cầu.",
        )
    lifetime = token_lifetime()
    issued = issue_api_token(
        client=client, label="oauth", expires_at=clock.now() + lifetime, scopes=scopes
    )
    body: dict[str, Any] = {
        "access_token": issued.raw,
        "token_type": "Bearer",
        "expires_in": int(lifetime.total_seconds()),
        "scope": " ".join(scopes),
    }
    if client.person_id is not None:  # SMART launch context: whose record the token opens
        body["patient"] = str(client.person_id)
    return _answer(body)
