"""Pages of the person registry: search, one person's record, and the review queue."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cityhealth.accounts.selectors import actor_of
from cityhealth.core.access import page_requires
from cityhealth.core.errors import DomainError
from cityhealth.core.roles import Permission
from cityhealth.people import errors, selectors, services
from cityhealth.people.enums import ReviewKind, ReviewStatus
from cityhealth.people.forms import PersonSearchForm, ResolveReviewForm, decision_label

QUEUE_PAGE_SIZE = 25


def _ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


@require_GET
@page_requires(Permission.VIEW_PERSONS)
def search(request: HttpRequest) -> HttpResponse:
    form = PersonSearchForm(request.GET)
    criteria = form.criteria()
    result: selectors.SearchResult | None = None
    problem = ""
    if criteria is not None:
        q = criteria["q"]
        try:
            if len(q) == 12 and q.isdigit():
                # Twelve digits are a personal ID number: look it up (current or earlier).
                found = selectors.lookup_by_citizen_id(
                    principal=request.user, citizen_id=q, source_ip=_ip(request)
                )
                items = [selectors.summarise(found)] if found else []
                result = selectors.SearchResult(items=items, more=False)
            else:
                result = selectors.search_persons(
                    principal=request.user,
                    q=q,
                    birth_year=criteria["birth_year"],
                    birth_date=criteria["birth_date"],
                    ward=criteria["ward"] or None,
                    phone=criteria["phone"],
                    source_ip=_ip(request),
                )
        except DomainError as error:
            problem = error.message(get_language())
    context = {"form": form, "result": result, "problem": problem, "searched": criteria is not None}
    template = "people/_results.html" if request.headers.get("HX-Request") else "people/search.html"
    return render(request, template, context)


@require_GET
@page_requires(Permission.VIEW_PERSONS)
def detail(request: HttpRequest, person_id: int) -> HttpResponse:
    person = selectors.access_person(
        principal=request.user,
        person_id=person_id,
        reason=request.GET.get("reason", "")[:300],
        source_ip=_ip(request),
    )
    context = {
        "person": person,
        "birth": selectors.birth_text(person),
        "requested_id": person_id,
        "merges": selectors.merges_of(person),
        "open_items": person.review_items.filter(status=ReviewStatus.OPEN).order_by("id"),
        "can_review": selectors.may(request.user, Permission.REVIEW_PERSONS),
    }
    return render(request, "people/detail.html", context)


@dataclass(frozen=True)
class _Choice:
    value: str
    label: str


@require_GET
@page_requires(Permission.REVIEW_PERSONS)
def review_queue(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    kind = kind if kind in ReviewKind.values else ""
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    items, total = selectors.review_queue(
        principal=request.user,
        kind=kind,
        limit=QUEUE_PAGE_SIZE,
        offset=(number - 1) * QUEUE_PAGE_SIZE,
        source_ip=_ip(request),
    )
    may_merge = selectors.may(request.user, Permission.MERGE_PERSONS)
    rows = [
        (
            selectors.review_view(item),
            [
                _Choice(d.value, decision_label(d))
                for d in services.decisions_for(item)
                if d is not services.ReviewDecision.MERGE or may_merge
            ],
        )
        for item in items
    ]
    page = Paginator(range(total), QUEUE_PAGE_SIZE).get_page(number)
    context = {
        "rows": rows,
        "total": total,
        "page": page,
        "kind": kind,
        "kinds": ReviewKind.choices,
    }
    return render(request, "people/review_queue.html", context)


@require_POST
@page_requires(Permission.REVIEW_PERSONS)
def resolve_review(request: HttpRequest, item_id: int) -> HttpResponse:
    form = ResolveReviewForm(request.POST)
    back = redirect("people:review_queue")
    if not form.is_valid():
        messages.error(request, _("Choose what to do with the item."))
        return back
    decision = form.cleaned_data["decision"]
    if decision == services.ReviewDecision.MERGE and not selectors.may(
        request.user, Permission.MERGE_PERSONS
    ):
        messages.error(request, _("Your account may not merge records."))
        return back
    try:
        services.resolve_review_item(
            item=selectors.get_review_item(item_id),
            decision=decision,
            actor=actor_of(request.user),
            note=form.cleaned_data.get("note") or "",
            survivor_id=form.cleaned_data.get("survivor_id"),
            person_id=form.cleaned_data.get("person_id"),
            source_ip=_ip(request),
        )
    except errors.IdClaimedTwice as error:
        # Nothing was changed but the new review item, which is kept.
        messages.error(request, error.message(get_language()))
        return back
    except DomainError as error:
        transaction.set_rollback(True)
        messages.error(request, error.message(get_language()))
        return back
    messages.success(request, _("Item #%(id)s dealt with.") % {"id": item_id})
    return back
