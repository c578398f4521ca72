"""Reception's pages: the kiosk (scan → confirm and choose a clinic → ticket: three
screens), the resident's live ticket, the hall's display boards (server-sent events) and a
room's or counter's calling screen. Thin: each calls one service or selector."""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import asdict
from typing import Any

import segno
from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cityhealth.core import clock
from cityhealth.core.access import page_requires
from cityhealth.core.errors import DomainError
from cityhealth.core.roles import Permission
from cityhealth.core.streams import event_stream
from cityhealth.people.selectors import mask_name
from cityhealth.reception import errors, selectors, services
from cityhealth.reception.stats import queue_statistics
from cityhealth.reception.ticket_pdf import render_ticket_pdf

POLL_SECONDS = 1.0
STREAM_SECONDS = 300  # a board reconnects every five minutes (EventSource does it itself)
PASS_MAX_AGE = 300  # seconds between identifying at the kiosk and choosing the clinic
_SALT = "reception.kiosk"


def _ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


# --- the kiosk ---------------------------------------------------------------------------------


@require_GET
@page_requires(Permission.CHECK_IN)
def kiosk(request: HttpRequest, facility: str) -> HttpResponse:
    """Screen 1: scan the card's QR (a scanner types it and Enter) or type the number.
    `?new=1` (the last resident is done) forgets the language they picked: the next one is
    greeted in Vietnamese again."""
    place = services.facility_by_code(facility)
    if request.GET.get("new"):
        response = redirect("reception:kiosk", facility=place.code)
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
        return response
    return render(request, "reception/kiosk_scan.html", {"facility": place})


@require_POST
@page_requires(Permission.CHECK_IN)
def kiosk_identify(request: HttpRequest, facility: str) -> HttpResponse:
    """Screen 2: who we found (masked name, birth year), their insurance in plain words,
    and the clinics they may choose. A person already checked in gets their ticket."""
    place = services.facility_by_code(facility)
    started = request.POST.get("started", "")
    qr, number = services.read_scan(request.POST.get("scan", ""))
    try:
        found = services.identify(
            principal=request.user, facility_code=place.code, qr=qr,
            citizen_id=number.replace(" ", ""),  # typed in groups of digits on the touch keys
            source_ip=_ip(request), with_clinics=True,
        )  # fmt: skip
    except DomainError as error:
        context = {"facility": place, "error": error.message(get_language())}
        return render(request, "reception/kiosk_scan.html", context)
    if found.open_visit is not None:
        return redirect(
            "reception:kiosk_ticket", facility=place.code, token=found.open_visit.visit.token
        )
    ticket_pass = signing.dumps(
        {
            "person": found.person.pk,
            "facility": place.code,
            "how": found.identified_by,
            "number": found.document_number,
            "check": found.eligibility.check_id if found.eligibility else None,
            "started": started,
        },
        salt=_SALT,
    )
    eligibility = found.eligibility
    return render(
        request,
        "reception/kiosk_confirm.html",
        {
            "facility": place,
            "name": mask_name(found.person.full_name),
            "birth_year": found.person.birth_year,
            "insurance": eligibility,
            "insurance_words": eligibility.for_resident(get_language()) if eligibility else "",
            "clinics": found.clinics,
            "pass": ticket_pass,
        },
    )


@require_POST
@page_requires(Permission.CHECK_IN)
def kiosk_check_in(request: HttpRequest, facility: str) -> HttpResponse:
    """Screen 2 → 3: the clinic chosen; a double tap gives the same ticket."""
    place = services.facility_by_code(facility)
    try:
        data = signing.loads(request.POST.get("pass", ""), salt=_SALT, max_age=PASS_MAX_AGE)
    except signing.BadSignature:
        return render(
            request,
            "reception/kiosk_scan.html",
            {"facility": place, "error": errors.kiosk_pass_expired().message(get_language())},
        )
    try:
        done = services.check_in_known(
            principal=request.user, facility_code=place.code, person_id=int(data["person"]),
            clinic_code=request.POST.get("clinic", ""), identified_by=data["how"],
            document_number=data["number"], check_id=data["check"],
            started_at=_started(data.get("started", "")),
        )  # fmt: skip
    except DomainError as error:
        context = {"facility": place, "error": error.message(get_language())}
        return render(request, "reception/kiosk_scan.html", context)
    return redirect("reception:kiosk_ticket", facility=place.code, token=done.visit.token)


def _started(text: str) -> dt.datetime | None:
    """The instant the first screen was touched (milliseconds since the epoch, from the
    kiosk's page); None if absent or not believable."""
    try:
        started = dt.datetime.fromtimestamp(int(text) / 1000, tz=dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    age = (clock.now() - started).total_seconds()
    return started if 0 <= age <= 3600 else None


@require_GET
@page_requires(Permission.CHECK_IN)
def kiosk_ticket(request: HttpRequest, facility: str, token: str) -> HttpResponse:
    """Screen 3: the ticket, printable, with a QR that opens its live state on a phone."""
    state = selectors.ticket_by_token(token)
    url = request.build_absolute_uri(reverse("reception:ticket", kwargs={"token": token}))
    return render(
        request,
        "reception/kiosk_ticket.html",
        {
            "facility_code": facility,
            "ticket": state,
            "token": token,
            "qr_svg": _qr_svg(url),
            "url": url,
        },
    )


def _qr_svg(url: str) -> str:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=5, border=2, xmldecl=False)
    return out.getvalue().decode()


# --- the resident's ticket -------------------------------------------------------------------


@require_GET
def ticket(request: HttpRequest, token: str) -> HttpResponse:
    """The live ticket on the resident's phone: no sign-in, the link is the key; no name."""
    state = selectors.ticket_by_token(token)
    if request.GET.get("format") == "json":
        return HttpResponse(json.dumps(asdict(state)), content_type="application/json")
    return render(request, "reception/ticket.html", {"ticket": state, "token": token})


@require_GET
@never_cache  # the wait it prints is of this minute
def ticket_pdf(request: HttpRequest, token: str) -> HttpResponse:
    """The ticket as a PDF for the kiosk's or desk's 80 mm receipt printer, or to keep on the
    phone: public like the live ticket (the token is the key), no name."""
    state = selectors.ticket_by_token(token)
    url = request.build_absolute_uri(reverse("reception:ticket", kwargs={"token": token}))
    pdf = render_ticket_pdf(state=state, live_url=url, printed_at=clock.local_now())
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{state.ticket}.pdf"'
    return response


# --- display boards --------------------------------------------------------------------------


@require_GET
def board(request: HttpRequest, facility: str, area: str) -> HttpResponse:
    """A hall's board: tickets called (large) and those waiting, names masked."""
    place = services.facility_by_code(facility)
    codes = selectors.area_departments(facility=place, area=area)
    rows = selectors.board_rows(facility=place, department_codes=codes)
    return render(
        request,
        "reception/board.html",
        {"facility": place, "area": area, "rows": rows},
    )


class _BoardChanges:
    """The board's rows as event-stream text whenever they may have changed (a cheap
    version query decides), None otherwise."""

    def __init__(self, facility: str, area: str) -> None:
        self.facility, self.area, self.last = facility, area, ""

    def next_chunk(self) -> str | None:
        self.last, chunk = _board_chunk(self.facility, self.area, self.last)
        return chunk or None


def _board_chunk(facility: str, area: str, last: str) -> tuple[str, str]:
    place = services.facility_by_code(facility)
    codes = selectors.area_departments(facility=place, area=area)
    version = selectors.board_version(facility=place, department_codes=codes)
    if version == last:
        return version, ""
    rows = [asdict(row) for row in selectors.board_rows(facility=place, department_codes=codes)]
    return version, f"event: board\ndata: {json.dumps(rows, ensure_ascii=False)}\n\n"


@require_GET
def board_events(request: HttpRequest, facility: str, area: str) -> StreamingHttpResponse:
    """Server-sent events: the board's rows whenever they change."""
    services.facility_by_code(facility)  # 404 for an unknown hospital before streaming
    return event_stream(
        request, _BoardChanges(facility, area).next_chunk, name="board",
        poll_seconds=POLL_SECONDS, stream_seconds=STREAM_SECONDS,
        once=request.GET.get("once") == "1",
    )  # fmt: skip


# --- a room or counter -----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@page_requires(Permission.CALL_PATIENTS)
def point(request: HttpRequest, point_id: int) -> HttpResponse:
    """A room's or counter's screen: the patient called, those waiting, and the actions."""
    error = ""
    if request.method == "POST":
        try:
            _act(request, point_id)
        except DomainError as refused:
            error = refused.message(get_language())
        else:
            return redirect("reception:point", point_id=point_id)
    place, entries = selectors.point_queue(principal=request.user, service_point_id=point_id)
    departments = selectors.departments_of(facility_id=place.department.facility_id)
    return render(
        request,
        "reception/point.html",
        {"point": place, "entries": entries, "departments": departments, "error": error},
    )


def _act(request: HttpRequest, point_id: int) -> None:
    action = request.POST.get("action", "")
    entry_id = int(request.POST.get("entry") or 0)
    if action == "call_next":
        services.call_next(principal=request.user, service_point_id=point_id)
    elif action == "recall":
        services.recall(principal=request.user, entry_id=entry_id)
    elif action == "no_show":
        services.mark_no_show(principal=request.user, entry_id=entry_id)
    elif action == "send":
        services.send_to(
            principal=request.user, entry_id=entry_id,
            department_code=request.POST.get("department", ""),
        )  # fmt: skip
    elif action == "finish":
        services.finish_visit(principal=request.user, entry_id=entry_id)
    else:
        raise errors.unknown_action()


# --- statistics ------------------------------------------------------------------------------


@require_GET
@page_requires(Permission.VIEW_QUEUE_STATS)
def statistics(request: HttpRequest) -> HttpResponse:
    """Waits per hospital and clinic: kiosk flow time, wait until called, service time and
    throughput, by priority group and hour, for a day or a period (default: today)."""
    hospitals = selectors.facilities_of(principal=request.user)
    context: dict[str, Any] = {"facilities": hospitals, "form": request.GET}
    code = request.GET.get("facility") or (hospitals[0].code if hospitals else "")
    if not code:
        return render(request, "reception/statistics.html", context)
    try:
        first = _day(request.GET.get("first"), clock.today())
        last = _day(request.GET.get("last"), first)
        context["stats"] = queue_statistics(
            principal=request.user, facility=services.facility_by_code(code), first=first,
            last=last, department_code=request.GET.get("department", ""),
        )  # fmt: skip
        context["departments"] = selectors.departments_of(facility_id=context["stats"].facility.pk)
    except DomainError as error:
        context["error"] = error.message(get_language())
    return render(request, "reception/statistics.html", context)


def _day(text: str | None, default: dt.date) -> dt.date:
    if not text:
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise errors.bad_period() from None
