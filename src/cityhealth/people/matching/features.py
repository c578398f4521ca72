"""Records and persons turned into columns the comparisons read.

Both sides of a comparison (an incoming record, a person from the index) become a `Columns`:
one NumPy array per feature, so that comparing thousands of pairs is a handful of vectorised
operations. Preparing a person is cheap on purpose (a `str.translate` fold of text already
stored NFC, a split of the stored name key), because a batch prepares tens of thousands.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from cityhealth.core.names import VARIANTS, name_key
from cityhealth.core.phones import national_form
from cityhealth.people.enums import DatePrecision
from cityhealth.people.matching.types import IncomingRecord

# Middle names that say the sex ("Văn" for men, "Thị" for women). They are left out of every
# name comparison so that they are not counted a second time beside the sex comparison.
SEX_MARKERS = frozenset({"van", "thi"})

# Precision codes in the columns.
PREC_NONE, PREC_YEAR, PREC_MONTH, PREC_DAY = 0, 1, 2, 3
_PRECISION = {"day": PREC_DAY, "month": PREC_MONTH, "year": PREC_YEAR}
SEX_UNKNOWN, SEX_MALE, SEX_FEMALE = 0, 1, 2
_SEX = {
    "male": SEX_MALE,
    "m": SEX_MALE,
    "nam": SEX_MALE,
    "female": SEX_FEMALE,
    "f": SEX_FEMALE,
    "nữ": SEX_FEMALE,
    "nu": SEX_FEMALE,
}

# Words of an address that say nothing about where (house, lane, street, ward ...).
_ADDRESS_STOPWORDS = frozenset(
    (
        "so", "nha", "ngo", "ngach", "hem", "kiet", "duong", "pho", "to", "thon", "xom", "ap",
        "phuong", "xa", "quan", "huyen", "p", "q", "tp", "tt", "ha", "noi", "viet", "nam", "vn",
    )
)  # fmt: skip
# How the administrative parts of an address begin (ward or commune, district, province), as
# folded words: "Phường Kim Liên", "P. Kim Liên", "Xã Đại Thanh", "Quận Đống Đa", "TP Hà Nội".
_ADMIN_FIRST_WORDS = frozenset(
    ("phuong", "p", "xa", "x", "quan", "q", "huyen", "h", "tinh", "tp", "tt", "tx")
)
_ADMIN_FIRST_PAIRS = frozenset((("thi", "tran"), ("thi", "xa"), ("thanh", "pho")))
# Lower-case, fold, and turn everything but ASCII letters and digits into a space: one pass.
_ADDRESS_TABLE = {
    **{code: " " for code in range(0x20, 0x80) if not chr(code).isalnum()},
    **{code: chr(code).lower() for code in range(ord("A"), ord("Z") + 1)},
}

# 11-digit mobile prefixes renumbered to 10 digits in 2018 (old prefix → new prefix).
OLD_MOBILE_PREFIXES = {
    "0162": "032",
    "0163": "033",
    "0164": "034",
    "0165": "035",
    "0166": "036",
    "0167": "037",
    "0168": "038",
    "0169": "039",
    "0120": "070",
    "0121": "079",
    "0122": "077",
    "0126": "076",
    "0128": "078",
    "0123": "083",
    "0124": "084",
    "0125": "085",
    "0127": "081",
    "0129": "082",
    "0186": "056",
    "0188": "058",
    "0199": "059",
}


def _build_fold_table() -> dict[int, str]:
    """Each precomposed Latin letter with diacritics → its base letter, lower-case."""
    table: dict[int, str] = {ord("đ"): "d", ord("Đ"): "d"}
    for code in range(0x00C0, 0x1F00):
        char = chr(code)
        decomposed = unicodedata.normalize("NFD", char)
        base = "".join(c for c in decomposed if not unicodedata.combining(c))
        if base != char and len(base) == 1 and base.isascii():
            table[code] = base.lower()
    return table


_FOLD_TABLE = _build_fold_table()
_ADDRESS_TABLE.update(
    {code: base for code, base in _FOLD_TABLE.items() if code not in _ADDRESS_TABLE}
)


def fast_fold(text: str) -> str:
    """`core.text.fold_for_search` for NFC text, at `str.translate` speed (no NFD pass).

    Text that is not NFC (another system's NFD export) must go through `fold_for_search`.
    """
    return text.lower().translate(_FOLD_TABLE)


def fold_tokens(text: str) -> list[str]:
    """Folded words of an NFC text, with the regional surname variants mapped (Võ → Vũ)."""
    return [VARIANTS.get(word, word) for word in fast_fold(text).split()]


def _strip_markers(key_tokens: list[str]) -> list[int]:
    """Positions of the words kept once middle-position sex markers are left out."""
    last = len(key_tokens) - 1
    return [i for i, token in enumerate(key_tokens) if not (0 < i < last and token in SEX_MARKERS)]


@dataclass(frozen=True)
class NameFeatures:
    acc: str  # accented, lower-case, without sex markers: "nguyễn minh anh"
    key: str  # folded and variant-mapped, without sex markers: "nguyen minh anh"
    sorted_key: str  # the key's words sorted: order-blind agreement (swapped names)
    family: str  # first word of the key
    given: str  # last word of the key


_EMPTY_NAME = NameFeatures("", "", "", "", "")


@lru_cache(maxsize=200_000)
def name_features(full_name: str, key: str | None = None) -> NameFeatures:
    """Name features from an NFC name and, when known, its stored key (`Person.search_text`).

    Cached: candidates of a batch share many names (the common ones are common)."""
    acc_tokens = full_name.lower().split()
    key_tokens = key.split() if key is not None else fold_tokens(full_name)
    if not key_tokens:
        return _EMPTY_NAME
    keep = _strip_markers(key_tokens)
    kept_key = [key_tokens[i] for i in keep]
    kept_acc = [acc_tokens[i] for i in keep] if len(acc_tokens) == len(key_tokens) else acc_tokens
    # Order-blind: a marker written last ("Hùng Nguyễn Văn") is still a marker.
    unordered = [t for t in key_tokens if t not in SEX_MARKERS] or key_tokens
    return NameFeatures(
        acc=" ".join(kept_acc),
        key=" ".join(kept_key),
        sorted_key=" ".join(sorted(unordered)),
        family=key_tokens[0] if len(key_tokens) > 1 else "",
        given=key_tokens[-1],
    )


def normalise_phone(raw: str) -> str:
    """Digits of a Vietnamese phone number in the 10-digit national form, or ""."""
    if len(raw) == 10 and raw.isascii() and raw.isdigit() and raw[0] == "0":
        return raw  # already national form (how `Person.phone` is stored)
    digits = national_form(
        "".join(ch for ch in raw if ch.isascii() and (ch.isdigit() or ch == "+"))
    )
    digits = digits.lstrip("+")
    if len(digits) == 11 and digits[:4] in OLD_MOBILE_PREFIXES:
        digits = OLD_MOBILE_PREFIXES[digits[:4]] + digits[4:]
    return digits if len(digits) >= 8 else ""


def address_key(raw: str) -> str:
    """Folded address words without house/lane/street/ward words: what the address names."""
    if not raw:
        return ""
    words = raw.translate(_ADDRESS_TABLE).split()
    return " ".join(w for w in words if w not in _ADDRESS_STOPWORDS)


def address_detail_key(raw: str) -> str:
    """`address_key` of the part of an address below the ward: house, lane, street, hamlet.

    The comma-separated parts that name the ward, the district or the province are left out.
    The ward is compared by `ward`; left in the address as well, it would be counted twice:
    two residents of one ward (a village where half the addresses read "Thôn 11, Xã Đại
    Thanh") would agree on both, and EM would take such pairs for matches.
    """
    if not raw:
        return ""
    kept = []
    for part in raw.split(","):
        words = part.translate(_ADDRESS_TABLE).split()
        if not words or words[0] in _ADMIN_FIRST_WORDS or tuple(words[:2]) in _ADMIN_FIRST_PAIRS:
            continue
        kept.append(part)
    return address_key(",".join(kept))


@lru_cache(maxsize=100_000)
def date_parts(
    birth_date: dt.date | str | None, birth_year: int | None, precision: str
) -> tuple[int, int, int, int]:
    """(year, month, day, precision code); unknown parts are 0. Cached: dates repeat."""
    if isinstance(birth_date, str):  # SQLite returns dates as ISO text to a raw cursor
        birth_date = dt.date.fromisoformat(birth_date) if birth_date else None
    if birth_date is not None:
        code = _PRECISION.get(precision, PREC_DAY)
        if code == PREC_DAY:
            return birth_date.year, birth_date.month, birth_date.day, PREC_DAY
        if code == PREC_MONTH:
            return birth_date.year, birth_date.month, 0, PREC_MONTH
        return birth_date.year, 0, 0, PREC_YEAR
    if birth_year:
        return birth_year, 0, 0, PREC_YEAR
    return 0, 0, 0, PREC_NONE


def sex_code(raw: str) -> int:
    return _SEX.get(raw.strip().lower(), SEX_UNKNOWN) if raw else SEX_UNKNOWN


@dataclass(frozen=True)
class PersonRow:
    """The fields of a `Person` the matcher reads (from the database or a training sample)."""

    id: int
    full_name: str
    search_text: str
    birth_date: dt.date | None
    birth_year: int | None
    birth_date_precision: str
    sex: str
    ward_code: str
    phone: str
    address: str


# Column order of the SQL that reads `PersonRow`s (see blocking.py).
PERSON_COLUMNS = (
    "id",
    "full_name",
    "search_text",
    "birth_date",
    "birth_year",
    "birth_date_precision",
    "sex",
    "ward_id",
    "phone",
    "address",
)


def person_row(values: Sequence[Any]) -> PersonRow:
    """A `PersonRow` from a database row in `PERSON_COLUMNS` order."""
    birth_date = values[3]
    if isinstance(birth_date, str):  # SQLite through a raw cursor
        birth_date = dt.date.fromisoformat(birth_date)
    return PersonRow(
        id=int(values[0]),
        full_name=values[1] or "",
        search_text=values[2] or "",
        birth_date=birth_date,
        birth_year=values[4],
        birth_date_precision=values[5] or DatePrecision.DAY,
        sex=values[6] or "",
        ward_code=values[7] or "",
        phone=values[8] or "",
        address=values[9] or "",
    )


ObjArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.int64]
SmallArray = npt.NDArray[np.int16]


@dataclass(frozen=True)
class Columns:
    """One side of the comparisons: a column per feature, a row per record or person."""

    ids: IntArray  # person id, or the record's position in its batch
    acc: ObjArray
    key: ObjArray
    sorted_key: ObjArray
    family: ObjArray
    given: ObjArray
    year: SmallArray
    month: SmallArray
    day: SmallArray
    precision: SmallArray
    sex: SmallArray
    ward: ObjArray
    phone: ObjArray
    address: ObjArray

    def __len__(self) -> int:
        return int(self.ids.shape[0])


def _objects(values: list[str]) -> ObjArray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _build(
    ids: list[int],
    names: list[NameFeatures],
    dates: list[tuple[int, int, int, int]],
    sexes: list[int],
    wards: list[str],
    phones: list[str],
    addresses: list[str],
) -> Columns:
    date_array = np.array(dates, dtype=np.int16).reshape(-1, 4)
    return Columns(
        ids=np.array(ids, dtype=np.int64),
        acc=_objects([n.acc for n in names]),
        key=_objects([n.key for n in names]),
        sorted_key=_objects([n.sorted_key for n in names]),
        family=_objects([n.family for n in names]),
        given=_objects([n.given for n in names]),
        year=date_array[:, 0].copy(),
        month=date_array[:, 1].copy(),
        day=date_array[:, 2].copy(),
        precision=date_array[:, 3].copy(),
        sex=np.array(sexes, dtype=np.int16),
        ward=_objects(wards),
        phone=_objects(phones),
        address=_objects(addresses),
    )


def person_columns(rows: Iterable[PersonRow]) -> Columns:
    """Columns of persons; the name key is the stored `search_text`, not recomputed."""
    return tuple_columns(
        [
            (
                r.id,
                r.full_name,
                r.search_text,
                r.birth_date,
                r.birth_year,
                r.birth_date_precision,
                r.sex,
                r.ward_code,
                r.phone,
                r.address,
            )
            for r in rows
        ]
    )


def tuple_columns(
    rows: Sequence[Sequence[Any]], *, need_address: npt.NDArray[np.bool_] | None = None
) -> Columns:
    """Columns of persons from rows in `PERSON_COLUMNS` order (as the database returns them).

    `need_address` (per row) skips folding the addresses nobody will compare.
    """
    if not rows:
        return _build([], [], [], [], [], [], [])
    ids, names, keys, dates, years, precisions, sexes, wards, phones, addresses = zip(
        *rows, strict=True
    )
    if need_address is None:
        folded = [address_detail_key(a or "") for a in addresses]
    else:
        folded = [
            address_detail_key(a or "") if need else ""
            for a, need in zip(addresses, need_address.tolist(), strict=True)
        ]
    get_sex = _SEX.get
    return _build(
        ids=list(ids),
        names=[name_features(n or "", k or "") for n, k in zip(names, keys, strict=True)],
        dates=[
            date_parts(d, y, p or "day") for d, y, p in zip(dates, years, precisions, strict=True)
        ],
        sexes=[get_sex(x, SEX_UNKNOWN) if x else SEX_UNKNOWN for x in sexes],
        wards=[w or "" for w in wards],
        phones=[normalise_phone(x) if x else "" for x in phones],
        addresses=folded,
    )


def clean_name(raw: str) -> str:
    """An incoming name as NFC with single spaces (other systems send NFD or odd spacing)."""
    return " ".join(unicodedata.normalize("NFC", raw).split())


def record_columns(records: Sequence[IncomingRecord]) -> Columns:
    """Columns of incoming records; `ids` are their positions in `records`."""
    names = []
    for record in records:
        full_name = clean_name(record.full_name)
        names.append(name_features(full_name, name_key(full_name)))
    return _build(
        ids=list(range(len(records))),
        names=names,
        dates=[date_parts(r.birth_date, r.birth_year, r.birth_date_precision) for r in records],
        sexes=[sex_code(r.sex) for r in records],
        wards=[r.ward_code.strip() for r in records],
        phones=[normalise_phone(r.phone) for r in records],
        addresses=[address_detail_key(clean_name(r.address)) for r in records],
    )
