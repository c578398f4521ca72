"""The JSON API: one Django Ninja instance at /api/, each app adding its router.

Every error leaves as RFC 9457 problem+json with a stable `code`; nothing escapes as a 500
page, not even a bug (which is logged and answered with code `internal_error`).
"""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError, connection, transaction
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from cityhealth.accounts.api import router as accounts_router
from cityhealth.accounts.auth import API_AUTH
from cityhealth.core.access import page_requires
from cityhealth.core.api import router as core_router
from cityhealth.core.errors import DomainError
from cityhealth.core.problems import bilingual, domain_error_response, problem_response
from cityhealth.core.roles import Permission
from cityhealth.emergency.api import router as emergency_router
from cityhealth.emergency.hospital_api import router as emergency_hospital_router
from cityhealth.emergency.location_api import router as emergency_location_router
from cityhealth.emergency.moveup_api import router as emergency_moveup_router
from cityhealth.facilities.api import router as facilities_router
from cityhealth.fhir.api import router as fhir_router
from cityhealth.fhir.outcome import domain_error_outcome, outcome_response
from cityhealth.geo.api import router as geo_router
from cityhealth.people.api import router as people_router
from cityhealth.reception.api import router as reception_router

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="cityhealth API",
    version="1",
    description="JSON API of the city's health platform. Errors are RFC 9457 problem+json.",
    auth=API_AUTH,
    urls_namespace="api",
    docs_url="/docs",
    docs_decorator=page_requires(Permission.VIEW_API_DOCS),
)

api.add_router("/identifiers", core_router, tags=["identifiers"])
api.add_router("/geo", geo_router, tags=["geography"])
api.add_router("/facilities", facilities_router, tags=["facilities"])
api.add_router("/accounts", accounts_router, tags=["accounts"])
api.add_router("/people", people_router, tags=["people"])
api.add_router("/emergency", emergency_router, tags=["115 emergency"])
api.add_router("/emergency", emergency_location_router, tags=["115 emergency"])
api.add_router("/emergency", emergency_moveup_router, tags=["115 emergency"])
api.add_router("/emergency", emergency_hospital_router, tags=["115 emergency"])
api.add_router("/reception", reception_router, tags=["reception"])


def _roll_back_request() -> None:
    # The request runs in one transaction (ATOMIC_REQUESTS). An error answered with a response
    # would otherwise commit whatever the failed use case had written before it failed.
    if connection.in_atomic_block:
        transaction.set_rollback(True)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    _roll_back_request()
    return domain_error_response(request, exc)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {
            "location": ".".join(str(part) for part in error.get("loc", ())),
            "message": error.get("msg", ""),
            "type": error.get("type", ""),
        }
        for error in exc.errors
    ]
    return problem_response(
        request,
        status=422,
        code="request.invalid",
        title="Invalid request",
        detail=bilingual(
            "Dữ liệu gửi lên không hợp lệ; xem danh sách lỗi.",
            "The request data is not valid; see the list of errors.",
        ),
        extra={"errors": errors},
    )


@api.exception_handler(AuthenticationError)
def _authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = problem_response(
        request,
        status=401,
        code="access.not_signed_in",
        title="Authentication required",
        detail=bilingual(
            "Cần đăng nhập hoặc mã truy cập (Bearer token) hợp lệ.",
            "Sign in or send a valid bearer token.",
        ),
    )
    response["WWW-Authenticate"] = 'Bearer realm="cityhealth"'
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        return problem_response(
            request,
            status=400,
            code="request.malformed_body",
            title="Malformed request body",
            detail=bilingual(
                "Không đọc được nội dung gửi lên (JSON sai cú pháp?).",
                "The request body could not be read (malformed JSON?).",
            ),
        )
    return problem_response(
        request,
        status=exc.status_code,
        code=f"http.{exc.status_code}",
        title=str(exc),
        detail=str(exc),
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem_response(
        request,
        status=404,
        code="not_found",
        title="Not found",
        detail=bilingual("Không tìm thấy.", "Not found."),
    )


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def _database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    """The database went away mid-request (a restart, a failover): the request's transaction
    is lost whole, so nothing of it was saved, and the same request may simply be sent again
    (the pool hands the next one a new connection)."""
    logger.warning("database unavailable in %s %s: %s", request.method, request.path, exc)
    _roll_back_request()
    response = problem_response(
        request,
        status=503,
        code="database_unavailable",
        title="Service unavailable",
        detail=bilingual(
            "Cơ sở dữ liệu tạm thời không phản hồi; yêu cầu chưa được lưu. Vui lòng gửi lại.",
            "The database did not answer for a moment; the request was not saved. Please "
            "send it again.",
        ),
    )
    response["Retry-After"] = "2"
    return response


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("unhandled error in %s %s", request.method, request.path)
    _roll_back_request()
    return problem_response(
        request,
        status=500,
        code="internal_error",
        title="Internal error",
        detail=bilingual(
            "Hệ thống gặp lỗi; dữ liệu đã lưu không bị mất. Vui lòng thử lại.",
            "The system hit an error; nothing saved was lost. Please try again.",
        ),
    )


# --- the FHIR API (/fhir/R4/): its own answers, OperationOutcome for every error -------------

fhir_api = NinjaAPI(
    title="cityhealth FHIR R4",
    version="R4",
    urls_namespace="fhir",
    auth=API_AUTH,
    docs_url=None,
    openapi_url=None,
)
fhir_api.add_router("", fhir_router)


@fhir_api.exception_handler(DomainError)
def _fhir_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    _roll_back_request()
    return domain_error_outcome(request, exc)


@fhir_api.exception_handler(AuthenticationError)
def _fhir_not_signed_in(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = outcome_response(
        status=401,
        diagnostics="Cần mã truy cập (Bearer token) hợp lệ. / A valid bearer token is needed.",
        code="access.not_signed_in",
    )
    response["WWW-Authenticate"] = 'Bearer realm="cityhealth-fhir"'
    return response


@fhir_api.exception_handler(ValidationError)
def _fhir_bad_request(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return outcome_response(status=400, diagnostics=str(exc.errors)[:500], code="request.invalid")


@fhir_api.exception_handler(HttpError)
def _fhir_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return outcome_response(status=exc.status_code, diagnostics=str(exc), code="request.http")
