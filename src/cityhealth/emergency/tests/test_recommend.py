"""The fastest right unit: travel times from the city model, care level from the triage."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cityhealth.core import clock
from cityhealth.core.errors import InvalidInput
from cityhealth.emergency.enums import Operator, UnitKind, UnitStatus
from cityhealth.emergency.models import Incident, Unit
from cityhealth.emergency.recommend import recommend_units

pytestmark = pytest.mark.django_db

HANG_BONG = (21.0290, 105.8470)  # central, inside the street extract
NEAR = (21.0300, 105.8480)
MIDDLE = (21.0200, 105.8300)
FAR = (20.9734, 105.7780)  # Hà Đông
HANOI = dt.timezone(dt.timedelta(hours=7))


def unit(code: str, kind: str, point: tuple[float, float], **fields: Any) -> Unit:
    return Unit.objects.create(
        code=code,
        call_sign=code,
        kind=kind,
        operator=Operator.CENTRE,
        status_since=clock.now(),
        latitude=point[0],
        longitude=point[1],
        position_at=clock.now(),
        **fields,
    )


def incident(**fields: Any) -> Incident:
    fields.setdefault("latitude", HANG_BONG[0])
    fields.setdefault("longitude", HANG_BONG[1])
    return Incident.objects.create(
        number=f"t-{Incident.objects.count()}", received_at=clock.now(), **fields
    )


def codes(found: list[Any]) -> list[str]:
    return [r.unit.code for r in found]


def test_fastest_capable_ambulance_first_and_busy_units_left_out():
    unit("BLS-NEAR", UnitKind.BLS_AMBULANCE, NEAR)
    unit("ALS-MID", UnitKind.ALS_AMBULANCE, MIDDLE)
    unit("ALS-FAR", UnitKind.ALS_AMBULANCE, FAR)
    unit("ALS-BUSY", UnitKind.ALS_AMBULANCE, NEAR, status=UnitStatus.ON_SCENE)
    p1 = incident(priority="P1", triage={"care": "als", "motorbike": "no"})
    found = recommend_units(incident=p1)
    assert codes(found) == ["ALS-MID", "ALS-FAR", "BLS-NEAR"]
    assert found[0].capable
    assert not found[2].capable
    assert "below_care=als" in found[2].reasons
    assert found[0].eta_seconds < found[1].eta_seconds
    # Basic care: the nearest ambulance of any kind.
    p3 = incident(priority="P3", triage={"care": "bls", "motorbike": "no"})
    assert codes(recommend_units(incident=p3))[0] == "BLS-NEAR"


def test_motorbike_goes_ahead_into_an_alley():
    unit("ALS-MID", UnitKind.ALS_AMBULANCE, MIDDLE)
    unit("BIKE", UnitKind.MOTORBIKE, NEAR)
    alley = incident(
        priority="P1", triage={"care": "als", "motorbike": "allowed"}, car_reachable=False,
        walk_metres=300,
    )  # fmt: skip
    found = recommend_units(incident=alley)
    assert codes(found) == ["ALS-MID", "BIKE"]
    assert found[1].role == "first_responder"
    assert found[1].eta_seconds < found[0].eta_seconds
    no_bikes = incident(priority="P1", triage={"care": "als", "motorbike": "no"})
    assert codes(recommend_units(incident=no_bikes)) == ["ALS-MID"]


def test_peak_hour_is_slower_than_night():
    unit("ALS-FAR", UnitKind.ALS_AMBULANCE, FAR)
    call = incident(priority="P1", triage={"care": "als"})
    night = dt.datetime(2026, 11, 23, 3, 0, tzinfo=HANOI)  # a Monday
    peak = dt.datetime(2026, 11, 23, 8, 0, tzinfo=HANOI)
    slow = recommend_units(incident=call, at=peak)[0].eta_seconds
    fast = recommend_units(incident=call, at=night)[0].eta_seconds
    assert slow > fast * 1.3


def test_no_location_no_recommendation():
    with pytest.raises(InvalidInput):
        recommend_units(incident=incident(latitude=None, longitude=None))


def test_lower_priorities_spare_the_unit_that_alone_covers_a_district(monkeypatch):
    from cityhealth.emergency import recommend

    # Mid-morning: in the evening rush MID is beyond a P3's tolerance of the fastest.
    with clock.frozen_at(dt.datetime(2026, 3, 10, 3, 0, tzinfo=dt.UTC)):
        near = unit("NEAR", UnitKind.ALS_AMBULANCE, NEAR)
        other = unit("MID", UnitKind.ALS_AMBULANCE, MIDDLE)
        # NEAR alone reaches 50,000 residents within 15 minutes; MID leaves nobody uncovered.
        lost = {near.pk: 50_000, other.pk: 0}
        monkeypatch.setattr(recommend, "_coverage_lost", lambda **_: lost)
        p3 = recommend_units(incident=incident(priority="P3", triage={"care": "bls"}))
        assert codes(p3)[:2] == ["MID", "NEAR"]
        assert "chosen_for_coverage" in p3[0].reasons
        assert p3[1].coverage_lost == 50_000
        # A P1 always gets the fastest, whatever it leaves uncovered.
        p1 = recommend_units(incident=incident(priority="P1", triage={"care": "als"}))
        assert codes(p1)[0] == "NEAR"
        assert "coverage_lost=50000" in p1[0].reasons


def test_coverage_lost_counts_the_residents_only_one_unit_reaches():
    centre = unit("CENTRE", UnitKind.ALS_AMBULANCE, HANG_BONG)
    far = unit("FAR", UnitKind.ALS_AMBULANCE, FAR)
    found = recommend_units(incident=incident(priority="P2", triage={"care": "als"}))
    lost = {r.unit.code: r.coverage_lost for r in found}
    assert lost["CENTRE"] > 100_000  # the old quarter depends on it alone
    assert lost["FAR"] > 0
    assert centre.pk != far.pk
