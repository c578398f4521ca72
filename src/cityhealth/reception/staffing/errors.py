"""Why a staffing question cannot be answered, in Vietnamese and English (stable codes)."""

from __future__ import annotations

from cityhealth.core.errors import InvalidInput


def negative_rate(*, field: str, value: float) -> InvalidInput:
    return InvalidInput(
        "staffing.negative_rate",
        vi=f"Số lượt đến mỗi giờ không được âm (đang là {value:g}).",
        en=f"Arrivals per hour cannot be negative (got {value:g}).",
        field=field,
        value=value,
    )


def not_positive(*, field: str, value: float, vi_name: str, en_name: str) -> InvalidInput:
    return InvalidInput(
        "staffing.not_positive",
        vi=f"{vi_name} phải lớn hơn 0 (đang là {value:g}).",
        en=f"{en_name} must be greater than 0 (got {value:g}).",
        field=field,
        value=value,
    )


def not_finite(*, field: str) -> InvalidInput:
    return InvalidInput(
        "staffing.not_a_number",
        vi="Giá trị phải là một số hữu hạn.",
        en="The value must be a finite number.",
        field=field,
    )


def overloaded(*, load: float, counters: int) -> InvalidInput:
    """Erlang C has no steady state when the counters cannot keep up on average."""
    utilisation = load / counters if counters else float("inf")
    return InvalidInput(
        "staffing.overloaded",
        vi=(
            f"{counters} quầy không đủ: tải là {load:.2f} Erlang, công suất sử dụng "
            f"{utilisation:.0%} (phải dưới 100%), hàng chờ sẽ dài mãi. Cần ít nhất "
            f"{int(load) + 1} quầy."
        ),
        en=(
            f"{counters} counters are not enough: the load is {load:.2f} Erlangs, utilisation "
            f"{utilisation:.0%} (must stay below 100%), so the queue grows without end. At "
            f"least {int(load) + 1} counters are needed."
        ),
        field="counters",
        load=load,
        counters=counters,
    )


def share_out_of_range(*, field: str, value: float) -> InvalidInput:
    return InvalidInput(
        "staffing.share_out_of_range",
        vi=f"Tỷ lệ phải lớn hơn 0% và nhỏ hơn 100% (đang là {value:.1%}).",
        en=f"The share must be above 0% and below 100% (got {value:.1%}).",
        field=field,
        value=value,
    )


def occupancy_out_of_range(*, value: float) -> InvalidInput:
    return InvalidInput(
        "staffing.occupancy_out_of_range",
        vi=f"Mức bận tối đa phải lớn hơn 0% và không quá 100% (đang là {value:.1%}).",
        en=f"The occupancy cap must be above 0% and at most 100% (got {value:.1%}).",
        field="max_occupancy",
        value=value,
    )


def bad_journey(*, vi: str, en: str, field: str = "journey") -> InvalidInput:
    return InvalidInput("staffing.bad_journey", vi=vi, en=en, field=field)


def too_large(*, visits: float, limit: int) -> InvalidInput:
    return InvalidInput(
        "staffing.too_large",
        vi=(
            f"Buổi sáng mô phỏng có khoảng {visits:,.0f} lượt khám, vượt giới hạn {limit:,}; "
            "hãy giảm số lượt đến hoặc số giờ."
        ),
        en=(
            f"The simulated morning has about {visits:,.0f} visits, over the limit of "
            f"{limit:,}; lower the arrivals or the hours."
        ),
        field="arrivals",
        visits=visits,
        limit=limit,
    )
