from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from cityhealth.web.modules import modules_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_modules": []}
    return {"nav_modules": modules_for(user)}
