"""The routing model's errors: bad input from callers, and a model that cannot be built."""

from __future__ import annotations

from typing import Any

from cityhealth.core.errors import InvalidInput, ServiceUnavailable


class RoutingError(ServiceUnavailable):
    """The routing model could not be built (missing or malformed data file, unreadable extract).

    Raised at load time only: once a model exists, every query for a point inside the city gets
    an answer, at worst a straight-line estimate.
    """


def model_unavailable(*, what_en: str, what_vi: str, **params: Any) -> RoutingError:
    return RoutingError(
        "routing.model_unavailable",
        vi=f"Không dựng được mô hình thời gian di chuyển: {what_vi}.",
        en=f"The travel-time model could not be built: {what_en}.",
        **params,
    )


def outside_city(*, lat: float, lon: float, field: str) -> InvalidInput:
    return InvalidInput(
        "routing.outside_city",
        vi=f"Vị trí ({lat:.5f}, {lon:.5f}) nằm ngoài địa bàn thành phố.",
        en=f"The point ({lat:.5f}, {lon:.5f}) is outside the city.",
        field=field,
        lat=lat,
        lon=lon,
    )


def invalid_coordinates(*, field: str, index: int | None = None) -> InvalidInput:
    where_en = f"{field}[{index}]" if index is not None else field
    return InvalidInput(
        "routing.invalid_coordinates",
        vi=f"Tọa độ không hợp lệ ở {where_en}: cần vĩ độ −90…90 và kinh độ −180…180.",
        en=f"Invalid coordinates in {where_en}: latitude must be −90…90 and longitude −180…180.",
        field=field,
        index=index,
    )


def invalid_access(*, walk_metres: float) -> InvalidInput:
    return InvalidInput(
        "routing.invalid_access",
        vi=f"Quãng đi bộ {walk_metres} m không hợp lệ: cần từ 0 đến 5.000 m.",
        en=f"Walking distance {walk_metres} m is invalid: it must be 0 to 5,000 m.",
        field="access",
        walk_metres=walk_metres,
    )
