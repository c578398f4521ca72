"""The text in the QR code of a chip citizen ID card (CCCD, and the 2024 "thẻ căn cước").

Fields 0–6 are read as on the 2021 card: ID number | old ID | name | date of birth | sex |
address | issue date. Newer cards append more fields whose order is not confirmed, so those
are kept raw. A string with fewer than 7 fields is refused rather than read with a guessed
shift: a wrong guess would put the name in the date field and a date in the address.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from cityhealth.core import clock
from cityhealth.core.errors import InvalidInput
from cityhealth.core.identifiers.citizen_id import (
    CitizenId,
    IdentifierWarning,
    Sex,
    check_consistency,
    parse_citizen_id,
)

# A QR code holds under 3 KB; anything much longer is not a card and is not worth reading.
MAX_LENGTH = 4096
_MIN_FIELDS = 7
_DDMMYYYY = re.compile(r"[0-9]{8}")
_OLD_ID = re.compile(r"[0-9]{9}|[0-9]{12}")
_SEX_WORDS = {"nam": Sex.MALE, "nữ": Sex.FEMALE}


class OldIdKind(StrEnum):
    NONE = "none"
    CMND = "cmnd"  # 9-digit identity card number of the pre-2016 system
    CANCELLED_ID = "cancelled_id"  # a 12-digit number cancelled and re-issued (new cards)


@dataclass(frozen=True)
class CccdQr:
    citizen_id: CitizenId
    old_id: str | None
    old_id_kind: OldIdKind
    full_name: str
    date_of_birth: dt.date
    sex: Sex
    address: str
    issue_date: dt.date
    extra_fields: tuple[str, ...]  # fields after the 7th, exactly as read
    warnings: tuple[IdentifierWarning, ...]

    @property
    def id_consistent(self) -> bool:
        """True when the ID's digits agree with the date of birth and sex on the card."""
        return not self.warnings


def parse_cccd_qr(raw: str) -> CccdQr:
    """Read the QR text of a CCCD; raise `InvalidInput` naming the first field that is wrong."""
    if not isinstance(raw, str) or not raw.strip():
        raise _invalid("cccd_qr.empty", "Mã QR trống.", "The QR text is empty.", field="raw")
    if len(raw) > MAX_LENGTH:
        raise _invalid(
            "cccd_qr.too_long",
            f"Mã QR dài quá {MAX_LENGTH} ký tự, không phải mã của thẻ căn cước.",
            f"The QR text is longer than {MAX_LENGTH} characters; it is not from an ID card.",
            field="raw",
        )
    # Some scanners end what they type with CR/LF; it belongs to the scanner, not the card.
    fields = raw.rstrip("\r\n").split("|")
    if len(fields) < _MIN_FIELDS:
        raise _invalid(
            "cccd_qr.too_few_fields",
            f"Mã QR có {len(fields)} trường, thẻ căn cước có ít nhất {_MIN_FIELDS}.",
            f"The QR text has {len(fields)} fields; an ID card has at least {_MIN_FIELDS}.",
            field="raw",
            count=len(fields),
        )
    citizen_id = _read_id(fields[0])
    old_id, old_id_kind = _read_old_id(fields[1])
    full_name = _read_name(fields[2])
    date_of_birth = _read_date(fields[3], field="date_of_birth", what_vi="ngày sinh")
    if date_of_birth > clock.today():
        raise _invalid(
            "cccd_qr.birth_date_in_future",
            "Ngày sinh trong mã QR là một ngày chưa tới.",
            "The date of birth in the QR text is in the future.",
            field="date_of_birth",
        )
    sex = _read_sex(fields[4])
    address = unicodedata.normalize("NFC", fields[5]).strip()
    issue_date = _read_date(fields[6], field="issue_date", what_vi="ngày cấp")
    if issue_date < date_of_birth:
        raise _invalid(
            "cccd_qr.issued_before_birth",
            "Ngày cấp trong mã QR sớm hơn ngày sinh.",
            "The issue date in the QR text is before the date of birth.",
            field="issue_date",
        )
    if issue_date > clock.today():
        raise _invalid(
            "cccd_qr.issue_date_in_future",
            "Ngày cấp trong mã QR là một ngày chưa tới.",
            "The issue date in the QR text is in the future.",
            field="issue_date",
        )
    warnings = check_consistency(citizen_id, birth_date=date_of_birth, sex=sex)
    return CccdQr(
        citizen_id=citizen_id,
        old_id=old_id,
        old_id_kind=old_id_kind,
        full_name=full_name,
        date_of_birth=date_of_birth,
        sex=sex,
        address=address,
        issue_date=issue_date,
        extra_fields=tuple(fields[_MIN_FIELDS:]),
        warnings=tuple(warnings),
    )


def _invalid(code: str, vi: str, en: str, *, field: str, **params: object) -> InvalidInput:
    return InvalidInput(code, vi=vi, en=en, field=field, **params)


def _read_id(text: str) -> CitizenId:
    # The ID parser forgives surrounding spaces (typed input); a card never has them.
    candidate = text if text == text.strip() else ""
    try:
        return parse_citizen_id(candidate)
    except InvalidInput as error:
        raise _invalid(
            "cccd_qr.bad_id_number",
            f"Trường đầu tiên của mã QR không phải số định danh hợp lệ. {error.message_vi}",
            f"The first field of the QR text is not a valid ID number. {error.message_en}",
            field="citizen_id",
            reason=error.code,
        ) from error


def _read_old_id(text: str) -> tuple[str | None, OldIdKind]:
    if text == "":
        return None, OldIdKind.NONE
    if not _OLD_ID.fullmatch(text):
        raise _invalid(
            "cccd_qr.bad_old_id",
            "Trường thứ hai của mã QR phải để trống, hoặc là số CMND 9 chữ số, "
            "hoặc số định danh cũ 12 chữ số.",
            "The second field of the QR text must be empty, a 9-digit old ID card number "
            "or a 12-digit cancelled ID number.",
            field="old_id",
        )
    return text, OldIdKind.CMND if len(text) == 9 else OldIdKind.CANCELLED_ID


def _read_name(text: str) -> str:
    name = " ".join(unicodedata.normalize("NFC", text).split())
    if not name:
        raise _invalid(
            "cccd_qr.empty_name",
            "Họ và tên trong mã QR bị trống.",
            "The full name in the QR text is empty.",
            field="full_name",
        )
    if any(unicodedata.category(char).startswith("C") for char in name):
        raise _invalid(
            "cccd_qr.bad_name",
            "Họ và tên trong mã QR chứa ký tự điều khiển.",
            "The full name in the QR text contains control characters.",
            field="full_name",
        )
    return name


def _read_date(text: str, *, field: str, what_vi: str) -> dt.date:
    # Years before 1900 cannot occur: the ID number itself starts its centuries at 1900.
    if _DDMMYYYY.fullmatch(text) and int(text[4:]) >= 1900:
        try:
            return dt.date(int(text[4:]), int(text[2:4]), int(text[:2]))
        except ValueError:
            pass
    raise _invalid(
        "cccd_qr.bad_date",
        f"{what_vi.capitalize()} trong mã QR phải là một ngày có thật, dạng ddmmyyyy.",
        f"The {field.replace('_', ' ')} in the QR text must be a real date written ddmmyyyy.",
        field=field,
    )


def _read_sex(text: str) -> Sex:
    # Some readers hand over decomposed Unicode (u + combining marks); NFC makes both one form.
    sex = _SEX_WORDS.get(unicodedata.normalize("NFC", text.strip()).casefold())
    if sex is None:
        raise _invalid(
            "cccd_qr.bad_sex",
            "Giới tính trong mã QR phải là “Nam” hoặc “Nữ”.",
            "The sex in the QR text must be “Nam” or “Nữ”.",
            field="sex",
        )
    return sex
