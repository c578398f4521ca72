"""The staffing page: how many reception counters a target needs (Erlang C), and a simulated
morning of the whole outpatient journey with the stations sized the same way.

A GET form: the answer is a calculation, nothing is saved, and a planner can share the link.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cityhealth.core.access import page_requires
from cityhealth.core.errors import DomainError
from cityhealth.core.roles import Permission
from cityhealth.reception.staffing import (
    MorningOutcome,
    MorningPlan,
    StaffingFigures,
    counters_needed,
    evaluate,
    outpatient_morning,
    simulate,
)

TEMPLATE = "reception/staffing.html"


class StaffingForm(forms.Form):
    arrivals_per_hour = forms.FloatField(
        label=gettext_lazy("Arrivals in the busiest hour"), min_value=0, max_value=3000, initial=300
    )
    service_minutes = forms.FloatField(
        label=gettext_lazy("Mean service time at the counter (minutes)"),
        min_value=0.1,
        max_value=120,
        initial=4,
    )
    target_minutes = forms.FloatField(
        label=gettext_lazy("Target wait (minutes)"), min_value=0, max_value=240, initial=2
    )
    target_percent = forms.FloatField(
        label=gettext_lazy("Share called within the target (%)"),
        min_value=1,
        max_value=99.9,
        initial=80,
    )
    max_occupancy_percent = forms.FloatField(
        label=gettext_lazy("Occupancy cap (%, optional)"),
        min_value=1,
        max_value=100,
        required=False,
    )
    counters = forms.IntegerField(
        label=gettext_lazy("Check this many counters instead (optional)"),
        min_value=1,
        max_value=2000,
        required=False,
    )
    priority_percent = forms.FloatField(
        label=gettext_lazy("Priority groups among arrivals (%)"),
        min_value=0,
        max_value=99,
        initial=20,
    )
    seed = forms.IntegerField(
        label=gettext_lazy("Simulation seed"), min_value=0, max_value=2**31 - 1, initial=1
    )


def _station_labels() -> dict[str, str]:
    return {
        "reception": _("Reception counter"),
        "clinic": _("Clinic"),
        "lab": _("Lab and imaging"),
        "cashier": _("Cashier"),
        "pharmacy": _("Pharmacy"),
    }


def _class_labels() -> dict[str, str]:
    return {"priority": _("Priority groups"), "general": _("Everyone else")}


def _counter_figures(data: dict[str, Any]) -> tuple[StaffingFigures, dict[str, Any]]:
    """Erlang C at the reception counter: the recommendation, or the counters asked about."""
    cap = (data["max_occupancy_percent"] or 100.0) / 100.0
    if data["counters"]:
        figures = evaluate(
            arrivals_per_hour=data["arrivals_per_hour"],
            service_minutes=data["service_minutes"],
            counters=data["counters"],
            target_minutes=data["target_minutes"],
        )
        return figures, {"checked": True}
    advice = counters_needed(
        arrivals_per_hour=data["arrivals_per_hour"],
        service_minutes=data["service_minutes"],
        target_minutes=data["target_minutes"],
        target_share=data["target_percent"] / 100.0,
        max_occupancy=cap,
    )
    return advice.figures, {
        "checked": False,
        "for_service_level": advice.for_service_level,
        "for_occupancy": advice.for_occupancy,
        "limited_by_occupancy": advice.limited_by_occupancy,
    }


def _morning_rows(
    plan: MorningPlan, outcome: MorningOutcome, counter: StaffingFigures
) -> dict[str, Any]:
    labels = _station_labels()
    predictions = {name: advice.figures for name, advice in plan.recommendations.items()}
    predictions["reception"] = counter  # the counters checked, when the form names them
    stations = []
    for station in outcome.stations:
        predicted = predictions[station.name]
        stations.append(
            {
                "label": labels.get(station.name, station.name),
                "servers": station.servers,
                "served": station.served,
                "erlang_mean": predicted.mean_wait_minutes,
                "wait": station.wait,
                "waited_pct": 100 * station.wait.share_waited,
                "utilisation_pct": 100 * station.utilisation,
                "hours": station.hours,
            }
        )
    hours = [h.clock_hour for h in outcome.stations[0].hours] if outcome.stations else []
    classes = _class_labels()
    return {
        "stations": stations,
        "hours": hours,
        "total_wait": outcome.total_wait,
        "time_in_hospital": outcome.time_in_hospital,
        "by_class": [(classes.get(name, name), w) for name, w in outcome.by_class.items()],
        "visits": outcome.arrivals,
        "finished_at": _clock(plan.scenario.arrivals.start_hour * 60 + outcome.finished_minutes),
    }


def _clock(minutes: float) -> str:
    whole = round(minutes)
    return f"{whole // 60 % 24:02d}:{whole % 60:02d}"


@require_GET
@page_requires(Permission.VIEW_FACILITIES)
def staffing_page(request: HttpRequest) -> HttpResponse:
    asked = bool(request.GET)
    form = StaffingForm(request.GET if asked else None)
    context: dict[str, Any] = {"form": form}
    if not asked:
        return render(request, TEMPLATE, context)
    if not form.is_valid():
        return render(request, TEMPLATE, context, status=400)
    data = form.cleaned_data
    try:
        figures, advice = _counter_figures(data)
        plan = outpatient_morning(
            peak_per_hour=data["arrivals_per_hour"],
            target_minutes=data["target_minutes"],
            target_share=data["target_percent"] / 100.0,
            max_occupancy=(data["max_occupancy_percent"] or 100.0) / 100.0,
            reception_minutes=data["service_minutes"],
            priority_share=data["priority_percent"] / 100.0,
            counters={"reception": figures.counters},
        )
        outcome = simulate(plan.scenario, seed=data["seed"])
    except DomainError as error:
        context["problem"] = error.message(get_language())
        return render(request, TEMPLATE, context, status=400)
    context.update(
        counter=figures,
        counter_pct={
            "occupancy": 100 * figures.occupancy,
            "waiting": 100 * figures.probability_of_waiting,
            "service_level": 100 * figures.service_level,
        },
        advice=advice,
        morning=_morning_rows(plan, outcome, figures),
    )
    return render(request, TEMPLATE, context)
