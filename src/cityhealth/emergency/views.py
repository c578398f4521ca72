"""Pages of the dispatch room: the queue with the units, and the call-taker's form.

The call-taker page is a thin shell: it talks to the JSON API (`/api/emergency/…`) with the
staff session, so the page and any other client see the same rules. What is typed is saved
as a draft at each pause, so a reload (or a crashed browser) loses nothing.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cityhealth.accounts.selectors import actor_of
from cityhealth.core.access import page_requires
from cityhealth.core.roles import Permission
from cityhealth.emergency import selectors, services
from cityhealth.geo.selectors import list_wards


@require_GET
@page_requires(Permission.DISPATCH)
def dispatch_room(request: HttpRequest) -> HttpResponse:
    context = {
        "incidents": list(selectors.open_incidents()[:100]),
        "units": list(selectors.list_units()),
    }
    return render(request, "emergency/dispatch_room.html", context)


@require_POST
@page_requires(Permission.DISPATCH)
def new_call(request: HttpRequest) -> HttpResponse:
    """A call typed in by hand (the telephone system did not report it, a walk-in)."""
    with transaction.atomic():
        received = services.receive_call(
            call_id=f"manual-{uuid.uuid4().hex[:20]}",
            caller_number=request.POST.get("caller_number", "")[:20],
            actor=actor_of(request.user),
        )
        services.answer_call(incident=received.incident, actor=actor_of(request.user))
    return redirect("emergency:call_taker", incident_id=received.incident.pk)


@require_GET
@page_requires(Permission.DISPATCH)
def call_taker(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = selectors.get_incident(incident_id)
    page_data = {
        "id": incident.pk,
        "version": incident.version,
        "draft": incident.draft,
        "api": f"/api/emergency/incidents/{incident.pk}",
        "triage_api": "/api/emergency/triage",
        "messages": {
            "saved": str(_("Saved")),
            "saving": str(_("Saving…")),
            "stale": str(_("Changed on another screen: reloaded.")),
            "offline": str(_("Not saved yet: the server does not answer. Keep typing.")),
            "assign": str(_("Send")),
            "minutes": str(_("min")),
        },
    }
    context = {
        "incident": incident,
        "wards": list_wards().only("code", "name"),
        "page_data": page_data,
    }
    return render(request, "emergency/call_taker.html", context)
