"""Coordinates in metres and great-circle distances.

Everything inside the routing model works on a local plane in metres (x east, y north), so that
snapping, coverage tests and tolerances are plain Euclidean geometry. An equirectangular plane
centred on Hà Nội is enough: over the city's 0.8° of latitude its scale error stays below 0.3%,
far inside the uncertainty of any travel-time estimate.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

EARTH_RADIUS_M = 6_371_008.8

# Centre of the plane: Hoàn Kiếm lake. Any point within a few degrees works as well.
ORIGIN_LAT = 21.03
ORIGIN_LON = 105.85

FloatArray = NDArray[np.float64]


def to_xy(lat: ArrayLike, lon: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Project WGS 84 degrees onto the local plane (metres)."""
    lat_a = np.asarray(lat, dtype=np.float64)
    lon_a = np.asarray(lon, dtype=np.float64)
    scale = math.radians(1.0) * EARTH_RADIUS_M
    x = (lon_a - ORIGIN_LON) * scale * math.cos(math.radians(ORIGIN_LAT))
    y = (lat_a - ORIGIN_LAT) * scale
    return x, y


def to_latlon(x: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """The inverse of `to_xy`."""
    x_a = np.asarray(x, dtype=np.float64)
    y_a = np.asarray(y, dtype=np.float64)
    scale = math.radians(1.0) * EARTH_RADIUS_M
    lon = x_a / (scale * math.cos(math.radians(ORIGIN_LAT))) + ORIGIN_LON
    lat = y_a / scale + ORIGIN_LAT
    return lat, lon


def haversine_m(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> FloatArray:
    """Great-circle distance in metres, element-wise (arrays broadcast)."""
    p1 = np.radians(np.asarray(lat1, dtype=np.float64))
    p2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    h = np.sin(dp / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2.0) ** 2
    result: FloatArray = 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return result
