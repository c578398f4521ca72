"""Domain errors of the dispatch centre, each with a stable code and a Vietnamese and English
message (the dispatch room reads Vietnamese)."""

from __future__ import annotations

from cityhealth.core.errors import Conflict, InvalidInput, NotFound, not_found


def incident_not_found() -> NotFound:
    return not_found("Incident", "sự vụ")


def unit_not_found() -> NotFound:
    return not_found("Unit", "xe/kíp cấp cứu")


def illegal_status_change(*, unit: str, from_status: str, to_status: str) -> Conflict:
    return Conflict(
        "unit.illegal_status_change",
        vi=f"Xe {unit} không thể chuyển từ trạng thái «{from_status}» sang «{to_status}».",
        en=f"Unit {unit} cannot go from “{from_status}” to “{to_status}”.",
        unit=unit,
        from_status=from_status,
        to_status=to_status,
    )


def unit_not_available(*, unit: str, status: str) -> Conflict:
    return Conflict(
        "unit.not_available",
        vi=f"Xe {unit} không còn sẵn sàng (đang «{status}»); hãy chọn xe khác.",
        en=f"Unit {unit} is no longer available (it is “{status}”); choose another.",
        unit=unit,
        status=status,
    )


def incident_closed(*, number: str) -> Conflict:
    return Conflict(
        "incident.closed",
        vi=f"Sự vụ {number} đã kết thúc hoặc đã huỷ.",
        en=f"Incident {number} is closed or cancelled.",
        number=number,
    )


def stale_draft(*, version: int) -> Conflict:
    return Conflict(
        "incident.stale_draft",
        vi="Phiếu này vừa được lưu ở màn hình khác; hãy tải lại để xem bản mới nhất.",
        en="This form was just saved from another screen; reload to see the latest version.",
        version=version,
    )


def invalid(code: str, *, vi: str, en: str, field: str | None = None) -> InvalidInput:
    return InvalidInput(code, vi=vi, en=en, field=field)


def move_up_not_found() -> NotFound:
    return not_found("Move-up", "đề xuất điều chuyển xe")


def move_up_closed() -> Conflict:
    return Conflict(
        "move_up.closed",
        vi="Đề xuất điều chuyển này đã được xử lý hoặc đã có đề xuất mới hơn.",
        en="This move-up was already decided or a newer one replaced it.",
    )
