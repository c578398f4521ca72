"""Positions from the crews' devices (AVL): what is stored, what moves a unit, what is refused."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client

from cityhealth.accounts.models import ApiClient
from cityhealth.accounts.services import issue_api_token
from cityhealth.core import clock
from cityhealth.core.errors import NotFound
from cityhealth.emergency import services
from cityhealth.emergency.models import Unit, UnitPosition
from cityhealth.emergency.services.units import record_unit_positions

pytestmark = pytest.mark.django_db

HANOI = dt.timezone(dt.timedelta(hours=7))


def make_unit(code: str = "115-00-A1") -> Unit:
    return Unit.objects.create(
        code=code, call_sign=code, kind="als", operator="centre", status_since=clock.now()
    )


def fix(at: dt.datetime, lat: float = 21.03, lon: float = 105.85, **more: Any) -> Any:
    return services.PositionReport(latitude=lat, longitude=lon, at=at, **more)


def test_positions_are_read_back_as_they_were_sent():
    unit = make_unit()
    now = clock.now()
    local = (now - dt.timedelta(seconds=5)).astimezone(HANOI)  # the same instant, another zone
    recorded = record_unit_positions(
        code=" 115-00-A1 ",
        reports=[
            fix(local, 21.01, 105.81, speed_kmh=42.5, heading=90.0),
            fix(now - dt.timedelta(seconds=10), 21.02, 105.82),
        ],
    )
    assert (recorded.stored, recorded.latest_moved, recorded.rejected) == (2, True, [])
    stored = list(UnitPosition.objects.filter(unit=unit).order_by("at"))
    assert [p.at for p in stored] == [now - dt.timedelta(seconds=10), local]
    assert (stored[1].latitude, stored[1].longitude) == (21.01, 105.81)
    assert (stored[1].speed_kmh, stored[1].heading) == (42.5, 90.0)
    assert (stored[0].speed_kmh, stored[0].heading) == (None, None)
    assert all(abs(p.received_at - now) < dt.timedelta(seconds=5) for p in stored)
    unit.refresh_from_db()
    assert (unit.latitude, unit.longitude, unit.position_at) == (21.01, 105.81, local)


def test_a_late_or_repeated_position_is_kept_but_never_moves_the_unit_back():
    unit = make_unit()
    now = clock.now()
    assert record_unit_positions(code=unit.code, reports=[fix(now)]).latest_moved is True
    late = record_unit_positions(code=unit.code, reports=[fix(now - dt.timedelta(minutes=1), 21.0)])
    again = record_unit_positions(code=unit.code, reports=[fix(now, 21.1)])  # a retry
    assert (late.stored, late.latest_moved) == (1, False)
    assert (again.stored, again.latest_moved) == (1, False)
    unit.refresh_from_db()
    assert (unit.latitude, unit.position_at) == (21.03, now)
    assert unit.positions.count() == 3


def test_refused_positions_say_why_in_order_and_store_nothing():
    unit = make_unit()
    now = clock.now()
    answer = record_unit_positions(
        code=unit.code,
        reports=[
            fix(now, 48.85, 2.35),  # Paris
            fix(now.replace(tzinfo=None)),  # no time zone: which instant is it?
            fix(now + dt.timedelta(hours=1)),
            fix(now, float("nan"), 105.85),
        ],
    )
    assert answer.rejected == [
        "location.outside_city",
        "position.no_time_zone",
        "position.in_the_future",
        "location.outside_city",
    ]
    assert (answer.stored, answer.latest_moved) == (0, False)
    unit.refresh_from_db()
    assert unit.position_at is None
    assert not unit.positions.exists()


def test_an_unknown_unit_is_not_found():
    with pytest.raises(NotFound) as info:
        record_unit_positions(code="NOPE", reports=[fix(clock.now())])
    assert info.value.code == "unit.not_found"


def test_a_long_backlog_is_stored_whole():
    unit = make_unit()
    now = clock.now()
    backlog = [fix(now - dt.timedelta(seconds=i), 21.0 + i / 10_000) for i in range(1_200)]
    answer = record_unit_positions(code=unit.code, reports=backlog)
    assert (answer.stored, answer.latest_moved) == (1_200, True)
    assert unit.positions.count() == 1_200
    unit.refresh_from_db()
    assert (unit.latitude, unit.position_at) == (21.0, now)


def test_a_device_posting_one_position_over_http():
    unit = make_unit()
    device = ApiClient.objects.create(name="avl-device", scopes=["report_unit_status"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(client=device).raw}")
    url = f"/api/emergency/units/{unit.code}/positions"
    now = clock.now()

    def post(*positions: dict[str, Any]) -> Any:
        return client.post(url, {"positions": list(positions)}, content_type="application/json")

    moved = post({"latitude": 21.03, "longitude": 105.85, "at": now.isoformat()})
    assert moved.json() == {"stored": 1, "latest_moved": True, "rejected": []}
    naive = post({"latitude": 21.03, "longitude": 105.85, "at": "2026-01-01T08:00:00"})
    assert naive.status_code == 200  # not a 500: refused with its reason
    assert naive.json() == {
        "stored": 0,
        "latest_moved": False,
        "rejected": ["position.no_time_zone"],
    }
    missing = client.post(
        "/api/emergency/units/NOPE/positions",
        {"positions": [{"latitude": 21.03, "longitude": 105.85, "at": now.isoformat()}]},
        content_type="application/json",
    )
    assert missing.status_code == 404
    assert missing.json()["code"] == "unit.not_found"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_end_on_the_newest_whatever_commits_last():
    """Real concurrent transactions: a late fix racing a newer one cannot win."""
    unit = make_unit()
    now = clock.now()
    fixes = [(now, 21.05), (now - dt.timedelta(seconds=30), 21.01)] * 5
    barrier = threading.Barrier(len(fixes))
    failures: list[BaseException] = []

    def report(at: dt.datetime, lat: float) -> None:
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                record_unit_positions(code=unit.code, reports=[fix(at, lat)])
        except BaseException as error:  # reported below, in the test's thread
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=report, args=pair) for pair in fixes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    unit.refresh_from_db()
    assert (unit.latitude, unit.position_at) == (21.05, now)
    assert unit.positions.count() == len(fixes)


def test_a_gateway_posts_the_fixes_of_many_units_at_once():
    a, b = make_unit("115-00-A1"), make_unit("115-00-B1")
    now = clock.now()
    older = now - dt.timedelta(seconds=30)
    Unit.objects.filter(pk=b.pk).update(latitude=21.0, longitude=105.8, position_at=now)
    recorded = services.units.record_fleet_positions(
        reports=[
            ("115-00-A1", fix(now - dt.timedelta(seconds=1), lat=21.031)),
            ("115-00-B1", fix(older, lat=21.032)),  # late: kept for the track only
            ("115-00-A1", fix(now - dt.timedelta(seconds=2), lat=21.030)),
            ("NO-SUCH", fix(now)),
            ("115-00-B1", fix(now - dt.timedelta(seconds=3), lat=10.77, lon=106.70)),
        ]
    )
    assert recorded.stored == 3
    assert recorded.moved == ["115-00-A1"]
    assert recorded.unknown_units == ["NO-SUCH"]
    assert recorded.rejected == ["115-00-B1: location.outside_city"]
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.latitude == 21.031  # the newest of its two fixes
    assert b.latitude == 21.0  # not moved back by the late fix
    assert UnitPosition.objects.filter(unit=b).count() == 1


def test_a_gateway_over_http():
    make_unit("115-00-A1")
    gateway = ApiClient.objects.create(name="fleet-gateway", scopes=["report_unit_status"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(client=gateway).raw}")
    at = clock.now().isoformat()
    body = {"positions": [{"unit": "115-00-A1", "latitude": 21.03, "longitude": 105.85, "at": at}]}
    answer = client.post("/api/emergency/positions", body, content_type="application/json")
    assert answer.status_code == 200
    assert answer.json()["moved"] == ["115-00-A1"]
    broken = client.post("/api/emergency/positions", "{", content_type="application/json")
    assert broken.status_code in {400, 422}
    no_unit = {"positions": [{"latitude": 21.03, "longitude": 105.85, "at": at}]}
    assert (
        client.post(
            "/api/emergency/positions", no_unit, content_type="application/json"
        ).status_code
        == 422
    )
    assert Unit.objects.get(code="115-00-A1").position_at is not None
