"""Event medical cover planner: estimates, maximal covering, the printable plan, bad input, and
the check against the A80 National Day parade (02/09/2025). No database."""

from __future__ import annotations

import itertools
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
from cityhealth.emergency.planning.cover import AMBULANCE_OFFSET_M
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


def _lexicographic_key(
    cover: np.ndarray, weights: np.ndarray, times: np.ndarray, chosen: Sequence[int] | np.ndarray
) -> tuple[float, float, float]:
    c = np.asarray(chosen, dtype=np.int64)
    return (
        round(mclp.covered_weight(cover=cover, weights=weights, chosen=c), 6),
        round(mclp.twice_covered_weight(cover=cover, weights=weights, chosen=c), 6),
        -round(float(weights @ times[:, c].min(axis=1)), 6),
    )


def test_milp_is_lexicographic_against_brute_force() -> None:
    """Coverage first, then double coverage, then time to the nearest site: on small random
    instances (some with tied times) the solver's set is the best of all sets in that order."""
    rng = np.random.default_rng(11)
    for _ in range(40):
        demand, sites = int(rng.integers(5, 12)), int(rng.integers(4, 8))
        count = int(rng.integers(1, 4))
        cover = rng.random((demand, sites)) < rng.uniform(0.2, 0.8)
        weights = rng.integers(1, 50, demand).astype(np.float64)
        times = rng.random((demand, sites)) * 600
        if rng.random() < 0.3:
            times = np.round(times / 100) * 100
        best = max(
            _lexicographic_key(cover, weights, times, c)
            for c in itertools.combinations(range(sites), count)
        )
        chosen = mclp.solve(cover=cover, weights=weights, count=count, times=times)
        assert _lexicographic_key(cover, weights, times, chosen) == best


def test_backup_never_costs_first_cover() -> None:
    """Sites 0 and 1 reach the same three people, site 2 a fourth. A weighted backup objective
    (second cover at half weight) prefers 0 + 1: 3 + 1.5 > 4. First cover comes first here."""
    cover = np.array([[1, 1, 0], [1, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=bool)
    weights = np.ones(4)
    chosen = mclp.solve(cover=cover, weights=weights, count=2, backup=True)
    assert mclp.covered_weight(cover=cover, weights=weights, chosen=chosen) == 4
    assert 2 in chosen.tolist()


def test_extra_ambulances_spread_round_a_stadium() -> None:
    """Every standby point round the stadium reaches its whole crowd within 8 minutes, so
    coverage and double coverage tie for any three of them; plain MCLP took three neighbouring
    points (6, 7, 8 of the ring of eight, 201 m apart). Now they stand round the crowd."""
    event = concert()
    est = estimate_casualties(event=event, inside_city=in_box)
    plan = plan_cover(
        event=event,
        estimate=est,
        ambulances=3,
        posts=1,
        coverage_minutes=8,
        drive_times=straight_drive,
        inside_city=in_box,
    )
    sites = plan.ambulances.sites
    assert len(sites) == 3
    gaps = [haversine_m(a.lat, a.lon, b.lat, b.lon) for a, b in itertools.combinations(sites, 2)]
    assert min(gaps) > 300
    assert plan.ambulances.covered_share == pytest.approx(1.0)
    assert plan.ambulances.twice_share == pytest.approx(1.0)
    # Each one is the nearest unit for part of the crowd: none is there only to fill the count.
    assert all(site.crowd_nearest > 0 for site in sites)
    assert sum(site.crowd_nearest for site in sites) == pytest.approx(event.crowd)


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
    assert plan.ambulances.covered_share == pytest.approx(1.0)
    assert plan.posts.covered_share > 0.9
    # Every street has a standby point of its own, on the ring generated round it: plain MCLP
    # left Kim Mã, 1.2 km west of the rest, with none nearer than 1.17 km, and Phan Đình Phùng
    # and Tràng Thi - Hàng Khay with none nearer than 520 m.
    for place in event.places:
        nearest = min(
            haversine_m(place.lat, place.lon, s.lat, s.lon) for s in plan.ambulances.sites
        )
        assert nearest <= place.radius_m + AMBULANCE_OFFSET_M + 1, place.name
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
        "Tiêu chí chọn, theo thứ tự",
        "duy nhất kịp thời cho",
        "Bệnh viện tiếp nhận",
    ):
        assert line in text
    english = render_plan_text(plan, language="en")
    assert "EVENT MEDICAL COVER PLAN" in english
    # Why each site is there: what it alone covers, what it backs up, whom it is nearest to.
    site_lines = [line for line in english.splitlines() if line[:1].isdigit() and ". " in line]
    assert len(site_lines) == len(plan.posts.sites) + len(plan.ambulances.sites)
    for line in site_lines:
        assert "the only one in time for" in line
        assert "one of two in time for" in line
        assert "nearest for" in line


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
