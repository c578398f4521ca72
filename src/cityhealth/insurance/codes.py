"""The gateway's result codes (`maKetQua`) in words: the status each one gives a visit, what
to tell the resident and the precise reason for the desk, in Vietnamese and English.

The table is data (`data/insurance/vss_result_codes.csv`): BHXH changes the list by official
letter, and a change is an edit there, not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from cityhealth.core.datafiles import read_csv
from cityhealth.insurance.types import Eligibility

CODES_FILE = ("insurance", "vss_result_codes.csv")


@dataclass(frozen=True)
class CodeMeaning:
    code: str
    status: Eligibility
    transient: bool  # asking again soon may give another answer (the gateway's own errors)
    resident_vi: str
    resident_en: str
    staff_vi: str
    staff_en: str


@cache
def result_codes() -> dict[str, CodeMeaning]:
    """Every code of the shipped table, by code."""
    table: dict[str, CodeMeaning] = {}
    for row in read_csv(*CODES_FILE):
        table[row["code"]] = CodeMeaning(
            code=row["code"],
            status=Eligibility(row["status"]),
            transient=row["transient"] == "1",
            resident_vi=row["resident_vi"],
            resident_en=row["resident_en"],
            staff_vi=row["staff_vi"],
            staff_en=row["staff_en"],
        )
    return table


_WAITING_VI = "Chưa kiểm tra được thẻ bảo hiểm y tế lúc này; bạn vẫn được tiếp đón bình thường."
_WAITING_EN = "Your insurance card could not be checked just now; your visit goes ahead as usual."


def meaning_of(code: str) -> CodeMeaning:
    """The meaning of a code; one the table lacks is an integration matter, never the
    resident's fault, so the visit waits for a later check (pending)."""
    known = result_codes().get(code)
    if known is not None:
        return known
    return CodeMeaning(
        code=code,
        status=Eligibility.PENDING,
        transient=False,
        resident_vi=_WAITING_VI,
        resident_en=_WAITING_EN,
        staff_vi=f"Cổng BHXH trả mã kết quả chưa biết ({code}): báo bộ phận kỹ thuật.",
        staff_en=f"The gateway answered an unknown result code ({code}): tell the technical team.",
    )


# Why no answer came, in words for the desk (the reasons `gateway.GatewayUnavailable` gives).
_UNREACHABLE = {
    "timeout": ("Cổng BHXH không trả lời kịp.", "The gateway did not answer in time."),
    "connect": ("Không kết nối được cổng BHXH.", "The gateway could not be reached."),
    "breaker_open": (
        "Cổng BHXH đang lỗi liên tiếp: tạm ngừng gọi trong ít phút.",
        "The gateway keeps failing: calls are paused for a few minutes.",
    ),
    "not_configured": (
        "Chưa cấu hình địa chỉ cổng BHXH.",
        "No gateway address is configured.",
    ),
}


def unreachable_meaning(reason: str) -> CodeMeaning:
    """The words of a check the gateway did not answer (down, slow, circuit open)."""
    vi, en = _UNREACHABLE.get(
        reason, (f"Cổng BHXH báo lỗi ({reason}).", f"The gateway failed ({reason}).")
    )
    return CodeMeaning(
        code="",
        status=Eligibility.PENDING,
        transient=True,
        resident_vi=_WAITING_VI,
        resident_en=_WAITING_EN,
        staff_vi=f"{vi} Hệ thống sẽ tự kiểm tra lại thẻ.",
        staff_en=f"{en} The card will be checked again automatically.",
    )
