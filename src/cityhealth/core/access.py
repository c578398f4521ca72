"""Permission checks shared by pages and API endpoints of every app.

A principal is anything with `has_permission(Permission) -> bool`: a staff user, or an API
token whose client holds scopes. Apps below `accounts` check permissions through this module
so that they never import `accounts`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Protocol, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from cityhealth.core.errors import AuthenticationRequired, PermissionDenied
from cityhealth.core.roles import Permission


class Principal(Protocol):
    def has_permission(self, permission: Permission) -> bool: ...


def _forbidden(permission: Permission) -> PermissionDenied:
    return PermissionDenied(
        "access.forbidden",
        vi="Tài khoản của bạn không có quyền dùng chức năng này.",
        en="Your account may not use this function.",
        permission=str(permission),
    )


def ensure_permission(principal: object, permission: Permission) -> None:
    """Raise unless `principal` holds `permission` (None or anonymous means not signed in)."""
    if principal is None or not getattr(principal, "is_authenticated", True):
        raise AuthenticationRequired(
            "access.not_signed_in",
            vi="Bạn cần đăng nhập.",
            en="You need to sign in.",
        )
    checker = getattr(principal, "has_permission", None)
    if checker is None or not checker(permission):
        raise _forbidden(permission)


def ensure_any_permission(principal: object, *permissions: Permission) -> None:
    """Pass if `principal` holds one of `permissions`; else as `ensure_permission` for the last."""
    for permission in permissions[:-1]:
        checker = getattr(principal, "has_permission", None)
        if principal is not None and checker is not None and checker(permission):
            return
    ensure_permission(principal, permissions[-1])


def api_principal(request: HttpRequest) -> object:
    """Who is calling an API endpoint: set by Django Ninja's auth on `request.auth`."""
    return getattr(request, "auth", None)


ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponseBase])


def page_requires(permission: Permission) -> Callable[[ViewFunc], ViewFunc]:
    """Page decorator: anonymous → login page; signed in without permission → 403 page."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            ensure_permission(request.user, permission)
            return view(request, *args, **kwargs)

        wrapped.required_permission = permission  # type: ignore[attr-defined]
        return cast(ViewFunc, wrapped)

    return decorator
