"""The call-taker's address search.

Callers say "số 12 ngõ 100 Đội Cấn, phường Ngọc Hà", "gần bệnh viện Xanh Pôn", or the name of
the ward they lived in before the 2025 merger. The search folds diacritics, drops the house
number (no address points are loaded, so a street is as precise as it gets), reads what
follows a comma as a ward hint, and ranks streets and alleys of the loaded extracts, hospitals
and health stations, and wards under their current and former names. Typed coordinates
("21.0287, 105.8524", as read out from a phone's map app) are taken as they are.

Each place carries how far the door may be from its point, so the call-taker knows when to
ask for more or to click on the map.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz

from cityhealth.core.text import fold_for_search
from cityhealth.emergency.places.streets import street_lines
from cityhealth.emergency.routing import TravelModel
from cityhealth.emergency.routing.geometry import haversine_m, to_xy
from cityhealth.facilities.models import Facility
from cityhealth.geo.models import Ward
from cityhealth.geo.selectors import split_formed_from

HANOI = "01"
MIN_SCORE = 72.0
WARD_HINT_SCORE = 88.0
# A ward named after the comma lifts the places in it: by its current name more than by a
# pre-2025 name (an old ward's name may live on in two new wards).
WARD_HINT_BONUS = {"ward": 12.0, "former_ward": 6.0}
# Words that say what kind of place it is, not which one ("Quán Thánh" keeps its "quan").
_GENERIC = re.compile(r"^(pho|duong|phuong|xa|thi tran|p\.|benh vien|bv)\s+")
_DISTRICT = re.compile(r"^(quan|huyen|thi xa|q\.)\s+")
_HOUSE_NUMBER = re.compile(r"^(so\s+|nha\s+)?\d+[a-z]?([/-]\d+[a-z]?)*\s+")
_NEAR = re.compile(r"^(gan|canh|doi dien|truoc|sau)\s+")
_PARENTHESES = re.compile(r"\(.*?\)")
_COORDINATES = re.compile(r"^\s*(-?\d{1,2}\.\d+)\s*[,; ]\s*(-?\d{1,3}\.\d+)\s*$")
# An alley (ngõ, ngách, hẻm, kiệt) may be too narrow for a car: the form asks.
_ALLEY = re.compile(r"^(ngo|ngach|hem|kiet)\b")


@dataclass(frozen=True)
class Place:
    kind: str  # "street", "facility", "ward", "former_ward", "coordinates"
    label: str
    ward_code: str
    ward_name: str
    latitude: float
    longitude: float
    precision_m: int  # how far the door may be from the point
    alley: bool  # a ngõ/ngách: ask whether a car reaches the door
    score: float


@dataclass(frozen=True)
class _Entry:
    kind: str
    label: str
    key: str  # folded, without the generic word
    ward_code: str
    latitude: float
    longitude: float
    precision_m: int
    alley: bool = False


def search_places(query: str, *, limit: int = 8) -> list[Place]:
    """The best places for what the call-taker typed, best first; [] when nothing is close."""
    coordinates = _COORDINATES.match(query)
    if coordinates:
        return _typed_coordinates(float(coordinates[1]), float(coordinates[2]))
    parts = [fold_for_search(part) for part in query.split(",")]
    main = _key(parts[0]) if parts else ""
    if len(main) < 2:
        return []
    wards = _wards()
    ward_entries = _ward_entries(wards)
    hinted = _ward_hints(parts[1:], ward_entries)
    ward_names = {row[0]: row[1] for row in wards}
    scored: list[tuple[float, _Entry]] = []
    for entry in (*_street_entries(), *ward_entries, *_facility_entries()):
        score = _score(main, entry.key)
        score += hinted.get(entry.ward_code, 0.0)
        if score >= MIN_SCORE:
            scored.append((score, entry))
    # Best score first; on a tie the more precise place (a street before its ward).
    scored.sort(key=lambda pair: (-pair[0], pair[1].precision_m, pair[1].label))
    places: list[Place] = []
    seen: set[tuple[str, str]] = set()
    for score, entry in scored:
        if (entry.label, entry.ward_code) in seen:
            continue
        seen.add((entry.label, entry.ward_code))
        places.append(
            Place(
                kind=entry.kind,
                label=entry.label,
                ward_code=entry.ward_code,
                ward_name=ward_names.get(entry.ward_code, ""),
                latitude=entry.latitude,
                longitude=entry.longitude,
                precision_m=entry.precision_m,
                alley=entry.alley,
                score=round(min(score, 100.0), 1),
            )
        )
        if len(places) == limit:
            break
    return places


def _key(folded: str) -> str:
    text = _NEAR.sub("", folded.strip())
    text = _HOUSE_NUMBER.sub("", text)
    return _GENERIC.sub("", text).strip()


def _score(query: str, key: str) -> float:
    # token_set rewards a query whose words all appear ("doi can" in "ngo 100 doi can"); the
    # plain ratio then prefers the entry that says no more than was asked.
    return (fuzz.token_set_ratio(query, key) + fuzz.ratio(query, key)) / 2


def _typed_coordinates(lat: float, lon: float) -> list[Place]:
    ward_code = (
        TravelModel.shared().ward_of(lat, lon) if abs(lat) <= 90 and abs(lon) <= 180 else None
    )
    if ward_code is None:
        return []
    ward_name = Ward.objects.filter(code=ward_code).values_list("name", flat=True).first()
    return [
        Place(
            kind="coordinates",
            label=f"{lat:.6f}, {lon:.6f}",
            ward_code=ward_code,
            ward_name=ward_name or "",
            latitude=lat,
            longitude=lon,
            precision_m=10,
            alley=False,
            score=100.0,
        )
    ]


def _ward_hints(parts: list[str], ward_entries: tuple[_Entry, ...]) -> dict[str, float]:
    """Bonus per ward code for the wards named after the first comma."""
    hinted: dict[str, float] = {}
    for part in parts:
        key = _DISTRICT.sub("", _key(part))
        if len(key) < 2:
            continue
        for entry in ward_entries:
            if fuzz.ratio(key, entry.key) >= WARD_HINT_SCORE:
                bonus = WARD_HINT_BONUS[entry.kind]
                hinted[entry.ward_code] = max(hinted.get(entry.ward_code, 0.0), bonus)
    return hinted


_WARD_FIELDS = ("code", "name", "latitude", "longitude", "area_km2", "formed_from")
_FACILITY_FIELDS = ("name", "ward_id", "latitude", "longitude", "location_is_approximate")
WardRow = tuple[str, str, float | None, float | None, float | None, str]
FacilityRow = tuple[str, str | None, float, float, bool]


def _wards() -> tuple[WardRow, ...]:
    return tuple(Ward.objects.filter(province_id=HANOI).order_by("code").values_list(*_WARD_FIELDS))


# The registers change a few times a year; the entries are rebuilt whenever the rows read
# differ, so an edit shows at the next search without a restart.
@lru_cache(maxsize=4)
def _ward_entries(wards: tuple[WardRow, ...]) -> tuple[_Entry, ...]:
    entries: list[_Entry] = []
    for code, name, lat, lon, area_km2, formed_from in wards:
        if lat is None or lon is None:
            continue
        # Half the width of a round ward of the same area: how far its centre may be.
        radius = int(math.sqrt((area_km2 or 4.0) / math.pi) * 1000)
        names = [("ward", name)] + [
            ("former_ward", _PARENTHESES.sub("", former).strip())
            for former in split_formed_from(formed_from)
        ]
        entries.extend(
            _Entry(
                kind=kind,
                label=label,
                key=_key(fold_for_search(label)),
                ward_code=code,
                latitude=lat,
                longitude=lon,
                precision_m=radius,
            )
            for kind, label in names
            if label
        )
    return tuple(entries)


def _facility_entries() -> tuple[_Entry, ...]:
    rows = Facility.objects.filter(
        is_active=True, latitude__isnull=False, longitude__isnull=False
    ).order_by("code")
    return _facility_entries_of(tuple(rows.values_list(*_FACILITY_FIELDS)))


@lru_cache(maxsize=4)
def _facility_entries_of(rows: tuple[FacilityRow, ...]) -> tuple[_Entry, ...]:
    return tuple(
        _Entry(
            kind="facility",
            label=name,
            key=_key(fold_for_search(name)),
            ward_code=ward or "",
            latitude=lat,
            longitude=lon,
            precision_m=500 if approximate else 100,
        )
        for name, ward, lat, lon, approximate in rows
    )


@lru_cache(maxsize=1)
def _street_entries() -> tuple[_Entry, ...]:
    """One entry per street name and ward: the way node nearest the middle of the street's
    nodes in that ward, and how far its farthest node is."""
    named = [line for line in street_lines() if line.name]
    points = [(line.name, lat, lon) for line in named for lat, lon in line.points]
    if not points:
        return ()
    wards = TravelModel.shared().wards
    x, y = to_xy([p[1] for p in points], [p[2] for p in points])
    groups: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for (name, lat, lon), index in zip(points, wards.ward_index(x, y), strict=True):
        if index >= 0:
            groups[(name, wards.codes[index])].append((lat, lon))
    entries = []
    for (name, ward), located in groups.items():
        lats = np.array([p[0] for p in located])
        lons = np.array([p[1] for p in located])
        to_middle = haversine_m(lats, lons, lats.mean(), lons.mean())
        pick = int(np.argmin(to_middle))
        spread = haversine_m(lats, lons, lats[pick], lons[pick])
        folded = fold_for_search(name)
        entries.append(
            _Entry(
                kind="street",
                label=name,
                key=_key(folded),
                ward_code=ward,
                latitude=float(lats[pick]),
                longitude=float(lons[pick]),
                precision_m=max(25, int(spread.max())),
                alley=bool(_ALLEY.match(folded)),
            )
        )
    return tuple(entries)
