"""Congestion: free-flow speeds by road (or ward) class, slowed by the time band of the day.

The speed of a class at a moment is

    free_kmh[vehicle][class] × (1 − exposure[class] × (1 − band_factor[vehicle]))

so a band factor of 0.4 at the morning peak cuts a fully exposed road (a primary artery) to
40% of its free speed, while an alley with exposure 0.6 keeps 64%. Motorbikes carry their own
band factors: they filter between cars, so a jam costs them less. All figures live in
`data/emergency/traffic.json` (see its SOURCE.md) so an operator can change them without code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from cityhealth.emergency.routing.errors import model_unavailable
from cityhealth.emergency.routing.geometry import FloatArray


class Vehicle(StrEnum):
    CAR = "car"
    MOTORBIKE = "motorbike"


@dataclass(frozen=True)
class Band:
    """One time band of one kind of day: from `start_minute` after midnight to the next band."""

    day_type: str
    index: int
    name: str
    start_minute: int
    factor: dict[Vehicle, float]

    @property
    def key(self) -> tuple[str, int]:
        return (self.day_type, self.index)

    @property
    def label(self) -> str:
        return f"{self.day_type} {self.name}"


@dataclass(frozen=True)
class ClassSpeeds:
    names: tuple[str, ...]
    free_kmh: dict[Vehicle, FloatArray]  # NaN where the vehicle may not use the class
    exposure: FloatArray

    def index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.names)}

    def speeds_mps(self, vehicle: Vehicle, band: Band) -> FloatArray:
        loss = self.exposure * (1.0 - band.factor[vehicle])
        speeds: FloatArray = self.free_kmh[vehicle] * (1.0 - loss) / 3.6
        return speeds


@dataclass(frozen=True)
class TrafficTable:
    roads: ClassSpeeds
    wards: ClassSpeeds
    dense_ward_people_per_km2: float
    circuity: float
    ward_graph_circuity: float
    walk_with_kit_mps: float
    motorbike_alley_mps: float
    bands: dict[str, tuple[Band, ...]]
    utc_offset: timezone

    @classmethod
    def from_file(cls, path: Path) -> TrafficTable:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return cls.from_dict(raw)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise model_unavailable(
                what_en=f"traffic table {path.name} is missing or malformed ({error})",
                what_vi=f"bảng giao thông {path.name} thiếu hoặc sai định dạng ({error})",
            ) from error

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrafficTable:
        bands = {day: _bands(day, rows) for day, rows in raw["bands"].items()}
        if set(bands) != {"weekday", "weekend"}:
            raise ValueError("bands must have exactly 'weekday' and 'weekend'")
        table = cls(
            roads=_class_speeds(raw["road_classes"]),
            wards=_class_speeds(raw["ward_classes"]),
            dense_ward_people_per_km2=float(raw["dense_ward_people_per_km2"]),
            circuity=float(raw["circuity"]),
            ward_graph_circuity=float(raw["ward_graph_circuity"]),
            walk_with_kit_mps=float(raw["walk_with_kit_mps"]),
            motorbike_alley_mps=float(raw["motorbike_alley_kmh"]) / 3.6,
            bands=bands,
            utc_offset=timezone(timedelta(hours=float(raw["utc_offset_hours"]))),
        )
        if not (1.0 <= table.circuity <= 3.0 and 1.0 <= table.ward_graph_circuity <= 3.0):
            raise ValueError("circuity factors must be between 1 and 3")
        if set(table.wards.names) != {"dense", "urban", "rural"}:
            raise ValueError("ward_classes must be 'dense', 'urban' and 'rural'")
        if np.isnan(table.wards.free_kmh[Vehicle.MOTORBIKE]).any():
            raise ValueError("every ward class needs a motorbike speed")
        return table

    def band_at(self, at: datetime) -> Band:
        """The band in force at `at`; a naive datetime is read as the city's local time."""
        local = at.astimezone(self.utc_offset) if at.tzinfo is not None else at
        day_type = "weekend" if local.weekday() >= 5 else "weekday"
        minute = local.hour * 60 + local.minute
        current = self.bands[day_type][0]
        for band in self.bands[day_type]:
            if band.start_minute <= minute:
                current = band
        return current


def _class_speeds(rows: dict[str, dict[str, Any]]) -> ClassSpeeds:
    names = tuple(rows)
    free = {
        vehicle: np.array(
            [
                np.nan if rows[n][f"{vehicle}_kmh"] is None else float(rows[n][f"{vehicle}_kmh"])
                for n in names
            ],
            dtype=np.float64,
        )
        for vehicle in Vehicle
    }
    exposure = np.array([float(rows[n]["exposure"]) for n in names], dtype=np.float64)
    for speeds in free.values():
        if (speeds[~np.isnan(speeds)] <= 0).any():
            raise ValueError("speeds must be positive")
    if ((exposure < 0) | (exposure > 1)).any():
        raise ValueError("exposure must be between 0 and 1")
    return ClassSpeeds(names=names, free_kmh=free, exposure=exposure)


def _bands(day_type: str, rows: list[dict[str, Any]]) -> tuple[Band, ...]:
    bands = []
    for index, row in enumerate(rows):
        hours, minutes = (int(part) for part in str(row["from"]).split(":"))
        factor = {vehicle: float(row[str(vehicle)]) for vehicle in Vehicle}
        if not all(0.05 <= value <= 1.0 for value in factor.values()):
            raise ValueError(f"band factors must be between 0.05 and 1 ({day_type} {row['from']})")
        bands.append(Band(day_type, index, str(row["name"]), hours * 60 + minutes, factor))
    starts = [band.start_minute for band in bands]
    if not bands or starts[0] != 0 or starts != sorted(starts):
        raise ValueError(f"{day_type} bands must start at 00:00 and be in order")
    return tuple(bands)
