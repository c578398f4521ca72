"""Every error of the FHIR API is an OperationOutcome with a clear diagnostic (in the
caller's language: Vietnamese unless English is asked for) and the element it is about."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language

from cityhealth.core import exactjson
from cityhealth.core.errors import DomainError
from cityhealth.records.errors import in_language

FHIR_JSON = "application/fhir+json; charset=utf-8"
# The OperationOutcome issue code for an HTTP status (R4 issue-type value set).
_ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found",
                405: "not-supported", 406: "not-supported", 409: "conflict", 410: "deleted",
                412: "conflict", 415: "not-supported", 422: "processing"}  # fmt: skip


def fhir_response(body: Any, *, status: int = 200) -> HttpResponse:
    """`body` (a resource, or an `orjson.Fragment` of stored JSON text) as FHIR JSON."""
    return HttpResponse(
        exactjson.dumps(body),  # a decimal goes back as it came: 1.50, not 1.5
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
    language = request.headers.get("Accept-Language") or get_language()
    return fhir_response(error_outcome(error, language=language), status=error.status_code)


def error_outcome(error: DomainError, *, language: str | None, at: str = "") -> dict[str, Any]:
    """The OperationOutcome of an error; `at` prefixes the elements it names (a Bundle's
    entry, e.g. `Bundle.entry[2].resource`)."""

    def where(path: str | None) -> dict[str, Any]:
        if path and at.endswith(".resource") and path[:1].isupper():
            path = path.partition(".")[2]  # "Observation.status" within the entry's resource
        full = ".".join(part for part in (at, path) if part)
        return {"expression": [full]} if full else {}

    issues = getattr(error, "issues", None)
    if issues:  # a resource refused element by element
        return {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "error",
                    "code": "invalid",
                    "details": {"coding": [{"system": "urn:cityhealth:error", "code": error.code}]},
                    "diagnostics": in_language(message, language),
                    **where(path),
                }
                for path, message in issues
            ],
        }
    issue: dict[str, Any] = {
        "severity": "error",
        "code": _ISSUE_CODES.get(error.status_code, "exception"),
        "details": {"coding": [{"system": "urn:cityhealth:error", "code": error.code}]},
        "diagnostics": error.message(language),
        **where(error.field),
    }
    return {"resourceType": "OperationOutcome", "issue": [issue]}
