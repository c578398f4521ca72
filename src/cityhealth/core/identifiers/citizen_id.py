"""The 12-digit personal ID number (số định danh cá nhân), read for its structure only.

Layout `PPP G YY RRRRRR`: PPP is the province where the birth was registered (one of the 63
provinces that existed before 07/2025), G encodes century and sex, YY the last two digits of
the birth year, and the last six digits are random. There is no check digit, so a well-formed
number can still be a typo: callers compare it with the date of birth and sex they hold
(`check_consistency`), which warns instead of refusing because either side may be wrong.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType

from cityhealth.core import clock
from cityhealth.core.datafiles import read_csv
from cityhealth.core.errors import InvalidInput

# [0-9] and not \d: \d also matches Arabic-Indic and other Unicode digits.
_TWELVE_ASCII_DIGITS = re.compile(r"[0-9]{12}")
_FIELD = "citizen_id"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


@dataclass(frozen=True)
class IdentifierWarning:
    """Something that looks wrong but must not block the desk (shown, logged, never raised)."""

    code: str
    vi: str
    en: str

    def message(self, language: str | None = None) -> str:
        if language and language.lower().startswith("en"):
            return self.en
        return self.vi


@dataclass(frozen=True)
class FormerProvince:
    id_code: str  # 3 digits, as at the start of an ID number
    name: str
    province_code_2025: str  # 2-digit NSO code of the province it belongs to since 07/2025
    province_name_2025: str


@dataclass(frozen=True)
class CitizenId:
    number: str
    id_province_code: str
    # None when the code is not one of the 63 provinces (a birth registered abroad).
    province_name: str | None  # the province of registration as it was named then
    province_code_2025: str | None  # for address display only; the number never changes
    province_name_2025: str | None
    sex: Sex
    birth_year: int
    warnings: tuple[IdentifierWarning, ...] = ()

    def __str__(self) -> str:
        return self.number


@lru_cache(maxsize=1)
def former_provinces() -> Mapping[str, FormerProvince]:
    """The 63 former provinces by their 3-digit ID code (read once from the shipped data)."""
    current = {row["code"]: row["name"] for row in read_csv("geo", "provinces_2025.csv")}
    by_code = {
        row["id_code"]: FormerProvince(
            id_code=row["id_code"],
            name=row["name"],
            province_code_2025=row["province_code"],
            province_name_2025=current[row["province_code"]],
        )
        for row in read_csv("geo", "former_provinces.csv")
    }
    return MappingProxyType(by_code)  # cached and shared: nobody may change it


def century_sex_digit(*, birth_year: int, sex: Sex) -> int:
    """The G digit for a birth year and sex (1900–2399); the inverse of what the parser reads."""
    if not 1900 <= birth_year <= 2399:
        raise ValueError("the personal ID encodes birth years 1900–2399 only")
    return (birth_year - 1900) // 100 * 2 + (1 if sex is Sex.FEMALE else 0)


def parse_citizen_id(text: str) -> CitizenId:
    """Read a 12-digit personal ID number; raise `InvalidInput` if it cannot be one."""
    number = text.strip() if isinstance(text, str) else ""
    if not _TWELVE_ASCII_DIGITS.fullmatch(number):
        raise InvalidInput(
            "citizen_id.not_12_digits",
            vi="Số định danh cá nhân phải gồm đúng 12 chữ số.",
            en="A personal ID number must be exactly 12 digits.",
            field=_FIELD,
        )
    province = former_provinces().get(number[:3])
    warnings: tuple[IdentifierWarning, ...] = ()
    if province is None:
        # Births registered abroad carry a country code here, which no list we ship holds:
        # the number is still a citizen's, so it is accepted and the desk is told to look.
        warnings = (
            IdentifierWarning(
                "citizen_id.unknown_province",
                vi=(
                    f"Mã {number[:3]} ở đầu số định danh không thuộc 63 mã tỉnh "
                    "(có thể đăng ký khai sinh ở nước ngoài): kiểm tra giấy tờ."
                ),
                en=(
                    f"The code {number[:3]} at the start of the ID is not one of the 63 "
                    "provinces (perhaps a birth registered abroad): check the papers."
                ),
            ),
        )
    digit = int(number[3])
    birth_year = 1900 + digit // 2 * 100 + int(number[4:6])
    if birth_year > clock.today().year:
        raise InvalidInput(
            "citizen_id.birth_year_in_future",
            vi=f"Số định danh cho năm sinh {birth_year}, là năm chưa tới.",
            en=f"The ID encodes birth year {birth_year}, which has not come yet.",
            field=_FIELD,
            birth_year=birth_year,
        )
    return CitizenId(
        number=number,
        id_province_code=number[:3],
        province_name=province.name if province else None,
        province_code_2025=province.province_code_2025 if province else None,
        province_name_2025=province.province_name_2025 if province else None,
        sex=Sex.FEMALE if digit % 2 else Sex.MALE,
        birth_year=birth_year,
        warnings=warnings,
    )


def check_consistency(
    citizen_id: CitizenId | str,
    *,
    birth_date: dt.date | None = None,
    sex: Sex | str | None = None,
) -> list[IdentifierWarning]:
    """The ID's own warnings, and where its digits disagree with a known birth date or sex.

    Never raises for a disagreement; raises `InvalidInput` only if given a string that is not
    an ID number at all (and `ValueError` for a `sex` other than "male"/"female", a bug).
    """
    parsed = citizen_id if isinstance(citizen_id, CitizenId) else parse_citizen_id(citizen_id)
    warnings: list[IdentifierWarning] = list(parsed.warnings)
    if birth_date is not None and birth_date.year != parsed.birth_year:
        warnings.append(
            IdentifierWarning(
                "citizen_id.birth_year_mismatch",
                vi=(
                    f"Số định danh cho năm sinh {parsed.birth_year}, "
                    f"nhưng ngày sinh ghi là {birth_date:%d/%m/%Y}."
                ),
                en=(
                    f"The ID encodes birth year {parsed.birth_year}, "
                    f"but the date of birth given is {birth_date:%Y-%m-%d}."
                ),
            )
        )
    if sex is not None and Sex(sex) is not parsed.sex:
        warnings.append(
            IdentifierWarning(
                "citizen_id.sex_mismatch",
                vi=(
                    f"Số định danh là của {_SEX_VI[parsed.sex]}, "
                    f"nhưng giới tính ghi là {_SEX_VI[Sex(sex)]}."
                ),
                en=f"The ID is for a {parsed.sex}, but the sex given is {Sex(sex)}.",
            )
        )
    return warnings


_SEX_VI = {Sex.MALE: "nam", Sex.FEMALE: "nữ"}
