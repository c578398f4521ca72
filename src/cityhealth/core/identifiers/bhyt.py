"""Health insurance (BHYT) card codes: the 15-character code and the bare 10-digit number.

15 characters `GG L PP NNNNNNNNNN`: beneficiary group, benefit level 1–5, province of the
issuing BHXH office, and the lifelong 10-digit social-insurance number (mã số BHXH). Cards
printed since 04/2021 show only the 10 digits; group, level and province then come from the
gateway, so a 10-digit answer leaves them empty rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType

from cityhealth.core.datafiles import read_csv
from cityhealth.core.errors import InvalidInput
from cityhealth.core.identifiers.citizen_id import IdentifierWarning

_FIELD = "bhyt_code"
_TEN_DIGITS = re.compile(r"[0-9]{10}")
_TWO_DIGITS = re.compile(r"[0-9]{2}")

# Nominal share of covered costs BHYT pays at each card level (QĐ 1351 summary). Indicative
# only: the real co-payment also depends on the facility's level, the visit-reason code and
# the 5-year exemption (NĐ 188/2025/NĐ-CP), which the insurance app models as dated rules.
NOMINAL_BENEFIT_PERCENT: Mapping[int, int] = MappingProxyType(
    {1: 100, 2: 100, 3: 95, 4: 80, 5: 100}
)


class BhytForm(StrEnum):
    FULL_CODE = "full_code"  # the 15-character card code
    BHXH_NUMBER = "bhxh_number"  # the bare 10-digit social-insurance number


@dataclass(frozen=True)
class BhytGroup:
    code: str
    level: int  # the level the group's table implies; a card may print another
    meaning_vi: str
    meaning_en: str
    verified: bool  # False: meaning or level not yet confirmed in a primary source


@dataclass(frozen=True)
class BhytCode:
    form: BhytForm
    code: str  # as normalised: upper case, no surrounding spaces
    social_insurance_number: str
    group: BhytGroup | None  # None for the bare number
    card_level: int | None  # the level printed on the card, which is the one that counts
    province_code: str | None
    warnings: tuple[IdentifierWarning, ...]

    @property
    def group_level(self) -> int | None:
        return self.group.level if self.group else None

    @property
    def nominal_benefit_percent(self) -> int | None:
        """Indicative share of covered costs for the card's level; not what the patient owes."""
        return NOMINAL_BENEFIT_PERCENT[self.card_level] if self.card_level else None


@lru_cache(maxsize=1)
def bhyt_groups() -> Mapping[str, BhytGroup]:
    """The 43 beneficiary groups by code (read once from the shipped data)."""
    return MappingProxyType(
        {
            row["code"]: BhytGroup(
                code=row["code"],
                level=int(row["level"]),
                meaning_vi=row["meaning_vi"],
                meaning_en=row["meaning_en"],
                verified=row["verified"] == "yes",
            )
            for row in read_csv("identity", "bhyt_groups.csv")
        }
    )


def parse_bhyt_code(text: str) -> BhytCode:
    """Read a 15-character BHYT card code or a 10-digit BHXH number; say which it was."""
    code = text.strip() if isinstance(text, str) else ""
    # Upper-case only after checking for ASCII: str.upper() turns some non-Latin letters
    # (the long s, ligatures) into Latin ones and would let them pass as a group code.
    code = code.upper() if code.isascii() else ""
    if len(code) == 10:
        return _bare_number(code)
    if len(code) == 15:
        return _full_code(code)
    raise InvalidInput(
        "bhyt.bad_format",
        vi="Mã thẻ BHYT phải gồm 15 ký tự (ví dụ DN4010123456789) hoặc 10 chữ số mã số BHXH.",
        en="A BHYT code is 15 characters (e.g. DN4010123456789) or the 10-digit BHXH number.",
        field=_FIELD,
    )


def _bare_number(code: str) -> BhytCode:
    _check_number(code)
    return BhytCode(
        form=BhytForm.BHXH_NUMBER,
        code=code,
        social_insurance_number=code,
        group=None,
        card_level=None,
        province_code=None,
        warnings=(),
    )


def _full_code(code: str) -> BhytCode:
    group = bhyt_groups().get(code[:2])
    if group is None:
        raise InvalidInput(
            "bhyt.unknown_group",
            vi=f"“{code[:2]}” không phải mã đối tượng BHYT nào trong 43 mã.",
            en=f"“{code[:2]}” is not one of the 43 BHYT beneficiary group codes.",
            field=_FIELD,
            group=code[:2],
        )
    if code[2] not in "12345":
        raise InvalidInput(
            "bhyt.bad_level",
            vi="Ký tự thứ 3 của mã thẻ BHYT là mức hưởng, phải từ 1 đến 5.",
            en="The 3rd character of a BHYT code is the benefit level and must be 1 to 5.",
            field=_FIELD,
        )
    if not _TWO_DIGITS.fullmatch(code[3:5]):
        raise InvalidInput(
            "bhyt.bad_province",
            vi="Ký tự thứ 4–5 của mã thẻ BHYT là mã tỉnh, phải là 2 chữ số.",
            en="Characters 4–5 of a BHYT code are the province code and must be 2 digits.",
            field=_FIELD,
        )
    _check_number(code[5:])
    card_level = int(code[2])
    warnings: tuple[IdentifierWarning, ...] = ()
    if card_level != group.level:
        # Not an error: a person in several groups gets the best level, printed on the card.
        warnings = (
            IdentifierWarning(
                "bhyt.level_mismatch",
                vi=(
                    f"Thẻ ghi mức hưởng {card_level}, nhưng đối tượng {group.code} "
                    f"thường có mức {group.level}; kiểm tra lại với cổng BHXH."
                ),
                en=(
                    f"The card gives benefit level {card_level}, but group {group.code} "
                    f"usually has level {group.level}; check with the BHXH gateway."
                ),
            ),
        )
    return BhytCode(
        form=BhytForm.FULL_CODE,
        code=code,
        social_insurance_number=code[5:],
        group=group,
        card_level=card_level,
        province_code=code[3:5],
        warnings=warnings,
    )


def _check_number(number: str) -> None:
    if not _TEN_DIGITS.fullmatch(number):
        raise InvalidInput(
            "bhyt.bad_number",
            vi="Mã số BHXH (10 ký tự cuối của mã thẻ) phải gồm 10 chữ số.",
            en="The BHXH number (the last 10 characters of the code) must be 10 digits.",
            field=_FIELD,
        )
