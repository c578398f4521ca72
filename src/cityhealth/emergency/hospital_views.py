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

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import QuerySet
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
from cityhealth.core.errors import DomainError, PermissionDenied, not_found
from cityhealth.core.roles import Permission, Role
from cityhealth.emergency import services
from cityhealth.emergency.models import (
    OPEN_PRE_ALERT_STATUSES,
    Capability,
    EmergencyDepartmentStatus,
    PreAlert,
)
from cityhealth.emergency.services.destination import HOSPITAL_KINDS
from cityhealth.facilities.models import Facility

# An alert whose patient never came (nobody closed it) leaves the screen this long after
# its ETA, so the list shows what is coming, not yesterday's forgotten runs.
SHOWN_AFTER_ETA = dt.timedelta(hours=2)
POLL_SECONDS = 2


def _own_facilities(user: Any) -> QuerySet[Facility]:
    return Facility.objects.filter(
        memberships__user=user, memberships__role=Role.ED_STAFF, kind__in=HOSPITAL_KINDS
    ).distinct()


def _facility_for(request: HttpRequest, code: str) -> Facility | None:
    """The hospital whose page this is; None when an administrator has not picked one yet or
    the account belongs to no hospital."""
    user = request.user
    if isinstance(user, User) and Role.ADMIN in user.roles:
        if not code:
            return None
        facility = Facility.objects.filter(code=code, kind__in=HOSPITAL_KINDS).first()
        if facility is None:
            raise not_found("Facility", "cơ sở y tế")
        return facility
    own = _own_facilities(user)
    if not code:
        return own.order_by("code").first()
    facility = own.filter(code=code).first()
    if facility is None:
        raise PermissionDenied(
            "pre_alert.other_hospital",
            vi="Bạn chỉ xem được bệnh nhân đang đến bệnh viện của mình.",
            en="You may only see the patients coming to your own hospital.",
        )
    return facility


def incoming_alerts(facility: Facility) -> list[PreAlert]:
    """Open alerts for `facility`, the soonest arrival first."""
    return list(
        PreAlert.objects.filter(
            facility=facility,
            status__in=OPEN_PRE_ALERT_STATUSES,
            eta_at__gte=clock.now() - SHOWN_AFTER_ETA,
        )
        .select_related("incident", "unit")
        .order_by("eta_at")
    )


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
        "alerts": incoming_alerts(facility) if facility else [],
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
        alert = PreAlert.objects.filter(pk=int(raw) if raw.isdigit() else 0).first()
        if alert is None:
            raise not_found("Pre-alert", "báo trước")
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
