"""The event medical cover planner's page: an event described as JSON (the National Day
parade of 2025 as the example), the estimate and the placement, and a printable plan."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cityhealth.core.access import page_requires
from cityhealth.core.errors import DomainError
from cityhealth.core.roles import Permission
from cityhealth.emergency.planning import (
    estimate_casualties,
    event_from_record,
    plan_cover,
    render_plan_text,
)

EXAMPLE = "a80_parade_2025.json"


def _example() -> str:
    return (settings.DATA_DIR / "emergency" / "planning" / EXAMPLE).read_text(encoding="utf-8")


def _count(raw: str, *, low: int, high: int) -> int | None:
    """A whole number in range, or None for "let the planner choose"."""
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if low <= value <= high else None


@require_http_methods(["GET", "POST"])
@page_requires(Permission.DISPATCH)
def plan_event(request: HttpRequest) -> HttpResponse:
    text = request.POST.get("event", "") if request.method == "POST" else _example()
    context: dict[str, Any] = {"event_text": text, "minutes": request.POST.get("minutes", "8")}
    if request.method == "POST":
        language = "en" if (get_language() or "vi").startswith("en") else "vi"
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as error:
            context["problem"] = _("The event is not valid JSON (line %(line)s): %(why)s") % {
                "line": error.lineno,
                "why": error.msg,
            }
            return render(request, "emergency/plan_event.html", context, status=400)
        try:
            event = event_from_record(raw)
            estimate = estimate_casualties(event=event)
            plan = plan_cover(
                event=event,
                estimate=estimate,
                ambulances=_count(request.POST.get("ambulances", ""), low=0, high=500),
                posts=_count(request.POST.get("posts", ""), low=0, high=500),
                coverage_minutes=float(_count(context["minutes"], low=1, high=60) or 8),
            )
        except DomainError as error:
            context["problem"] = error.message(language)
            return render(request, "emergency/plan_event.html", context, status=400)
        context["plan_text"] = render_plan_text(plan, language=language)
    return render(request, "emergency/plan_event.html", context)
