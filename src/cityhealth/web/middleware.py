"""Middleware of the shell: the language of pages, and domain errors as readable pages."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_vary_headers

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


class VietnameseFirstLocaleMiddleware:
    """Pages speak Vietnamese unless the person picked English (the language cookie).

    A hospital kiosk or a ward PC often runs a browser set to English; its Accept-Language
    says nothing about the person in front of it. The JSON API, used by other systems, does
    honour Accept-Language.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = self._language_for(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ["Accept-Language", "Cookie"])
        return response

    @staticmethod
    def _language_for(request: HttpRequest) -> str:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if chosen and translation.check_for_language(chosen):
            return translation.get_supported_language_variant(chosen)
        if request.path.startswith("/api/"):
            return translation.get_language_from_request(request)
        return str(settings.LANGUAGE_CODE)
