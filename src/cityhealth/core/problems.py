"""RFC 9457 problem details for the JSON API, in the caller's language."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import translation

from cityhealth.core.errors import DomainError

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_response(
    request: HttpRequest,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": f"urn:cityhealth:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.path,
    }
    if extra:
        body.update(extra)
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_CONTENT_TYPE
    )
    response["Content-Language"] = translation.get_language() or "vi"
    return response


def domain_error_response(request: HttpRequest, error: DomainError) -> HttpResponse:
    extra: dict[str, Any] = {"message_vi": error.message_vi, "message_en": error.message_en}
    if error.field:
        extra["field"] = error.field
    if error.params:
        extra["params"] = {key: str(value) for key, value in error.params.items()}
    response = problem_response(
        request,
        status=error.status_code,
        code=error.code,
        title=error.title,
        detail=error.message(translation.get_language()),
        extra=extra,
    )
    if error.status_code == 401:
        response["WWW-Authenticate"] = 'Bearer realm="cityhealth"'
    return response


def bilingual(vi: str, en: str) -> str:
    language = translation.get_language() or "vi"
    return en if language.startswith("en") else vi
