"""The FHIR API's most frequent requests, on a short path to the same views.

Hospital systems read resources (`GET {type}/{id}`, `…/_history/{vid}`) and search one type
(`GET {type}?…`) all day, with a bearer token. On Django's generic path such a request went
through the pages' whole middleware chain (sessions, CSRF, messages, static files), URL
resolution over every pattern of the site, django-ninja's operation machinery and the
request transaction (`BEGIN`/`COMMIT` round trips around statements that only read): more
CPU than the lookup itself.

Here such a request goes straight to the same view function, wrapped in the same content
negotiation, authenticated by the same bearer-token check, with errors answered by the same
OperationOutcome handlers, through only the middleware that shapes an API answer (security
headers, language, Content-Length, the access trail). It runs outside a transaction: a read
or a search is statements that only read (each sees committed data, as under READ COMMITTED
inside one), and the trail's row commits on its own, as it does on the generic path.

Anything else takes the generic path: other methods and routes, a request with a cookie (a
staff session: CSRF, the session's user), reads of a Patient (the registry audits them in its
own chain) and AuditEvent (the trail's own API). `fhir/tests/test_hot_path.py` sends the same
requests both ways and compares the answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse
from django.urls import ResolverMatch
from django.utils.log import log_response
from django.utils.module_loading import import_string
from ninja.errors import AuthenticationError

from cityhealth.accounts.auth import ApiTokenAuth
from cityhealth.api import _fhir_domain_error, _fhir_not_signed_in
from cityhealth.core.errors import DomainError
from cityhealth.fhir import instance_api, type_api
from cityhealth.fhir.negotiation import negotiated
from cityhealth.records.types import SUPPORTED_TYPES

# A FHIR id is [A-Za-z0-9\-\.]{1,64}: `_history`, `_search` and `$operation` never match it.
_ROUTE = re.compile(
    r"^/fhir/R4/(?P<resource_type>[A-Z][A-Za-z]{1,63})"
    r"(?:/(?P<logical_id>[A-Za-z0-9\-.]{1,64})(?:/_history/(?P<version_id>[0-9]{1,9}))?)?$"
)
# AuditEvents are the trail's own API; a Patient is read from the registry, which audits
# the read in its chain (a write): both take the generic path. Patients are searched in the
# store's projection like any type.
_ELSEWHERE = frozenset({"AuditEvent"})
_READ_ELSEWHERE = frozenset({"Patient"})
# The middleware of settings.MIDDLEWARE that shapes an API answer, outermost first.
MIDDLEWARE = (
    "django.middleware.security.SecurityMiddleware",
    "cityhealth.web.middleware.VietnameseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "cityhealth.fhir.trail.AccessTrailMiddleware",
)
_bearer = ApiTokenAuth()


@dataclass(frozen=True)
class Route:
    view: Callable[..., HttpResponse]
    url_name: str
    kwargs: dict[str, Any]


_VIEWS = {
    "search": negotiated(type_api.search_type),
    "read": negotiated(instance_api.read),
    "vread": negotiated(instance_api.vread),
}


def hot_route(scope: dict[str, Any]) -> Route | None:
    """The route of a request the short path serves, or None for the generic path."""
    if scope["method"] != "GET":
        return None
    matched = _ROUTE.match(scope["path"])
    if matched is None:
        return None
    resource_type = matched["resource_type"]
    if resource_type not in SUPPORTED_TYPES or resource_type in _ELSEWHERE:
        return None
    bearer = False
    for name, value in scope["headers"]:
        if name == b"cookie":
            return None
        if name == b"authorization":
            bearer = value[:7].lower() == b"bearer "
    if not bearer:
        return None
    if matched["logical_id"] is None:
        return Route(_VIEWS["search"], "search", {"resource_type": resource_type})
    if resource_type in _READ_ELSEWHERE:
        return None
    kwargs: dict[str, Any] = {"resource_type": resource_type, "logical_id": matched["logical_id"]}
    if matched["version_id"] is None:
        return Route(_VIEWS["read"], "read", kwargs)
    return Route(_VIEWS["vread"], "vread", {**kwargs, "version_id": int(matched["version_id"])})


def _answer(request: HttpRequest) -> HttpResponse:
    match = request.resolver_match
    assert match is not None  # set by HotPath.respond
    principal = _bearer(request)
    if not principal:
        return _fhir_not_signed_in(request, AuthenticationError())
    request.auth = principal  # type: ignore[attr-defined]  # as django-ninja sets it
    try:
        answered: HttpResponse = match.func(request, **match.kwargs)
        return answered
    except DomainError as error:
        return _fhir_domain_error(request, error)


class HotPath:
    """The short path's middleware chain around `_answer`, built once per process."""

    def __init__(self) -> None:
        handler: Callable[[HttpRequest], Any] = convert_exception_to_response(_answer)
        for path in reversed(MIDDLEWARE):
            if path not in settings.MIDDLEWARE:  # the short path never adds middleware
                raise ImproperlyConfigured(f"{path} is on the FHIR short path, not in MIDDLEWARE")
            handler = convert_exception_to_response(import_string(path)(handler))
        self._chain = handler

    def respond(self, request: HttpRequest, route: Route) -> HttpResponse:
        request.resolver_match = ResolverMatch(
            route.view, (), route.kwargs, url_name=route.url_name, app_names=["fhir"],
            namespaces=["fhir"],
        )  # fmt: skip
        response: HttpResponse = self._chain(request)
        response._resource_closers.append(request.close)  # type: ignore[attr-defined]  # as BaseHandler.get_response
        if response.status_code >= 400:
            log_response(
                "%s: %s", response.reason_phrase, request.path, response=response, request=request
            )
        return response
