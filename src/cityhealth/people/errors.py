"""Domain errors of the person registry, each with a stable code (API clients switch on them).

`IdClaimedTwice` is special: it is raised *after* the service wrote a review item (and its
audit entry) and before it changed anything else. A boundary that wants the review item to
survive answers the error without rolling the transaction back (the people API and pages do).
"""

from __future__ import annotations

from typing import Any

from cityhealth.core.errors import Conflict, InvalidInput, NotFound, not_found


def person_not_found() -> NotFound:
    """The one answer for a person that does not exist and one the caller may not see."""
    return not_found("Person", "hồ sơ cá nhân")


def merge_not_found() -> NotFound:
    return not_found("Merge", "lần gộp hồ sơ")


def review_item_not_found() -> NotFound:
    return not_found("Review item", "mục cần xem xét")


def invalid(
    code: str, *, vi: str, en: str, field: str | None = None, **params: Any
) -> InvalidInput:
    return InvalidInput(code, vi=vi, en=en, field=field, **params)


class IdClaimedTwice(Conflict):
    """An identifier would belong to two persons. A review item was written; nothing else."""

    def __init__(self, *, kind: str, review_item_id: int) -> None:
        super().__init__(
            "person.id_claimed_twice",
            vi=(
                "Giấy tờ này đã thuộc về một hồ sơ khác trong sổ. Chưa thay đổi gì; "
                f"đã chuyển sang hàng chờ xem xét (mục #{review_item_id})."
            ),
            en=(
                "This identifier already belongs to another person in the registry. Nothing "
                f"was changed; it has been sent to the review queue (item #{review_item_id})."
            ),
            kind=kind,
            review_item_id=review_item_id,
        )
        self.review_item_id = review_item_id


def person_retired(*, survivor_id: int | None) -> Conflict:
    return Conflict(
        "person.merged",
        vi=f"Hồ sơ này đã được gộp vào hồ sơ #{survivor_id}; hãy thao tác trên hồ sơ đó.",
        en=f"This record was merged into record #{survivor_id}; work on that one instead.",
        survivor_id=survivor_id,
    )


def concurrent_change() -> Conflict:
    return Conflict(
        "person.concurrent_change",
        vi="Hồ sơ vừa được người khác thay đổi cùng lúc. Vui lòng thử lại.",
        en="Someone changed this record at the same moment. Please try again.",
    )


def citizen_id_ambiguous() -> Conflict:
    return Conflict(
        "person.citizen_id_ambiguous",
        vi="Số định danh cũ này từng thuộc nhiều hồ sơ; hãy tìm theo số hiện tại hoặc họ tên.",
        en="This earlier ID number was held by several records; search by the current "
        "number or by name.",
    )


def reason_required() -> InvalidInput:
    return invalid(
        "person.reason_required",
        vi="Cần ghi lý do.",
        en="A reason is required.",
        field="reason",
    )


def merge_same_person() -> InvalidInput:
    return invalid(
        "merge.same_person",
        vi="Không thể gộp một hồ sơ với chính nó.",
        en="A record cannot be merged with itself.",
    )


def merge_already_merged() -> Conflict:
    return Conflict(
        "merge.already_merged",
        vi="Một trong hai hồ sơ đã được gộp vào hồ sơ khác.",
        en="One of the two records has already been merged into another.",
    )


def merge_already_undone() -> Conflict:
    return Conflict(
        "merge.already_undone",
        vi="Lần gộp này đã được hoàn tác.",
        en="This merge has already been undone.",
    )


def merge_cannot_undo(*, why_vi: str, why_en: str) -> Conflict:
    return Conflict(
        "merge.cannot_undo",
        vi=f"Không thể hoàn tác lần gộp này: {why_vi}",
        en=f"This merge cannot be undone: {why_en}",
    )


def review_item_closed() -> Conflict:
    return Conflict(
        "review_item.closed",
        vi="Mục này đã được xử lý.",
        en="This item has already been dealt with.",
    )


def review_bad_decision(decision: str) -> InvalidInput:
    return invalid(
        "review_item.bad_decision",
        vi="Cách xử lý này không áp dụng được cho mục này.",
        en="That decision does not apply to this item.",
        field="decision",
        decision=decision,
    )


def search_no_criteria() -> InvalidInput:
    return invalid(
        "person_search.no_criteria",
        vi="Nhập họ tên, năm sinh, ngày sinh, phường/xã hoặc số điện thoại để tìm.",
        en="Enter a name, birth year, date of birth, ward or phone number to search.",
        field="q",
    )
