"""Domain errors of reception, each with a stable code and words a resident or clerk can act
on (Vietnamese first)."""

from __future__ import annotations

from cityhealth.core.errors import Conflict, InvalidInput, NotFound, not_found


def facility_not_found() -> NotFound:
    return not_found("Facility", "cơ sở y tế")


def visit_not_found() -> NotFound:
    return not_found("Visit", "lượt khám")


def queue_not_found() -> NotFound:
    return not_found("Queue", "hàng chờ")


def clinic_not_found(code: str) -> InvalidInput:
    return InvalidInput(
        "reception.unknown_clinic",
        vi=f"Không có phòng khám «{code[:40]}» ở cơ sở này. Vui lòng chọn lại.",
        en=f"There is no clinic “{code[:40]}” at this facility. Please choose again.",
        field="clinic",
    )


def clinic_unsuited(name: str) -> InvalidInput:
    return InvalidInput(
        "reception.clinic_unsuited",
        vi=f"{name} không khám cho người bệnh này (theo tuổi hoặc giới tính). Vui lòng chọn "
        "phòng khám khác.",
        en=f"{name} does not see this patient (by age or sex). Please choose another clinic.",
        field="clinic",
    )


def no_identity() -> InvalidInput:
    return InvalidInput(
        "reception.no_identity",
        vi="Vui lòng quét mã QR trên căn cước công dân hoặc nhập số định danh 12 chữ số.",
        en="Please scan the QR code on the citizen ID card or type the 12-digit ID number.",
        field="citizen_id",
    )


def not_registered() -> NotFound:
    """A typed number nobody in the registry holds: the desk can register the person."""
    return NotFound(
        "reception.not_registered",
        vi="Không tìm thấy hồ sơ với số định danh này. Vui lòng quét mã QR trên thẻ căn cước "
        "hoặc đến quầy đón tiếp để được hỗ trợ.",
        en="No record holds this ID number. Please scan the QR code on the ID card or go to "
        "the reception desk for help.",
        field="citizen_id",
    )


def deceased() -> Conflict:
    return Conflict(
        "reception.person_deceased",
        vi="Hồ sơ này ghi người đã mất. Vui lòng đến quầy đón tiếp.",
        en="This record says the person has died. Please go to the reception desk.",
    )


def no_room(clinic: str) -> Conflict:
    return Conflict(
        "reception.no_room_open",
        vi=f"{clinic} hiện không có phòng nào mở. Vui lòng chọn phòng khám khác.",
        en=f"{clinic} has no room open now. Please choose another clinic.",
        field="clinic",
    )


def nothing_waiting() -> Conflict:
    """Not a missing record: the queue is, for now, empty."""
    return Conflict(
        "reception.queue_empty",
        vi="Không còn ai đang chờ ở hàng này.",
        en="Nobody is waiting in this queue.",
    )


def entry_moved_on() -> Conflict:
    """The ticket was handled by someone else a moment ago (two staff pressed at once)."""
    return Conflict(
        "reception.entry_moved_on",
        vi="Số này vừa được nhân viên khác xử lý. Vui lòng tải lại danh sách.",
        en="Another staff member has just handled this ticket. Please reload the list.",
    )


def visit_closed() -> Conflict:
    return Conflict(
        "reception.visit_closed",
        vi="Lượt khám này đã kết thúc.",
        en="This visit has ended.",
    )


def bad_priority_group(value: str) -> InvalidInput:
    return InvalidInput(
        "reception.bad_priority_group",
        vi=f"Nhóm ưu tiên «{value[:30]}» không hợp lệ.",
        en=f"“{value[:30]}” is not a priority group.",
        field="priority_groups",
    )


def same_queue() -> InvalidInput:
    return InvalidInput(
        "reception.same_queue",
        vi="Người bệnh đang ở hàng chờ này rồi.",
        en="The patient is already in this queue.",
        field="department",
    )


def kiosk_pass_expired() -> InvalidInput:
    return InvalidInput(
        "reception.kiosk_expired",
        vi="Đã quá thời gian chọn phòng khám. Vui lòng quét lại thẻ căn cước.",
        en="The time to choose a clinic has run out. Please scan the ID card again.",
    )


def unknown_action() -> InvalidInput:
    return InvalidInput(
        "reception.unknown_action",
        vi="Thao tác không hợp lệ.",
        en="Unknown action.",
        field="action",
    )


def person_required() -> InvalidInput:
    return InvalidInput(
        "reception.person_required",
        vi="Vui lòng quét thẻ căn cước, nhập số định danh hoặc chọn người đã đăng ký.",
        en="Please scan the ID card, type the ID number or choose a registered person.",
        field="scan",
    )


def bad_period() -> InvalidInput:
    return InvalidInput(
        "reception.bad_period",
        vi="Khoảng thời gian không hợp lệ: ngày cuối phải sau ngày đầu, tối đa 92 ngày.",
        en="Bad period: the last day must follow the first, 92 days at most.",
        field="last",
    )
