"""The real-time check-in record of the QĐ 130 series (XML0, QĐ 4750 as amended by QĐ 3176),
kept on the visit at check-in for submission to the insurance gateway: the fields as the
table names them, in its order, in its formats (`yyyymmddHHMM` times, 1/2/3 for sex)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from xml.etree import ElementTree

from cityhealth.insurance.types import EligibilityResult
from cityhealth.people.enums import DatePrecision, Sex
from cityhealth.people.models import Person
from cityhealth.reception.models import Visit

# MA_LOAI_KCB "01": outpatient examination (khám bệnh).
OUTPATIENT = "01"
_SEX = {Sex.MALE: "1", Sex.FEMALE: "2"}
FIELDS = (
    "MA_LK", "STT", "MA_BN", "HO_TEN", "SO_CCCD", "NGAY_SINH", "GIOI_TINH", "MA_THE_BHYT",
    "MA_DKBD", "GT_THE_TU", "GT_THE_DEN", "MA_DOITUONG_KCB", "NGAY_VAO", "NGAY_VAO_NOI_TRU",
    "LY_DO_VNT", "MA_LY_DO_VNT", "MA_LOAI_KCB", "MA_CSKCB", "MA_DICH_VU", "TEN_DICH_VU",
    "MA_THUOC", "TEN_THUOC", "MA_VAT_TU", "TEN_VAT_TU", "NGAY_YL", "DU_PHONG",
)  # fmt: skip


def _minute(instant: dt.datetime) -> str:
    return instant.astimezone(dt.timezone(dt.timedelta(hours=7))).strftime("%Y%m%d%H%M")


def _birth(person: Person) -> str:
    """`yyyymmddHHMM`; a year-only birth date keeps zeros for what is not known."""
    if person.birth_date is not None and person.birth_date_precision == DatePrecision.DAY:
        return person.birth_date.strftime("%Y%m%d") + "0000"
    if person.birth_year is not None:
        return f"{person.birth_year:04d}00000000"
    return ""


def _day(value: dt.date | None) -> str:
    return value.strftime("%Y%m%d") if value else ""


def checkin_record(
    visit: Visit, person: Person, eligibility: EligibilityResult | None
) -> dict[str, Any]:
    """The XML0 fields of a visit just opened (`MA_LK` links its later claim tables)."""
    covered = eligibility is not None and bool(eligibility.card_code)
    record: dict[str, Any] = dict.fromkeys(FIELDS, "")
    record.update(
        MA_LK=f"{visit.facility.insurance_code or visit.facility.code}-{visit.day:%Y%m%d}-"
        f"{visit.ticket}",
        STT=1,
        MA_BN=str(person.pk),
        HO_TEN=person.full_name,
        SO_CCCD=visit.document_number,
        NGAY_SINH=_birth(person),
        GIOI_TINH=_SEX.get(Sex(person.sex), "3"),
        MA_THE_BHYT=eligibility.card_code if covered and eligibility else "",
        MA_DKBD=eligibility.primary_care_facility if covered and eligibility else "",
        GT_THE_TU=_day(eligibility.valid_from) if eligibility else "",
        GT_THE_DEN=_day(eligibility.valid_to) if eligibility else "",
        NGAY_VAO=_minute(visit.checked_in_at),
        MA_LOAI_KCB=OUTPATIENT,
        MA_CSKCB=visit.facility.insurance_code,
    )
    return record


def checkin_xml(record: dict[str, Any]) -> bytes:
    """The record as the XML0 table's XML, UTF-8: `CHI_TIEU_TRANG_THAI_KCB /
    DSACH_TRANG_THAI_KCB / TRANG_THAI_KCB`, the fields in the table's order."""
    root = ElementTree.Element("CHI_TIEU_TRANG_THAI_KCB")
    row = ElementTree.SubElement(
        ElementTree.SubElement(root, "DSACH_TRANG_THAI_KCB"), "TRANG_THAI_KCB"
    )
    for name in FIELDS:
        ElementTree.SubElement(row, name).text = str(record.get(name, ""))
    text: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return text
