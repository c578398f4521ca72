"""The drivable ways of the loaded OpenStreetMap extracts, kept as lines with their names:
the gazetteer finds streets and alleys in them and the maps draw them (ODbL: the maps show the
attribution)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import osmium

from cityhealth.core.datafiles import data_path
from cityhealth.emergency.routing.model import EXTRACT_PATTERNS
from cityhealth.emergency.routing.osm import DRIVABLE

# Drawn at every zoom; the rest (residential, service, alleys) only matter up close, and the
# maps draw them thinner.
MAIN_CLASSES = frozenset(
    {"motorway", "trunk", "primary", "secondary", "tertiary"}
    | {f"{c}_link" for c in ("motorway", "trunk", "primary", "secondary", "tertiary")}
)


@dataclass(frozen=True)
class StreetLine:
    name: str  # "" for an unnamed way
    road_class: str
    points: tuple[tuple[float, float], ...]  # (latitude, longitude)


def extract_paths() -> list[Path]:
    folder = data_path("geo")
    return sorted({p for pattern in EXTRACT_PATTERNS for p in folder.glob(pattern)})


@lru_cache(maxsize=1)
def street_lines() -> tuple[StreetLine, ...]:
    """Every drivable way of the shipped extracts, read once per process."""
    lines: list[StreetLine] = []
    for path in extract_paths():
        lines.extend(read_street_lines(path))
    return tuple(lines)


def read_street_lines(path: Path) -> list[StreetLine]:
    processor = (
        osmium.FileProcessor(str(path))
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    lines = []
    for way in processor:
        if not isinstance(way, osmium.osm.Way):
            continue
        road_class = DRIVABLE.get(way.tags.get("highway") or "")
        if road_class is None:
            continue
        points = tuple(
            (round(node.location.lat, 6), round(node.location.lon, 6))
            for node in way.nodes
            if node.location.valid()
        )
        if len(points) >= 2:
            lines.append(StreetLine(way.tags.get("name") or "", road_class, points))
    return lines


@lru_cache(maxsize=1)
def roads_geojson() -> bytes:
    """The street lines as GeoJSON (lon, lat order), with `main` marking the big roads."""
    features = [
        {
            "type": "Feature",
            "properties": {"name": line.name, "main": line.road_class in MAIN_CLASSES},
            "geometry": {
                "type": "LineString",
                "coordinates": [[lon, lat] for lat, lon in line.points],
            },
        }
        for line in street_lines()
    ]
    return json.dumps(
        {"type": "FeatureCollection", "features": features},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
