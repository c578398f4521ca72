"""Pages of the dispatch room: the queue with the units, and the call-taker's form.

The call-taker page is a thin shell: it talks to the JSON API (`/api/emergency/…`) with the
staff session, so the page and any other client see the same rules. What is typed is saved
as a draft at each pause, so a reload (or a crashed browser) loses nothing.
"""

from __future__ import annotations

import json
import uuid

from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cityhealth.accounts.selectors import actor_of
from cityhealth.core.access import page_requires
from cityhealth.core.roles import Permission
from cityhealth.core.streams import event_stream
from cityhealth.emergency import selectors, services
from cityhealth.emergency.places import roads_geojson
from cityhealth.geo.selectors import list_wards


@require_GET
@page_requires(Permission.DISPATCH)
def dispatch_room(request: HttpRequest) -> HttpResponse:
    context = {
        "incidents": list(selectors.open_incidents()[:100]),
        "units": list(selectors.list_units()),
        "console_text": {
            "order": str(_("Move it")),
            "dismiss": str(_("Dismiss")),
            "minutes": str(_("min")),
            "residents": str(_("residents within 15 min")),
        },
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
            "no_place": str(_("No such place: pick the ward, or click where the caller is.")),
            "alley": str(_("An alley: ask whether a car reaches the door.")),
            "within": str(_("within")),
            "handset": str(_("The caller's phone sent its position")),
            "use_handset": str(_("Use it (Alt+H)")),
            "ago": str(_("ago")),
        },
        "places_api": "/api/emergency/places",
        "map": {
            "wards": reverse("emergency:ward_outlines"),
            "roads": reverse("emergency:road_lines"),
        },
    }
    context = {
        "incident": incident,
        "wards": list_wards().only("code", "name"),
        "page_data": page_data,
    }
    return render(request, "emergency/call_taker.html", context)


# The console polls the database twice a second and sends a snapshot only when something
# changed; after 10 minutes the stream ends and the browser's EventSource reconnects.
STREAM_SECONDS = 600
POLL_SECONDS = 0.5  # a change reaches the screen within about half a second


class _Changes:
    """Turns successive snapshots into the event-stream text to send (or None)."""

    def __init__(self) -> None:
        self.last = ""

    def next_chunk(self) -> str | None:
        snapshot = selectors.console_snapshot()
        key = json.dumps({k: v for k, v in snapshot.items() if k != "at"}, sort_keys=True)
        if key == self.last:
            return None
        self.last = key
        return f"event: snapshot\ndata: {json.dumps(snapshot, ensure_ascii=False)}\n\n"


@require_GET
@page_requires(Permission.DISPATCH)
def console_events(request: HttpRequest) -> StreamingHttpResponse:
    """Server-sent events: the open incidents, the units and the alerts, as they change."""
    return event_stream(
        request, _Changes().next_chunk, name="console", poll_seconds=POLL_SECONDS,
        stream_seconds=STREAM_SECONDS, once=request.GET.get("once") == "1",
    )  # fmt: skip


@require_GET
@page_requires(Permission.DISPATCH)
def ward_outlines(request: HttpRequest) -> HttpResponse:
    """The 126 ward outlines for the console's map (drawn without online map tiles)."""
    response = HttpResponse(selectors.ward_outlines_geojson(), content_type="application/geo+json")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@require_GET
@page_requires(Permission.DISPATCH)
def road_lines(request: HttpRequest) -> HttpResponse:
    """The drivable ways of the loaded extracts, drawn under the wards on the dispatch maps."""
    response = HttpResponse(roads_geojson(), content_type="application/geo+json")
    response["Cache-Control"] = "private, max-age=86400"
    return response
