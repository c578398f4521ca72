"""Event medical cover planner: estimates, maximal covering, the printable plan, bad input, and
the check against the A80 National Day parade (02/09/2025). No database."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from cityhealth.core.errors import InvalidInput
from cityhealth.emergency.planning import (
    CandidateSite,
    EventKind,
    EventSpec,
    Place,
    SiteKind,
    estimate_casualties,
    event_from_record,
    mclp,
    plan_cover,
    render_plan_text,
)
from cityhealth.emergency.routing.geometry import haversine_m

HANOI = timezone(timedelta(hours=7))
DATA = Path(__file__).resolve().parents[4] / "data" / "emergency" / "planning"


def in_box(lat: float, lon: float) -> bool:
    """Hà Nội's bounding box: keeps these tests free of the ward map."""
    return 20.5 <= lat <= 21.4 and 105.2 <= lon <= 106.1


def straight_drive(
    origins: Sequence[tuple[float, float]], destination: tuple[float, float], at: datetime
) -> np.ndarray:
    o = np.asarray(origins)
    return haversine_m(o[:, 0], o[:, 1], destination[0], destination[1]) * 1.35 / 6.0


def concert(crowd: int = 20_000, temperature: float = 30.0) -> EventSpec:
    return EventSpec(
        name="Hòa nhạc Mỹ Đình",
        places=(Place("Sân vận động Mỹ Đình", 21.0205, 105.7640, crowd, 40_000),),
        start=datetime(2025, 10, 18, 19, 0, tzinfo=HANOI),
        duration_hours=4,
        kind=EventKind.CONCERT,
        temperature_c=temperature,
        humidity_pct=75,
        alcohol=True,
    )


def a80() -> EventSpec:
    return event_from_record(
        json.loads((DATA / "a80_parade_2025.json").read_text(encoding="utf-8"))
    )


def test_estimate_grows_with_crowd_and_heat() -> None:
    small = estimate_casualties(event=concert(10_000), inside_city=in_box)
    big = estimate_casualties(event=concert(40_000), inside_city=in_box)
    hot = estimate_casualties(event=concert(10_000, temperature=36), inside_city=in_box)
    assert big.patients.expected > small.patients.expected
    assert hot.patients.expected > small.patients.expected
    assert big.recommended.ambulances >= small.recommended.ambulances
    for est in (small, big, hot):
        assert est.patients.low < est.patients.expected < est.patients.high
        assert est.transports.low < est.transports.expected < est.transports.high


def test_milp_covers_at_least_greedy() -> None:
    """On random instances the exact MCLP never does worse than the greedy heuristic, and on
    this classic trap it does strictly better."""
    rng = np.random.default_rng(7)
    for _ in range(20):
        cover = rng.random((30, 12)) < 0.2
        weights = rng.random(30) * 100
        exact = mclp.solve(cover=cover, weights=weights, count=3)
        greedy = mclp.greedy(cover=cover, weights=weights, count=3)
        assert mclp.covered_weight(cover=cover, weights=weights, chosen=exact) >= (
            mclp.covered_weight(cover=cover, weights=weights, chosen=greedy) - 1e-9
        )
    # Site 0 covers the middle, 1 and 2 the halves: greedy grabs 0 first and gets 6 of 8.
    cover = np.array([[0, 1, 0], [0, 1, 0], [1, 1, 0], [1, 1, 0], [1, 0, 1], [1, 0, 1],
                      [0, 0, 1], [0, 0, 1]], dtype=bool)  # fmt: skip
    weights = np.ones(8)
    exact = mclp.solve(cover=cover, weights=weights, count=2)
    greedy = mclp.greedy(cover=cover, weights=weights, count=2)
    assert mclp.covered_weight(cover=cover, weights=weights, chosen=exact) == 8
    assert mclp.covered_weight(cover=cover, weights=weights, chosen=greedy) == 6


def test_more_ambulances_never_cover_less() -> None:
    event = a80()
    est = estimate_casualties(event=event, inside_city=in_box)
    shares = [
        plan_cover(
            event=event,
            estimate=est,
            ambulances=n,
            posts=0,
            coverage_minutes=2,
            drive_times=straight_drive,
            inside_city=in_box,
        ).ambulances.covered_share
        for n in (1, 2, 4, 8)
    ]
    assert shares == sorted(shares)
    assert shares[0] < shares[-1]


def test_backup_variant_and_uncovered_demand() -> None:
    event = concert(30_000)
    est = estimate_casualties(event=event, inside_city=in_box)
    plan = plan_cover(
        event=event,
        estimate=est,
        ambulances=2,
        posts=1,
        coverage_minutes=1,
        backup=True,
        drive_times=straight_drive,
        inside_city=in_box,
    )
    assert len(plan.posts.sites) == 1
    assert len(plan.ambulances.sites) == 2
    assert plan.posts.covered_share >= plan.posts.greedy_share - 1e-9
    assert plan.posts.uncovered  # 1 minute on foot cannot reach a stadium's whole crowd
    json.dumps(plan.as_record())


def test_national_day_parade_2025() -> None:
    """A80 parade (hanoi.md §5.3): planned 37 ambulances and 88 teams; deployed 37 ambulances
    and 94 teams (51 mobile + 37 ambulance crews + 6 others). Patients 10–30/08: 482 (43
    transferred); dress rehearsal 213 (19 transferred).

    Inputs (data/emergency/planning/a80_parade_2025.json): Ba Đình Square 45,000 and the
    reference's "> 1 M visitors" spread over nine streets, 12 h, 32 °C / 75% RH.

    What the models give, honestly: Maurer's tables saturate (score > 120) long before such a
    crowd. Scored as one venue the whole event gets 17 ambulances and 40 first-aid teams
    (57 teams with ambulance crews) — below what Hà Nội deployed; scored place by place, 164
    ambulances and 380 teams — four times it. The deployment lies between the two readings,
    which is the band asserted here. Arbon's mean rates with our heat, age and duration factors
    give ≈ 2,500 patients (band 1,260–5,040) for a million people at once; the published
    counts (213 at the dress rehearsal) are an order of magnitude lower, so either far fewer
    people were there at once than "visitors in the city", or Arbon over-predicts here, as it
    did at the Baltimore Grand Prix. Transports: Arbon's 2.7% gives 68; at the local 9% share
    225 — the local share is the one observed in Hà Nội.
    """
    event = a80()
    est = estimate_casualties(event=event, inside_city=in_box)
    whole, rec = est.maurer_whole_event, est.recommended
    assert whole.ambulances <= 37 <= rec.ambulances
    assert whole.first_aid_teams + whole.ambulances <= 94 <= rec.first_aid_teams + rec.ambulances
    assert (whole.ambulances, whole.first_aid_teams) == (17, 40)
    assert 150 <= rec.ambulances <= 180
    assert 1_000 <= est.patients.expected <= 4_000
    assert est.patients.low > 213  # over-prediction against the dress rehearsal: see above
    assert 0.08 < est.transports.expected / est.patients.expected < 0.1

    plan = plan_cover(
        event=event,
        estimate=est,
        ambulances=37,
        posts=20,
        coverage_minutes=8,
        drive_times=straight_drive,
        inside_city=in_box,
    )
    assert len(plan.ambulances.sites) == 37
    assert plan.posts.covered_share > 0.9
    assert plan.hospitals
    assert plan.hospitals[0].straight_km < 3


def test_printable_plan_in_vietnamese() -> None:
    event = concert()
    est = estimate_casualties(event=event, inside_city=in_box)
    plan = plan_cover(
        event=event,
        estimate=est,
        coverage_minutes=5,
        drive_times=straight_drive,
        inside_city=in_box,
    )
    text = render_plan_text(plan, language="vi")
    for line in (
        "KẾ HOẠCH BẢO ĐẢM Y TẾ SỰ KIỆN",
        "Sự kiện: Hòa nhạc Mỹ Đình",
        "Bệnh nhân dự kiến (thấp / dự kiến / cao):",
        "Xe cứu thương:",
        "Điểm sơ cứu (đi bộ)",
        "Bệnh viện tiếp nhận",
    ):
        assert line in text
    assert "EVENT MEDICAL COVER PLAN" in render_plan_text(plan, language="en")


def test_default_routing_model_checks_the_city() -> None:
    with pytest.raises(InvalidInput) as caught:
        estimate_casualties(event=replace(concert(), places=(Place("x", 10.77, 106.70, 10, 10),)))
    assert caught.value.code == "planning.outside_city"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"places": ()}, "planning.no_places"),
        ({"places": (Place("x", 21.02, 105.76, 0, 100),)}, "planning.bad_crowd"),
        ({"places": (Place("x", 21.02, 105.76, -5, 100),)}, "planning.bad_crowd"),
        ({"duration_hours": 15 * 24}, "planning.bad_duration"),
        ({"places": (Place("x", 48.85, 2.35, 100, 100),)}, "planning.outside_city"),
    ],
)
def test_bad_event_input(change: dict[str, object], code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        estimate_casualties(event=replace(concert(), **change), inside_city=in_box)  # type: ignore[arg-type]
    assert caught.value.code == code
    assert caught.value.message("vi")
    assert caught.value.message("en")


def test_more_posts_than_candidates() -> None:
    event = concert()
    est = estimate_casualties(event=event, inside_city=in_box)
    sites = [CandidateSite("Cổng A", 21.021, 105.765, SiteKind.POST)]
    with pytest.raises(InvalidInput) as caught:
        plan_cover(
            event=event,
            estimate=est,
            candidate_sites=sites,
            posts=2,
            ambulances=0,
            drive_times=straight_drive,
            inside_city=in_box,
        )
    assert caught.value.code == "planning.too_many_sites"


def test_an_event_from_its_json_form_names_what_is_wrong() -> None:
    assert a80().crowd == 45_000 + 8 * 111_000 + 112_000
    broken = [
        ("not an object", "event"),
        ({"name": "x", "places": "none"}, "places"),
        ({"name": "x", "places": [{"name": "a"}]}, "places[0]"),
        ({"name": "x", "places": [], "colour": "red"}, "colour"),
        ({"name": "x", "places": []}, "start"),
    ]
    for raw, field in broken:
        with pytest.raises(InvalidInput) as info:
            event_from_record(raw)
        assert info.value.code == "planning.bad_event"
        assert info.value.field == field
