"""The reception desk's pages: a card or registry number checked in with what only staff may
declare; walk-ins without a card of their own registered on the spot (a child on a
guardian's ID, a foreigner with a passport, an unknown person), each on its own tab; and a
visit's page with its entries, its correction log and the corrections. Thin: each calls one
service or selector."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cityhealth.core import clock
from cityhealth.core.access import page_requires
from cityhealth.core.errors import DomainError
from cityhealth.core.roles import Permission
from cityhealth.facilities.models import Facility
from cityhealth.people.enums import Relationship, Sex
from cityhealth.reception import errors, selectors, services
from cityhealth.reception.directory import clinics_of
from cityhealth.reception.enums import DECLARED_GROUPS, PriorityGroup

_DECLARED = [(g.value, g.label) for g in DECLARED_GROUPS]


def _ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def _number(text: str) -> int | None:
    """A registry number as typed; None for anything that cannot be one (a bigint has 19
    digits at most: a longer run of digits is no record's number)."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 19 else None


def _groups(request: HttpRequest) -> list[str]:
    return [g for g in request.POST.getlist("groups") if g in PriorityGroup.values]


def _page(request: HttpRequest, tab: str) -> dict[str, Any]:
    """What every tab shows: the hospitals the member of staff works for, the one chosen
    (kept across tabs), its clinics, and the groups a desk may declare."""
    hospitals = selectors.facilities_of(principal=request.user)
    wanted = request.POST.get("facility") or request.GET.get("facility") or ""
    chosen: Facility | None = next((h for h in hospitals if h.code == wanted), None)
    if chosen is None and hospitals:
        chosen = hospitals[0]
    context: dict[str, Any] = {
        "tab": tab,
        "facilities": hospitals,
        "facility": chosen,
        "clinics": clinics_of(chosen) if chosen else [],
        "groups": _DECLARED,
        "chosen_groups": request.POST.getlist("groups"),
        "chosen_clinic": request.POST.get("clinic", ""),
        "sexes": Sex.choices,
    }
    return context


def _refused(context: dict[str, Any], error: DomainError) -> dict[str, Any]:
    context["error"] = error.message(get_language())
    # A walk-in registered before the check-in was refused: the form sent again takes the
    # same record instead of registering a second one.
    if error.code == "reception.registered_not_checked_in":
        context["registered_id"] = error.params.get("person_id")
    return context


# --- a card or a registry number -------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@page_requires(Permission.RECEPTION_DESK)
def desk(request: HttpRequest) -> HttpResponse:
    """The kiosk's check-in plus what only staff may do (declared priority groups, a
    follow-up slip, no insurance check for a fee-paying patient); `?ticket=A001` opens that
    visit of today for corrections."""
    context = _page(request, "card")
    ticket = request.GET.get("ticket", "").strip()
    if request.method == "GET" and ticket and context["facility"] is not None:
        try:
            found = selectors.visit_by_ticket(
                principal=request.user, facility_code=context["facility"].code, ticket=ticket,
                day=clock.today(),
            )  # fmt: skip
        except DomainError as error:
            return render(request, "reception/desk.html", _refused(context, error))
        return redirect("reception:desk_visit", visit_id=found.pk)
    if request.method == "POST":
        form = request.POST
        context["form"] = form
        try:
            done = services.check_in_at_desk(
                principal=request.user, facility_code=form.get("facility", ""),
                scan=form.get("scan", ""), person_id=form.get("person", ""),
                clinic_code=form.get("clinic", ""), declared_groups=_groups(request),
                follow_up_slip=form.get("follow_up_slip", ""), insured=form.get("fee") != "1",
                source_ip=_ip(request),
            )  # fmt: skip
        except DomainError as error:
            return render(request, "reception/desk.html", _refused(context, error))
        context["done"] = done
    return render(request, "reception/desk.html", context)


# --- walk-ins without a card ---------------------------------------------------------------------


class _WalkInForm(forms.Form):
    facility = forms.CharField(max_length=20)
    clinic = forms.CharField(max_length=30, label=gettext_lazy("Clinic"))
    follow_up_slip = forms.CharField(max_length=40, required=False)


class ChildForm(_WalkInForm):
    guardian_scan = forms.CharField(max_length=500, label=gettext_lazy("Guardian's ID card"))
    child = forms.IntegerField(required=False, min_value=1)
    full_name = forms.CharField(max_length=200, required=False)
    birth_date = forms.DateField(required=False, label=gettext_lazy("Date of birth"))
    sex = forms.ChoiceField(choices=Sex.choices, required=False)
    relationship = forms.ChoiceField(choices=[("", ""), *Relationship.choices], required=False)
    fee = forms.BooleanField(required=False)


class ForeignerForm(_WalkInForm):
    passport = forms.CharField(max_length=20, label=gettext_lazy("Passport number"))
    country = forms.CharField(max_length=2, label=gettext_lazy("Issuing country"))
    full_name = forms.CharField(max_length=200, required=False)
    birth_date = forms.DateField(required=False, label=gettext_lazy("Date of birth"))
    sex = forms.ChoiceField(choices=Sex.choices, required=False)
    insured = forms.BooleanField(required=False)


class UnknownForm(_WalkInForm):
    approximate_age = forms.IntegerField(
        required=False, min_value=0, max_value=125, label=gettext_lazy("Approximate age")
    )
    sex = forms.ChoiceField(choices=Sex.choices, required=False)
    emergency = forms.BooleanField(required=False)
    person = forms.IntegerField(required=False, min_value=1)


@require_http_methods(["GET", "POST"])
@page_requires(Permission.RECEPTION_DESK)
def desk_child(request: HttpRequest) -> HttpResponse:
    """A child on a guardian's citizen ID: the guardian's card first (their children in the
    registry are listed), then the child picked or registered, and the ticket."""
    context = _page(request, "child")
    if request.method == "GET":
        return render(request, "reception/desk.html", context)
    form = ChildForm(request.POST)
    scan = request.POST.get("guardian_scan", "")
    context.update(form=form, picked=request.POST.get("child", ""))
    try:
        context["found"] = services.find_guardian(
            principal=request.user, facility_code=request.POST.get("facility", ""), scan=scan,
            source_ip=_ip(request),
        )  # fmt: skip
        if request.POST.get("action") != "check_in":
            return render(request, "reception/desk.html", context)
        if not form.is_valid():
            return render(request, "reception/desk.html", {**context, "invalid": form})
        data = form.cleaned_data
        walk_in = services.check_in_child(
            principal=request.user, facility_code=data["facility"], guardian_scan=scan,
            clinic_code=data["clinic"], child_id=data["child"], full_name=data["full_name"],
            birth_date=data["birth_date"], sex=data["sex"] or Sex.UNKNOWN,
            relationship=data["relationship"], declared_groups=_groups(request),
            follow_up_slip=data["follow_up_slip"], insured=not data["fee"],
            source_ip=_ip(request),
        )  # fmt: skip
    except DomainError as error:
        _refused(context, error)
        if "found" in context and context.get("registered_id"):
            # The child just registered joins the guardian's list, already picked.
            context["picked"] = str(context["registered_id"])
            context["found"] = services.find_guardian(
                principal=request.user, facility_code=request.POST.get("facility", ""),
                scan=scan, source_ip=_ip(request),
            )  # fmt: skip
    else:
        context.update(done=walk_in.check_in, walk_in=walk_in)
    return render(request, "reception/desk.html", context)


@require_http_methods(["GET", "POST"])
@page_requires(Permission.RECEPTION_DESK)
def desk_foreigner(request: HttpRequest) -> HttpResponse:
    """A foreigner with a passport: found by it, or registered; fee-paying unless ticked."""
    context = _page(request, "foreigner")
    if request.method == "GET":
        return render(request, "reception/desk.html", context)
    form = ForeignerForm(request.POST)
    context["form"] = form
    if not form.is_valid():
        return render(request, "reception/desk.html", {**context, "invalid": form})
    data = form.cleaned_data
    try:
        walk_in = services.check_in_foreigner(
            principal=request.user, facility_code=data["facility"], passport=data["passport"],
            country=data["country"], clinic_code=data["clinic"], full_name=data["full_name"],
            birth_date=data["birth_date"], sex=data["sex"] or Sex.UNKNOWN,
            declared_groups=_groups(request), follow_up_slip=data["follow_up_slip"],
            insured=data["insured"], source_ip=_ip(request),
        )  # fmt: skip
    except DomainError as error:
        _refused(context, error)
    else:
        context.update(done=walk_in.check_in, walk_in=walk_in)
    return render(request, "reception/desk.html", context)


@require_http_methods(["GET", "POST"])
@page_requires(Permission.RECEPTION_DESK)
def desk_unknown(request: HttpRequest) -> HttpResponse:
    """An unknown or unconscious person: approximate age and sex; emergency if declared."""
    context = _page(request, "unknown")
    if request.method == "GET":
        return render(request, "reception/desk.html", context)
    form = UnknownForm(request.POST)
    context["form"] = form
    if not form.is_valid():
        return render(request, "reception/desk.html", {**context, "invalid": form})
    data = form.cleaned_data
    try:
        walk_in = services.check_in_unknown(
            principal=request.user, facility_code=data["facility"], clinic_code=data["clinic"],
            approximate_age=data["approximate_age"], sex=data["sex"] or Sex.UNKNOWN,
            emergency=data["emergency"], person_id=data["person"], source_ip=_ip(request),
        )  # fmt: skip
    except DomainError as error:
        _refused(context, error)
        context.setdefault("registered_id", data["person"])
    else:
        context.update(done=walk_in.check_in, walk_in=walk_in)
    return render(request, "reception/desk.html", context)


# --- a visit and its corrections -------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@page_requires(Permission.RECEPTION_DESK)
def desk_visit(request: HttpRequest, visit_id: int) -> HttpResponse:
    """A visit, its queue entries and its correction log, with the corrections the desk may
    make (each with a reason). A visit of another hospital is not found."""
    error = ""
    if request.method == "POST":
        try:
            _correct(request, visit_id)
        except DomainError as refused:
            error = refused.message(get_language())
        else:
            messages.success(request, _("The visit was corrected."))
            return redirect("reception:desk_visit", visit_id=visit_id)
    shown = selectors.desk_visit(principal=request.user, visit_id=visit_id)
    context = {
        "shown": shown,
        "visit": shown.visit,
        "groups": _DECLARED,
        "declared": [g for g in shown.visit.priority_groups if g in dict(_DECLARED)],
        "group_labels": [
            PriorityGroup(g).label for g in shown.visit.priority_groups if g in PriorityGroup.values
        ],
        "error": error,
    }
    return render(request, "reception/desk_visit.html", context)


def _correct(request: HttpRequest, visit_id: int) -> None:
    form = request.POST
    action, reason = form.get("action", ""), form.get("reason", "")
    if action == "clinic":
        services.change_clinic(
            principal=request.user, visit_id=visit_id, clinic_code=form.get("clinic", ""),
            reason=reason,
        )  # fmt: skip
    elif action == "priority":
        services.change_priority_groups(
            principal=request.user, visit_id=visit_id, declared_groups=form.getlist("groups"),
            reason=reason,
        )  # fmt: skip
    elif action == "cancel":
        services.cancel_visit(principal=request.user, visit_id=visit_id, reason=reason)
    elif action == "person":
        services.change_person(
            principal=request.user, visit_id=visit_id, reason=reason,
            scan=form.get("scan", ""), person_id=_number(form.get("person", "")),
            source_ip=_ip(request),
        )  # fmt: skip
    else:
        raise errors.unknown_action()
