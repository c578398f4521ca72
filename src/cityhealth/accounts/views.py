"""Sign-in and sign-out pages. Sign-ins and failures are audited."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import user_logged_in, user_login_failed
from django.contrib.auth.views import LoginView
from django.dispatch import receiver
from django.http import HttpRequest

from cityhealth.core.audit import record_audit


class SignInView(LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


def _client_ip(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR", ""))


@receiver(user_logged_in)
def _audit_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    record_audit(
        actor=f"user:{user.pk}",
        actor_label=str(user),
        action="account.signed_in",
        target_type="user",
        target_id=user.pk,
        source_ip=_client_ip(request),
    )


@receiver(user_login_failed)
def _audit_login_failure(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    record_audit(
        actor="anonymous",
        action="account.sign_in_failed",
        target_type="username",
        target_id=str(credentials.get("username", ""))[:80],
        source_ip=_client_ip(request),
    )
