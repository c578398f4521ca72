"""The gateway's contract (BHXH, CV 1923/BHXH-CNTT, 2024): its paths, the forms it wants
names and passwords in, and the card data of its answers."""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from typing import Any

from cityhealth.insurance.types import CardAnswer

TOKEN_PATH = "/api/token/take"  # noqa: S105 — a path, not a secret
CARD_PATH = "/api/egw/KQNhanLichSuKCB2024"


def upper_name(text: str) -> str:
    """A name as the gateway takes and compares it: NFC, upper case, single spaces."""
    return " ".join(unicodedata.normalize("NFC", text).upper().split())


def password_hash(password: str) -> str:
    """The gateway's form of a password: MD5 as upper-case hex (its rule, not a good one)."""
    return hashlib.md5(password.encode("utf-8"), usedforsecurity=False).hexdigest().upper()


# --- the answer ----------------------------------------------------------------------------


def parse_date(text: object) -> dt.date | None:
    """A date as the gateway writes it: dd/mm/yyyy, ddmmyyyy or yyyy-mm-dd."""
    value = str(text or "").strip()
    for pattern in ("%d/%m/%Y", "%d%m%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(value, pattern).date()  # noqa: DTZ007 — a date
        except ValueError:
            continue
    return None


def parse_answer(body: dict[str, Any]) -> CardAnswer:
    """The card data of a reply; for a re-issued card (003/004) the new card's."""

    def text(key: str) -> str:
        value = body.get(key)
        return "" if value is None else str(value).strip()

    code = text("maKetQua")
    renewed = code in {"003", "004"} and bool(text("maTheMoi"))
    return CardAnswer(
        code=code,
        message=text("ghiChu"),
        card_code=text("maTheMoi") if renewed else text("maThe"),
        holder_name=text("hoTen"),
        birth=text("ngaySinh"),
        primary_care_facility=text("maDKBDMoi") if renewed else text("maDKBD"),
        valid_from=parse_date(body.get("gtTheTuMoi") if renewed else body.get("gtTheTu")),
        valid_to=parse_date(body.get("gtTheDenMoi") if renewed else body.get("gtTheDen")),
        social_insurance_number=text("maSoBHXH"),
        old_card_code=text("maTheCu") or (text("maThe") if renewed else ""),
    )
