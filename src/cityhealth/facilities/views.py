"""Pages of the facility registry: the directory and one facility's departments and rooms."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cityhealth.core.access import page_requires
from cityhealth.core.roles import Permission
from cityhealth.facilities import selectors
from cityhealth.facilities.forms import DirectoryFilterForm

PAGE_SIZE = 50


@require_GET
@page_requires(Permission.VIEW_FACILITIES)
def directory(request: HttpRequest) -> HttpResponse:
    form = DirectoryFilterForm(request.GET)
    filters = form.filters()
    facilities = selectors.list_facilities(
        kind=filters["kind"] or None, ward=filters["ward"] or None, q=filters["q"]
    )
    page = Paginator(facilities, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "kind_counts": selectors.count_facilities_by_kind(),
        "filtered": any(filters.values()),
    }
    # htmx asks for the results only, as the filters change.
    template = (
        "facilities/_results.html"
        if request.headers.get("HX-Request")
        else "facilities/directory.html"
    )
    return render(request, template, context)


@require_GET
@page_requires(Permission.VIEW_FACILITIES)
def detail(request: HttpRequest, code: str) -> HttpResponse:
    facility = selectors.get_facility(code)
    return render(request, "facilities/detail.html", {"facility": facility})
