"""Bad input to the event planner: one `InvalidInput` per rule, each with a stable code."""

from __future__ import annotations

from cityhealth.core.errors import InvalidInput

MAX_DURATION_HOURS = 14 * 24


def no_places() -> InvalidInput:
    return InvalidInput(
        "planning.no_places",
        vi="Sự kiện phải có ít nhất một địa điểm.",
        en="The event needs at least one place.",
        field="places",
    )


def bad_crowd(*, index: int, crowd: float) -> InvalidInput:
    return InvalidInput(
        "planning.bad_crowd",
        vi=f"Số người dự kiến tại địa điểm số {index + 1} phải lớn hơn 0 (nhận {crowd:g}).",
        en=f"The expected crowd at place {index + 1} must be above 0 (got {crowd:g}).",
        field=f"places[{index}].crowd",
        crowd=crowd,
    )


def bad_area(*, index: int) -> InvalidInput:
    return InvalidInput(
        "planning.bad_area",
        vi=f"Diện tích địa điểm số {index + 1} phải lớn hơn 0.",
        en=f"The area of place {index + 1} must be above 0.",
        field=f"places[{index}].area_m2",
    )


def bad_duration(*, hours: float) -> InvalidInput:
    return InvalidInput(
        "planning.bad_duration",
        vi=f"Thời lượng sự kiện phải trên 0 và không quá 14 ngày (nhận {hours:g} giờ).",
        en=f"The event must last more than 0 hours and at most 14 days (got {hours:g} h).",
        field="duration_hours",
        hours=hours,
    )


def outside_city(*, field: str, lat: float, lon: float) -> InvalidInput:
    return InvalidInput(
        "planning.outside_city",
        vi=f"Vị trí ({lat:.5f}, {lon:.5f}) nằm ngoài địa bàn Hà Nội.",
        en=f"The point ({lat:.5f}, {lon:.5f}) is outside Hà Nội.",
        field=field,
        lat=lat,
        lon=lon,
    )


def bad_share(*, field: str) -> InvalidInput:
    return InvalidInput(
        "planning.bad_share",
        vi="Tỷ lệ phải nằm trong khoảng 0 đến 1.",
        en="A share must lie between 0 and 1.",
        field=field,
    )


def bad_count(*, field: str, count: int) -> InvalidInput:
    return InvalidInput(
        "planning.bad_count",
        vi=f"Số lượng phải từ 0 trở lên (nhận {count}).",
        en=f"A count must be 0 or more (got {count}).",
        field=field,
    )


def bad_minutes(*, minutes: float) -> InvalidInput:
    return InvalidInput(
        "planning.bad_coverage_minutes",
        vi="Thời gian tiếp cận mục tiêu phải lớn hơn 0 phút và không quá 60 phút.",
        en="The coverage time must be above 0 and at most 60 minutes.",
        field="coverage_minutes",
        minutes=minutes,
    )


def too_many_sites(*, field: str, asked: int, candidates: int) -> InvalidInput:
    return InvalidInput(
        "planning.too_many_sites",
        vi=f"Yêu cầu {asked} vị trí nhưng chỉ có {candidates} vị trí ứng viên.",
        en=f"{asked} sites were asked for but there are only {candidates} candidate sites.",
        field=field,
        asked=asked,
        candidates=candidates,
    )
