"""The receiving hospital's page: patients on their way (pre-alerts), and the department's
published status (free beds, diversion).

A member of a department's staff sees the hospital of their membership; an administrator
picks any with `?facility=CODE`. Another hospital's alerts look like no alerts at all.

Live by htmx polling: the alert list asks for the page again every 2 s and keeps only its
own part (`hx-select`). Polling rather than the console's server-sent events because an
emergency department's screen is one tab per hospital (a few dozen in the city, a request
every 2 s each is nothing), it needs no held-open worker nor proxy settings, and the ETA
countdown is simply re-rendered by the server on each poll.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cityhealth.accounts.models import User
from cityhealth.accounts.selectors import actor_of
from cityhealth.core import clock
from cityhealth.core.access import page_requires
from cityhealth.core.errors import DomainError
from cityhealth.core.roles import Permission, Role
from cityhealth.emergency import selectors, services
from cityhealth.emergency.enums import HOSPITAL_KINDS
from cityhealth.emergency.models import (
    Capability,
    EmergencyDepartmentStatus,
)
from cityhealth.facilities.models import Facility

POLL_SECONDS = 2


def _facility_for(request: HttpRequest, code: str) -> Facility | None:
    return selectors.receiving_hospital(request.user, code)


def _is_admin(request: HttpRequest) -> bool:
    return isinstance(request.user, User) and Role.ADMIN in request.user.roles


@require_GET
@page_requires(Permission.RECEIVE_PRE_ALERTS)
def incoming(request: HttpRequest) -> HttpResponse:
    facility = _facility_for(request, request.GET.get("facility", "")[:20])
    status = (
        EmergencyDepartmentStatus.objects.filter(facility=facility).first() if facility else None
    )
    context = {
        "facility": facility,
        "choices": (
            Facility.objects.filter(kind__in=HOSPITAL_KINDS, is_active=True).order_by("code")
            if _is_admin(request)
            else []
        ),
        "alerts": selectors.incoming_pre_alerts(facility) if facility else [],
        "status": status,
        "capabilities": [
            str(label)
            for value, label in Capability.choices
            if status is not None and value in status.effective_capabilities
        ],
        "now": clock.now(),
        "poll_seconds": POLL_SECONDS,
        "page_url": _page_url(facility),
    }
    return render(request, "emergency/incoming.html", context)


def _page_url(facility: Facility | None) -> str:
    url = reverse("emergency:incoming")
    return f"{url}?facility={facility.code}" if facility else url


def _act(request: HttpRequest, action: Callable[[Facility], object], done: str) -> HttpResponse:
    """Run a POST's use case for the page's hospital and come back to the page."""
    facility = _facility_for(request, request.POST.get("facility", "")[:20])
    if facility is None:
        messages.error(request, _("Choose a hospital first."))
        return redirect(_page_url(None))
    try:
        with transaction.atomic():
            action(facility)
    except DomainError as error:
        messages.error(request, error.message(get_language()))
    else:
        messages.success(request, done)
    return redirect(_page_url(facility))


@require_POST
@page_requires(Permission.RECEIVE_PRE_ALERTS)
def incoming_acknowledge(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("pre_alert", "")

    def acknowledge(facility: Facility) -> None:
        alert = selectors.get_pre_alert(int(raw) if raw.isdigit() else 0)
        services.acknowledge_pre_alert(
            pre_alert=alert, facility=facility, actor=actor_of(request.user)
        )

    return _act(request, acknowledge, str(_("Acknowledged.")))


@require_POST
@page_requires(Permission.RECEIVE_PRE_ALERTS)
def incoming_status(request: HttpRequest) -> HttpResponse:
    raw_beds = request.POST.get("beds_free", "").strip()

    def update(facility: Facility) -> None:
        try:
            beds = int(raw_beds) if raw_beds else None
        except ValueError:
            beds = -1  # refused by the service's check, with its message
        services.update_ed_status(
            facility=facility,
            beds_free=beds,
            on_diversion=request.POST.get("on_diversion") == "1",
            reason=request.POST.get("reason", ""),
            actor=actor_of(request.user),
        )

    return _act(request, update, str(_("Status published.")))


@require_POST
@page_requires(Permission.RECEIVE_PRE_ALERTS)
def incoming_arrived(request: HttpRequest) -> HttpResponse:
    """The announced patient is in the department: the alert leaves the screen."""
    raw = request.POST.get("pre_alert", "")

    def arrived(facility: Facility) -> None:
        alert = selectors.get_pre_alert(int(raw) if raw.isdigit() else 0)
        services.close_pre_alert(
            pre_alert=alert, outcome="arrived", facility=facility, actor=actor_of(request.user)
        )

    return _act(request, arrived, str(_("Arrival recorded.")))
