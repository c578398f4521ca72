"""Plain values of the insurance app that other apps may use: the eligibility of a person's
BHYT card as a check found it, and the card data the gateway answered."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class Eligibility(StrEnum):
    ELIGIBLE = "eligible"  # 000, 003, 004 (for 003/004 the new card's data)
    CHECK_PAPERS = "check_papers"  # 001, 002: eligible once staff have seen card and ID papers
    NOT_COVERED = "not_covered"  # 010, 110, 120-124, 130: this card pays for nothing today
    MISMATCH = "mismatch"  # 050-053, 060, 061, 070, 080, 090: the data sent match no card
    PENDING = "pending"  # gateway down, slow or refusing our integration: checked again later


# A successful check is one the visit can rely on all day: asked again, the gateway would
# say the same, so the same person's next check that day reuses it.
REUSABLE = frozenset({Eligibility.ELIGIBLE, Eligibility.CHECK_PAPERS})


@dataclass(frozen=True)
class EligibilityResult:
    check_id: int  # the EligibilityCheck row (reception keeps a foreign key to it)
    status: Eligibility
    code: str  # maKetQua ("" while pending)
    resident_vi: str  # plain words for the resident at a kiosk
    resident_en: str
    staff_vi: str  # the precise reason, for the desk
    staff_en: str
    card_code: str
    benefit_level: int | None
    primary_care_facility: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    checked_at: dt.datetime
    reused: bool  # today's earlier successful check, no gateway call
    attempts: int = 0  # gateway attempts made for this check so far
    next_attempt_at: dt.datetime | None = None  # when a pending check is tried again

    def for_resident(self, language: str | None) -> str:
        """The resident's words in `language` ("vi" or "en"; Vietnamese unless English)."""
        english = bool(language) and str(language).lower().startswith("en")
        return self.resident_en if english else self.resident_vi

    def for_staff(self, language: str | None) -> str:
        english = bool(language) and str(language).lower().startswith("en")
        return self.staff_en if english else self.staff_vi


@dataclass(frozen=True)
class CardQuery:
    """The five fields of a card check (`KQNhanLichSuKCB2024`), as the gateway takes them."""

    card: str  # maThe: 15-character BHYT code, 10-digit BHXH number or 12-digit citizen ID
    name: str  # hoTen, upper case with diacritics
    birth: str  # ngaySinh: ddmmyyyy or yyyy
    staff_name: str  # hoTenCb
    staff_citizen_id: str  # cccdCb

    def as_body(self) -> dict[str, str]:
        return {
            "maThe": self.card,
            "hoTen": self.name,
            "ngaySinh": self.birth,
            "hoTenCb": self.staff_name,
            "cccdCb": self.staff_citizen_id,
        }


@dataclass(frozen=True)
class CardAnswer:
    """What the gateway answered about a card (the fields this platform uses)."""

    code: str  # maKetQua
    message: str  # ghiChu
    card_code: str  # maThe, or maTheMoi when a new card was issued (003/004)
    holder_name: str
    birth: str
    primary_care_facility: str  # maDKBD (maDKBDMoi for a new card)
    valid_from: dt.date | None
    valid_to: dt.date | None
    social_insurance_number: str
    old_card_code: str  # the card the new one replaced (003/004)

    @property
    def benefit_level(self) -> int | None:
        """Level 1-5 from the 15-character code's third character (None for 10 digits)."""
        if len(self.card_code) == 15 and self.card_code[2].isdigit():
            return int(self.card_code[2])
        return None


@dataclass(frozen=True)
class Attempt:
    """One HTTP request to the gateway, as the append-only lookup log keeps it."""

    endpoint: str  # "token" or "card"
    username: str
    started_at: dt.datetime
    duration_ms: int
    http_status: int | None
    result_code: str  # maKetQua when the gateway gave one
    error: str  # "timeout", "connect", "http_503", "breaker_open", "" when answered
    request: dict[str, str]  # what was sent, never the password
