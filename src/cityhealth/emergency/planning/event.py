"""What the planner is told about a mass gathering, and the checks every entry point runs."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cityhealth.emergency.planning import errors

# Answers "is this point inside Hà Nội?"; the default asks the routing model's ward map.
Locator = Callable[[float, float], bool]


class EventKind(StrEnum):
    PARADE = "parade"  # parades, state ceremonies, processions
    CONCERT = "concert"
    SPORT = "sport"
    FESTIVAL = "festival"
    RELIGIOUS = "religious"
    MARATHON = "marathon"
    EXHIBITION = "exhibition"


class Mobility(StrEnum):
    SEATED = "seated"
    STANDING = "standing"
    MOBILE = "mobile"


@dataclass(frozen=True)
class Place:
    """One place of the event: a square, a stretch of street, a stadium.

    `crowd` is the most people expected there at once; `area_m2` the ground they stand on (for
    a street: length × width of the closed carriageway and pavements).
    """

    name: str
    lat: float
    lon: float
    crowd: int
    area_m2: float

    @property
    def density(self) -> float:
        """People per square metre."""
        return self.crowd / self.area_m2

    @property
    def radius_m(self) -> float:
        """The radius of a disc of the place's area: the planner treats every place as one."""
        return math.sqrt(self.area_m2 / math.pi)


@dataclass(frozen=True)
class EventSpec:
    name: str
    places: tuple[Place, ...]
    start: datetime
    duration_hours: float
    kind: EventKind
    temperature_c: float = 28.0
    humidity_pct: float = 70.0
    indoor: bool = False
    mobility: Mobility = Mobility.STANDING
    alcohol: bool = False
    share_over_60: float = 0.10
    vips: int = 0  # protected persons attending (Maurer's "prominent guests")
    violence_risk: bool = False  # police expect violence (Maurer)

    @property
    def crowd(self) -> int:
        return sum(place.crowd for place in self.places)


def check_event(event: EventSpec, *, inside_city: Locator | None = None) -> None:
    """Raise `InvalidInput` for an event the planner cannot work with."""
    if not event.places:
        raise errors.no_places()
    hours = float(event.duration_hours)
    if not math.isfinite(hours) or hours <= 0 or hours > errors.MAX_DURATION_HOURS:
        raise errors.bad_duration(hours=hours)
    if not 0.0 <= event.share_over_60 <= 1.0:
        raise errors.bad_share(field="share_over_60")
    if event.vips < 0:
        raise errors.bad_count(field="vips", count=event.vips)
    inside = inside_city or default_locator()
    for index, place in enumerate(event.places):
        if not place.crowd > 0:
            raise errors.bad_crowd(index=index, crowd=place.crowd)
        if not (math.isfinite(place.area_m2) and place.area_m2 > 0):
            raise errors.bad_area(index=index)
        check_point(place.lat, place.lon, field=f"places[{index}]", inside_city=inside)


def check_point(lat: float, lon: float, *, field: str, inside_city: Locator) -> None:
    if not (math.isfinite(lat) and math.isfinite(lon) and inside_city(lat, lon)):
        raise errors.outside_city(field=field, lat=lat, lon=lon)


def default_locator() -> Locator:
    """Inside Hà Nội = inside one of its 126 wards (the routing model allows 250 m at the edge)."""
    from cityhealth.emergency.routing import TravelModel

    model = TravelModel.shared()

    def inside(lat: float, lon: float) -> bool:
        if abs(lat) > 90 or abs(lon) > 180:
            return False
        return model.ward_of(lat, lon) is not None

    return inside


def event_from_record(raw: object) -> EventSpec:
    """An event from its JSON form (as in `data/emergency/planning/a80_parade_2025.json`);
    any missing or ill-typed field is an `InvalidInput` naming it, not a crash."""
    from cityhealth.core.errors import InvalidInput

    def bad(field: str) -> InvalidInput:
        return InvalidInput(
            "planning.bad_event",
            vi=f"Thông tin sự kiện không hợp lệ ở «{field}».",
            en=f"The event description is not valid at “{field}”.",
            field=field,
        )

    if not isinstance(raw, dict):
        raise bad("event")
    fields = dict(raw)
    places_raw = fields.pop("places", None)
    if not isinstance(places_raw, list):
        raise bad("places")
    places = []
    for index, item in enumerate(places_raw):
        try:
            places.append(
                Place(
                    name=str(item["name"]),
                    lat=float(item["lat"]),
                    lon=float(item["lon"]),
                    crowd=int(item["crowd"]),
                    area_m2=float(item["area_m2"]),
                )
            )
        except (KeyError, TypeError, ValueError):
            raise bad(f"places[{index}]") from None
    known = {f for f in EventSpec.__dataclass_fields__ if f != "places"}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise bad(unknown[0])
    try:
        fields["start"] = datetime.fromisoformat(str(fields["start"]))
        fields["kind"] = EventKind(fields["kind"])
        if "mobility" in fields:
            fields["mobility"] = Mobility(fields["mobility"])
        return EventSpec(places=tuple(places), **fields)
    except KeyError as missing:
        raise bad(str(missing.args[0])) from None
    except (TypeError, ValueError):
        raise bad("event") from None
