"""The 115 KPI page: intervals and response times over a period, standards, unit coverage.

The coverage map is filled by the browser from `coverage.json` (about 126 travel-time queries,
a quarter of a second), so the tables show at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from cityhealth.core import clock
from cityhealth.core.access import page_requires
from cityhealth.core.roles import Permission
from cityhealth.emergency import kpis, selectors
from cityhealth.emergency.coverage import ward_points
from cityhealth.emergency.enums import Priority

# A year of incidents (≈ 40,000) computes in well under a second; longer spans would not.
MAX_PERIOD_DAYS = 366


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput({"type": "date"})
    )
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput({"type": "date"}))
    priority = forms.ChoiceField(
        label=_("Priority"), required=False, choices=[("", _("All")), *Priority.choices]
    )
    ward = forms.CharField(label=_("Ward code"), required=False, max_length=5)

    def period(self, *, today: dt.date) -> kpis.Period:
        default = kpis.Period.last_days(today=today)
        data = self.cleaned_data if self.is_valid() else {}
        first = data.get("start") or default.first
        last = data.get("end") or default.last
        if first > last or (last - first).days >= MAX_PERIOD_DAYS:
            return default
        return kpis.Period(first=first, last=last)


@require_GET
@page_requires(Permission.VIEW_EMERGENCY_KPIS)
def kpi_page(request: HttpRequest) -> HttpResponse:
    form = PeriodForm(request.GET or None)
    period = form.period(today=clock.today())
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    zone = clock.local_zone()
    rows = kpis.incidents_in_period(
        period=period,
        zone=zone,
        priority=filters.get("priority", ""),
        ward_code=filters.get("ward", "").strip(),
    )
    report = kpis.compute_report(rows=rows, standards=kpis.load_standards(), zone=zone)
    vietnamese = (get_language() or "vi").startswith("vi")
    context: dict[str, Any] = {
        "form": form,
        "period": period,
        "report": report,
        "overall": [
            {"label": label, **_cells(report.overall[key])} for key, label in _METRIC_LABELS
        ],
        "metric_labels": [label for _key, label in _METRIC_LABELS],
        "sections": [
            {
                "id": "kpi-priority",
                "title": _("By priority"),
                "first": _("Priority"),
                "rows": [_row(group) for group in report.by_priority],
            },
            {
                "id": "kpi-ward",
                "title": _("By ward: the 20 slowest"),
                "first": _("Ward"),
                "note": _("Ordered by the 90th centile of the response time."),
                "rows": [_row(group) for group in report.by_ward],
            },
            {
                "id": "kpi-hour",
                "title": _("By hour of the day"),
                "first": _("Hour"),
                "chart": True,
                "rows": [_row(group) for group in report.by_hour],
            },
        ],
        "standards": [
            {
                "result": result,
                "name": result.standard.name_vi if vietnamese else result.standard.name_en,
                "metric": dict(_METRIC_LABELS)[result.standard.metric],
                "priorities": ", ".join(result.standard.priorities or ()) or _("All"),
                "mean": _clock_time(result.mean),
                "centile": _clock_time(result.centile),
                "target_mean": _clock_time(result.standard.mean_seconds),
                "target_centile": _clock_time(result.standard.percentile_seconds),
                "late_after": _clock_time(result.standard.late_after_seconds),
                "late_share": (
                    None if result.late_share is None else round(100 * result.late_share, 1)
                ),
            }
            for result in report.standards
        ],
        "hour_chart": {
            "labels": [group.label for group in report.by_hour],
            "mean": [_minutes(group.metrics["response"].mean) for group in report.by_hour],
            "p90": [_minutes(group.metrics["response"].p90) for group in report.by_hour],
            "mean_label": str(_("Mean response (min)")),
            "p90_label": str(_("90th centile response (min)")),
        },
        "coverage_minutes": kpis.COVERAGE_MINUTES,
    }
    return render(request, "emergency/kpis.html", context)


_METRIC_LABELS: list[tuple[kpis.Metric, Any]] = [
    ("call_to_answer", _("Call to answer")),
    ("answer_to_dispatch", _("Answer to dispatch")),
    ("response", _("Response (call to arrival)")),
]


def _clock_time(seconds: float | None) -> str:
    """7:05 for 425 s: how response times are published (minutes:seconds)."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def _cells(summary: kpis.Summary) -> dict[str, Any]:
    return {
        "count": summary.count,
        "missing": summary.missing,
        "mean": _clock_time(summary.mean),
        "median": _clock_time(summary.median),
        "p90": _clock_time(summary.p90),
    }


def _row(group: kpis.Group) -> dict[str, Any]:
    return {
        "label": group.label,
        "key": group.key,
        "incidents": group.incidents,
        "cells": [_cells(group.metrics[key]) for key, _label in _METRIC_LABELS],
    }


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


@require_GET
@page_requires(Permission.VIEW_EMERGENCY_KPIS)
def coverage_json(request: HttpRequest) -> JsonResponse:
    """Per ward, the minutes from the quickest available unit now, and the residents' shares."""
    coverage = kpis.compute_coverage(
        origins=kpis.available_unit_points(), wards=ward_points(), at=clock.now()
    )
    payload = {
        "at": coverage.at.isoformat(),
        "units": coverage.units,
        "population": coverage.population,
        "shares": {str(minutes): share for minutes, share in coverage.shares.items()},
        "wards": {
            item.ward.code: {
                "name": item.ward.name,
                "population": item.ward.population,
                "minutes": _minutes(item.seconds),
            }
            for item in coverage.wards
        },
    }
    response = JsonResponse(payload, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@page_requires(Permission.VIEW_EMERGENCY_KPIS)
def ward_outlines(request: HttpRequest) -> HttpResponse:
    """The ward outlines again, for managers who see the KPIs without the dispatch room."""
    response = HttpResponse(selectors.ward_outlines_geojson(), content_type="application/geo+json")
    response["Cache-Control"] = "private, max-age=86400"
    return response
