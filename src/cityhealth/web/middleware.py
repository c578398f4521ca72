"""Turns a domain error raised by a page into a readable page, never a 500."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation

from cityhealth.core.errors import AuthenticationRequired, DomainError


class DomainErrorPageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError):
            return None
        # Nothing to roll back here: the exception already left the request's atomic block,
        # which undid whatever the failed use case had written.
        if isinstance(exception, AuthenticationRequired):
            return redirect_to_login(request.get_full_path())
        return render(
            request,
            "web/error.html",
            {
                "status": exception.status_code,
                "code": exception.code,
                "message": exception.message(translation.get_language()),
            },
            status=exception.status_code,
        )
