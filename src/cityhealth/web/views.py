"""Pages of the shell: home, health check, audit log, error pages."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cityhealth.core.access import page_requires
from cityhealth.core.audit import verify_chain
from cityhealth.core.models import AuditEntry
from cityhealth.core.problems import bilingual, problem_response
from cityhealth.core.roles import Permission
from cityhealth.web.modules import modules_for


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "web/welcome.html")
    return render(request, "web/home.html", {"modules": modules_for(request.user)})


@transaction.non_atomic_requests
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Load balancers and `make demo` poll this: 200 only when the database answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@require_GET
@page_requires(Permission.VIEW_AUDIT_LOG)
def audit_log(request: HttpRequest) -> HttpResponse:
    entries = AuditEntry.objects.order_by("-id")
    action = request.GET.get("action", "").strip()
    if action:
        entries = entries.filter(action__startswith=action)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    report = verify_chain() if request.GET.get("verify") == "1" else None
    return render(request, "web/audit_log.html", {"page": page, "action": action, "report": report})


def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, 400, "request.bad")


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, 403, "access.forbidden")


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, 404, "not_found")


def error_500(request: HttpRequest) -> HttpResponse:
    return _error_page(request, 500, "internal_error")


_ERROR_TEXT = {
    400: ("Yêu cầu không hợp lệ.", "The request is not valid."),
    403: ("Không được phép.", "Not allowed."),
    404: ("Không tìm thấy.", "Not found."),
    500: (
        "Hệ thống gặp lỗi; dữ liệu đã lưu không bị mất. Vui lòng thử lại.",
        "The system hit an error; nothing saved was lost. Please try again.",
    ),
}


def _error_page(request: HttpRequest, status: int, code: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        # Paths outside any endpoint still answer API callers in the API's error format.
        vi, en = _ERROR_TEXT[status]
        return problem_response(
            request, status=status, code=code, title=en, detail=bilingual(vi, en)
        )
    return render(request, "web/error.html", {"status": status, "code": code}, status=status)
