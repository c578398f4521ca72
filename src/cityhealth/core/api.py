"""JSON API of the identifier parsers (mounted at /api/identifiers by cityhealth.api).

Reading an identifier touches no stored data, but it still needs a front-line role: the
answers describe a real person (birth year, sex, name from the card).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.http import HttpRequest
from django.utils import translation
from ninja import Router, Schema

from cityhealth.core.access import api_principal, ensure_permission
from cityhealth.core.identifiers import (
    BhytForm,
    CitizenId,
    IdentifierWarning,
    OldIdKind,
    Sex,
    check_consistency,
    parse_bhyt_code,
    parse_cccd_qr,
    parse_citizen_id,
)
from cityhealth.core.roles import Permission

router = Router()


class WarningOut(Schema):
    code: str
    message: str  # in the language of the request


class CitizenIdOut(Schema):
    number: str
    id_province_code: str
    province_name: str | None
    province_code_2025: str | None
    province_name_2025: str | None
    sex: Sex
    birth_year: int
    warnings: list[WarningOut]


class CccdQrIn(Schema):
    raw: str


class CccdQrOut(Schema):
    citizen_id: CitizenIdOut
    old_id: str | None
    old_id_kind: OldIdKind
    full_name: str
    date_of_birth: dt.date
    sex: Sex
    address: str
    issue_date: dt.date
    extra_fields: list[str]
    id_consistent: bool
    warnings: list[WarningOut]


class BhytGroupOut(Schema):
    code: str
    level: int
    meaning: str
    verified: bool


class BhytOut(Schema):
    form: BhytForm
    code: str
    social_insurance_number: str
    group: BhytGroupOut | None
    card_level: int | None
    group_level: int | None
    province_code: str | None
    nominal_benefit_percent: int | None
    warnings: list[WarningOut]


def _english() -> bool:
    return (translation.get_language() or "vi").startswith("en")


def _warnings(warnings: Iterable[IdentifierWarning]) -> list[WarningOut]:
    language = translation.get_language()
    return [WarningOut(code=w.code, message=w.message(language)) for w in warnings]


def _citizen_id_out(parsed: CitizenId, warnings: list[IdentifierWarning]) -> CitizenIdOut:
    return CitizenIdOut(
        number=parsed.number,
        id_province_code=parsed.id_province_code,
        province_name=parsed.province_name,
        province_code_2025=parsed.province_code_2025,
        province_name_2025=parsed.province_name_2025,
        sex=parsed.sex,
        birth_year=parsed.birth_year,
        warnings=_warnings(warnings),
    )


@router.get("/citizen-id/{number}", response=CitizenIdOut, summary="Read a personal ID number")
def read_citizen_id(
    request: HttpRequest, number: str, birth_date: dt.date | None = None, sex: Sex | None = None
) -> CitizenIdOut:
    """Structure of a 12-digit ID; with `birth_date`/`sex`, warnings where they disagree."""
    ensure_permission(api_principal(request), Permission.PARSE_IDENTIFIERS)
    parsed = parse_citizen_id(number)
    return _citizen_id_out(parsed, check_consistency(parsed, birth_date=birth_date, sex=sex))


@router.post("/cccd-qr", response=CccdQrOut, summary="Read the QR text of a chip ID card")
def read_cccd_qr(request: HttpRequest, payload: CccdQrIn) -> CccdQrOut:
    ensure_permission(api_principal(request), Permission.PARSE_IDENTIFIERS)
    card = parse_cccd_qr(payload.raw)
    return CccdQrOut(
        citizen_id=_citizen_id_out(card.citizen_id, []),
        old_id=card.old_id,
        old_id_kind=card.old_id_kind,
        full_name=card.full_name,
        date_of_birth=card.date_of_birth,
        sex=card.sex,
        address=card.address,
        issue_date=card.issue_date,
        extra_fields=list(card.extra_fields),
        id_consistent=card.id_consistent,
        warnings=_warnings(card.warnings),
    )


@router.get("/bhyt/{code}", response=BhytOut, summary="Read a BHYT card code or BHXH number")
def read_bhyt(request: HttpRequest, code: str) -> BhytOut:
    ensure_permission(api_principal(request), Permission.PARSE_IDENTIFIERS)
    card = parse_bhyt_code(code)
    group = card.group
    return BhytOut(
        form=card.form,
        code=card.code,
        social_insurance_number=card.social_insurance_number,
        group=BhytGroupOut(
            code=group.code,
            level=group.level,
            meaning=group.meaning_en if _english() else group.meaning_vi,
            verified=group.verified,
        )
        if group
        else None,
        card_level=card.card_level,
        group_level=card.group_level,
        province_code=card.province_code,
        nominal_benefit_percent=card.nominal_benefit_percent,
        warnings=_warnings(card.warnings),
    )
