"""Domain errors of reception, each with a stable code and words a resident or clerk can act
on (Vietnamese first)."""

from __future__ import annotations

from cityhealth.core.errors import Conflict, DomainError, InvalidInput, NotFound, not_found


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


# --- walk-ins registered at the desk -----------------------------------------------------------


def registered_not_checked_in(*, person_id: int, cause: DomainError) -> Conflict:
    """The walk-in was registered (kept), but the visit could not be opened: the desk
    corrects what `cause` names and sends the form again, which finds the same person."""
    return Conflict(
        "reception.registered_not_checked_in",
        vi=f"Đã đăng ký người bệnh (số hồ sơ {person_id}) nhưng chưa lấy được số thứ tự: "
        f"{cause.message_vi}",
        en=f"The patient was registered (record number {person_id}) but no ticket was given "
        f"yet: {cause.message_en}",
        field=cause.field,
        person_id=person_id,
        cause=cause.code,
    )


def guardian_not_registered() -> NotFound:
    return NotFound(
        "reception.guardian_not_registered",
        vi="Không có hồ sơ nào mang số định danh này. Vui lòng quét mã QR trên thẻ căn cước "
        "của người giám hộ (hồ sơ sẽ được tạo từ thẻ).",
        en="No record holds this ID number. Please scan the QR code on the guardian's ID card "
        "(the record is made from the card).",
        field="guardian_scan",
    )


def child_not_found() -> NotFound:
    """A child id that is not one of this guardian's children answers as a missing one."""
    return not_found("Child", "trẻ")


def child_details_required() -> InvalidInput:
    return InvalidInput(
        "reception.child_details_required",
        vi="Vui lòng chọn một trẻ đã đăng ký hoặc nhập họ tên và ngày sinh của trẻ.",
        en="Please choose a registered child or type the child's full name and date of birth.",
        field="full_name",
    )


def passport_required() -> InvalidInput:
    return InvalidInput(
        "reception.passport_required",
        vi="Vui lòng nhập số hộ chiếu, nước cấp và họ tên như ghi trong hộ chiếu.",
        en="Please type the passport number, the issuing country and the name as written "
        "in the passport.",
        field="passport",
    )


# --- corrections of a visit --------------------------------------------------------------------


def reason_required() -> InvalidInput:
    return InvalidInput(
        "reception.reason_required",
        vi="Vui lòng ghi lý do sửa.",
        en="Please give the reason for the correction.",
        field="reason",
    )


def nothing_to_change() -> InvalidInput:
    return InvalidInput(
        "reception.nothing_to_change",
        vi="Không có gì thay đổi so với hiện tại.",
        en="Nothing differs from what the visit has now.",
    )


def not_in_first_clinic() -> Conflict:
    return Conflict(
        "reception.not_in_first_clinic",
        vi="Chỉ đổi được phòng khám khi người bệnh còn đang chờ ở phòng khám đầu tiên.",
        en="The clinic can be changed only while the patient still waits in the first clinic.",
        field="clinic",
    )


def already_served() -> Conflict:
    return Conflict(
        "reception.already_served",
        vi="Người bệnh đã được gọi hoặc phục vụ trong lượt khám này: không thể sửa như vậy.",
        en="The patient has already been called or served in this visit: it cannot be "
        "corrected this way.",
    )


def person_has_open_visit(ticket: str) -> Conflict:
    return Conflict(
        "reception.person_has_open_visit",
        vi=f"Người này đang có lượt khám khác ở bệnh viện (số {ticket}).",
        en=f"This person already has another visit open at the hospital (ticket {ticket}).",
        field="person",
    )


def person_unsuited_clinic(name: str) -> InvalidInput:
    return InvalidInput(
        "reception.person_unsuited_clinic",
        vi=f"{name} không khám cho người này (theo tuổi hoặc giới tính). Vui lòng hủy lượt "
        "khám và đón tiếp lại đúng người.",
        en=f"{name} does not see this person (by age or sex). Please cancel the visit and "
        "check the right person in.",
        field="person",
    )
