"""The 115 KPIs: intervals, standards, coverage, and the page."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.urls import reverse

from cityhealth.core import clock
from cityhealth.core.roles import Role
from cityhealth.emergency import kpis
from cityhealth.emergency.coverage import ward_points
from cityhealth.emergency.enums import UnitKind, UnitStatus
from cityhealth.emergency.models import Incident, Unit
from cityhealth.emergency.routing import TravelModel

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
# Monday 13/04/2026, 10:00 in Hà Nội.
MORNING = dt.datetime(2026, 4, 13, 10, 0, tzinfo=HANOI)
_numbers = itertools.count(1)


def incident(
    *,
    received: dt.datetime,
    answer: float | None = 10,
    dispatch: float | None = 50,
    arrive: float | None = 600,
    priority: str = "P1",
    ward: str | None = None,
) -> dict[str, Any]:
    """A `.values()` row; `answer`, `dispatch`, `arrive`: seconds after the call (None: not yet)."""

    def later(seconds: float | None) -> dt.datetime | None:
        return None if seconds is None else received + dt.timedelta(seconds=seconds)

    return {
        "received_at": received.astimezone(dt.UTC),
        "answered_at": later(answer),
        "assigned_at": later(dispatch),
        "on_scene_at": later(arrive),
        "priority": priority,
        "ward_id": ward,
        "ward__name": f"Ward {ward}" if ward else None,
    }


def report(rows: list[dict[str, Any]], **kwargs: Any) -> kpis.Report:
    return kpis.compute_report(rows=rows, standards=kwargs.get("standards", ()), zone=HANOI)


# --- intervals -----------------------------------------------------------------------------


def test_mean_median_and_90th_centile_are_exact():
    arrivals = [60 * m for m in range(1, 11)]  # 1 … 10 minutes
    rows = [incident(received=MORNING, arrive=a) for a in arrivals]
    response = report(rows).overall["response"]
    assert response.count == 10
    assert response.missing == 0
    assert response.mean == 330.0
    assert response.median == 330.0
    assert response.p90 == pytest.approx(float(np.percentile(arrivals, 90))) == 546.0
    answer = report(rows).overall["call_to_answer"]
    assert (answer.mean, answer.p90) == (10.0, 10.0)
    assert report(rows).overall["answer_to_dispatch"].mean == 40.0


def test_missing_or_out_of_order_timestamps_are_left_out_and_counted():
    rows = [
        incident(received=MORNING, arrive=300),
        incident(received=MORNING, arrive=None),  # still on the way
        incident(received=MORNING, answer=None, dispatch=None, arrive=None),  # never answered
        incident(received=MORNING, arrive=-30),  # a wrong clock on a screen
    ]
    overall = report(rows).overall
    assert (overall["response"].count, overall["response"].missing) == (1, 3)
    assert overall["response"].mean == 300.0
    assert (overall["call_to_answer"].count, overall["call_to_answer"].missing) == (3, 1)
    assert overall["answer_to_dispatch"].missing == 1


def test_groups_by_priority_ward_and_hanoi_hour():
    rows = [
        # 23:30 on 12/04 in Hà Nội is 16:30 UTC: hour 23, not 16.
        incident(received=dt.datetime(2026, 4, 12, 23, 30, tzinfo=HANOI), ward="00070"),
        incident(received=MORNING, priority="P2", arrive=1200, ward="09700"),
        incident(received=MORNING, priority="", arrive=None),
    ]
    result = report(rows)
    hours = {group.label: group.incidents for group in result.by_hour}
    assert len(hours) == 24
    assert hours["23"] == 1
    assert hours["10"] == 2
    assert hours["16"] == 0
    assert [group.key for group in result.by_priority] == ["P1", "P2", ""]
    # The slowest ward first; incidents without a ward are a group of their own, unmeasured last.
    assert [group.key for group in result.by_ward] == ["09700", "00070", ""]
    assert result.by_ward[0].label == "Ward 09700"


def test_late_shares_against_the_shipped_standards():
    standards = {s.code: s for s in kpis.load_standards()}
    assert {"hanoi_115", "nhs_arp_cat1", "nhs_arp_cat2", "nfpa_1710_answering"} <= set(standards)
    assert all(s.source for s in standards.values())
    rows = [incident(received=MORNING, arrive=60 * m) for m in (5, 6, 7, 16, 20)]
    rows.append(incident(received=MORNING, priority="P2", arrive=60 * 30))
    result = {
        r.standard.code: r
        for r in report(
            rows, standards=[standards["hanoi_115"], standards["nhs_arp_cat2"]]
        ).standards
    }
    hanoi = result["hanoi_115"]  # P1 only: over 15 minutes is late
    assert (hanoi.count, hanoi.late) == (5, 2)
    assert hanoi.late_share == pytest.approx(0.4)
    assert hanoi.mean == pytest.approx(648.0)
    assert hanoi.mean_met is True
    cat2 = result["nhs_arp_cat2"]
    assert (cat2.count, cat2.late, cat2.mean_met, cat2.centile_met) == (1, 0, False, True)


# --- the period, from the database -------------------------------------------------------


def _store(received: dt.datetime, *, arrive_after: float | None = 480) -> Incident:
    on_scene = None if arrive_after is None else received + dt.timedelta(seconds=arrive_after)
    return Incident.objects.create(
        number=f"260413-{next(_numbers):04d}",
        received_at=received,
        answered_at=received + dt.timedelta(seconds=8),
        assigned_at=received + dt.timedelta(seconds=70),
        on_scene_at=on_scene,
        priority="P1",
    )


@pytest.mark.django_db
def test_the_period_runs_from_local_midnight_to_local_midnight():
    _store(dt.datetime(2026, 4, 12, 23, 59, tzinfo=HANOI))  # the day before
    _store(dt.datetime(2026, 4, 13, 0, 1, tzinfo=HANOI))  # 12/04 17:01 UTC, inside
    _store(dt.datetime(2026, 4, 19, 23, 59, tzinfo=HANOI), arrive_after=None)
    _store(dt.datetime(2026, 4, 20, 0, 0, tzinfo=HANOI))  # the day after
    period = kpis.Period(first=dt.date(2026, 4, 13), last=dt.date(2026, 4, 19))
    rows = kpis.incidents_in_period(period=period, zone=HANOI)
    assert len(rows) == 2
    response = report(rows).overall["response"]
    assert (response.count, response.missing, response.mean) == (1, 1, 480.0)
    assert kpis.Period.last_days(today=dt.date(2026, 4, 19)) == period
    assert kpis.incidents_in_period(period=period, zone=HANOI, priority="P2") == []


# --- coverage ------------------------------------------------------------------------------

HOAN_KIEM, CUA_NAM, BA_VI = "00070", "00082", "09700"
CENTRE = (21.0288, 105.8525)  # 11 Phan Chu Trinh area, the 115 centre


@pytest.fixture(scope="module")
def model() -> TravelModel:
    return TravelModel.shared()


def test_one_unit_in_the_centre_covers_the_centre_at_night_not_the_far_west(model):
    night = dt.datetime(2026, 4, 14, 2, 0, tzinfo=HANOI)
    wards = ward_points()
    assert len(wards) == 126
    coverage = kpis.compute_coverage(origins=[CENTRE], wards=wards, at=night, model=model)
    # Unknown times (none expected here) count as never reached.
    seconds = {item.ward.code: item.seconds or float("inf") for item in coverage.wards}
    assert seconds[HOAN_KIEM] <= 8 * 60
    assert seconds[CUA_NAM] <= 8 * 60
    assert 15 * 60 < seconds[BA_VI] < float("inf")
    population = sum(w.population for w in wards)
    within_8 = sum(w.population for w in wards if seconds[w.code] <= 480)
    assert coverage.population == population
    assert coverage.shares[8] == pytest.approx(within_8 / population)
    assert 0 < coverage.shares[8] < coverage.shares[15] < 1


def test_without_an_available_unit_nobody_is_covered(model):
    wards = ward_points()[:3]
    coverage = kpis.compute_coverage(origins=[], wards=wards, at=MORNING, model=model)
    assert coverage.shares == {8: 0.0, 15: 0.0}
    assert all(item.seconds is None for item in coverage.wards)


@pytest.mark.django_db
def test_available_units_stand_where_they_last_reported():
    at = clock.now()
    common = {"kind": UnitKind.ALS_AMBULANCE, "operator": "centre", "status_since": at}
    Unit.objects.create(code="A", call_sign="A", latitude=21.0, longitude=105.8, **common)
    Unit.objects.create(
        code="B",
        call_sign="B",
        status=UnitStatus.RETURNING,
        latitude=21.1,
        longitude=105.9,
        **common,
    )
    Unit.objects.create(
        code="C",
        call_sign="C",
        status=UnitStatus.EN_ROUTE,
        latitude=21.2,
        longitude=105.7,
        **common,
    )
    Unit.objects.create(code="D", call_sign="D", **common)  # no position, no base: unknown
    assert sorted(kpis.available_unit_points()) == [(21.0, 105.8), (21.1, 105.9)]


# --- the page ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_shows_the_tables_for_a_dispatcher(client_as):
    with clock.frozen_at(MORNING + dt.timedelta(days=1)):
        _store(MORNING)
        page = client_as(Role.DISPATCHER).get(reverse("emergency:kpis"))
    assert page.status_code == 200
    html = page.content.decode()
    for table in ("kpi-overall", "kpi-standards", "kpi-priority", "kpi-ward", "kpi-hour"):
        assert f'id="{table}"' in html
    assert page.context["report"].incidents == 1
    assert page.context["report"].overall["response"].mean == 480.0
    assert "8:00" in html
    assert 'id="kpi-map"' in html


@pytest.mark.django_db
def test_the_period_form_and_filters_narrow_the_incidents(client_as):
    _store(MORNING)
    _store(MORNING - dt.timedelta(days=30))
    client = client_as(Role.MANAGER)
    page = client.get(reverse("emergency:kpis"), {"start": "2026-03-01", "end": "2026-04-13"})
    assert page.context["report"].incidents == 2
    page = client.get(
        reverse("emergency:kpis"), {"start": "2026-03-01", "end": "2026-04-13", "priority": "P3"}
    )
    assert page.context["report"].incidents == 0


@pytest.mark.django_db
def test_coverage_json_gives_every_ward(client_as):
    response = client_as(Role.DISPATCHER).get(reverse("emergency:kpis_coverage"))
    assert response.status_code == 200
    body = response.json()
    assert len(body["wards"]) == 126
    assert body["units"] == 0
    assert body["shares"] == {"8": 0.0, "15": 0.0}


def test_crews_and_receptionists_may_not_see_the_kpis(client_as):
    for role in (Role.CREW, Role.RECEPTIONIST):
        client = client_as(role)
        assert client.get(reverse("emergency:kpis")).status_code == 403
        assert client.get(reverse("emergency:kpis_coverage")).status_code == 403
        assert client.get(reverse("emergency:kpis_wards")).status_code == 403
