"""Every error of the FHIR API is an OperationOutcome with a clear diagnostic (in the
caller's language: Vietnamese unless English is asked for) and the element it is about."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language

from cityhealth.core.errors import DomainError

FHIR_JSON = "application/fhir+json; charset=utf-8"
# The OperationOutcome issue code for an HTTP status (R4 issue-type value set).
_ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found",
                405: "not-supported", 409: "conflict", 410: "deleted", 412: "conflict",
                415: "not-supported", 422: "processing"}  # fmt: skip


def fhir_response(body: dict[str, Any], *, status: int = 200) -> HttpResponse:
    return HttpResponse(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type=FHIR_JSON,
    )


def outcome_response(
    *, status: int, diagnostics: str, code: str, expressions: list[str] | None = None
) -> HttpResponse:
    issue: dict[str, Any] = {
        "severity": "error",
        "code": _ISSUE_CODES.get(status, "exception"),
        "details": {"coding": [{"system": "urn:cityhealth:error", "code": code}]},
        "diagnostics": diagnostics,
    }
    if expressions:
        issue["expression"] = expressions
    return fhir_response({"resourceType": "OperationOutcome", "issue": [issue]}, status=status)


def domain_error_outcome(request: HttpRequest, error: DomainError) -> HttpResponse:
    issues = getattr(error, "issues", None)
    if issues:  # a resource refused element by element
        body = {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "error",
                    "code": "invalid",
                    "details": {"coding": [{"system": "urn:cityhealth:error", "code": error.code}]},
                    "diagnostics": message,
                    **({"expression": [path]} if path else {}),
                }
                for path, message in issues
            ],
        }
        return fhir_response(body, status=error.status_code)
    return outcome_response(
        status=error.status_code,
        diagnostics=error.message(request.headers.get("Accept-Language") or get_language()),
        code=error.code,
        expressions=[error.field] if error.field else None,
    )
