"""The comparisons of Fellegi–Sunter matching, each a ladder of levels, computed for many pairs
at once.

A pair gets one level per comparison: 0 is the weakest ("else"), higher is stronger agreement,
and -1 means the comparison says nothing (a side lacks the field, or another comparison already
counted that evidence). Levels are mutually exclusive: the first rung of the ladder that holds,
from the top, is the pair's level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process
from rapidfuzz.distance import JaroWinkler, Levenshtein

from cityhealth.people.matching.features import (
    PREC_DAY,
    PREC_MONTH,
    PREC_YEAR,
    Columns,
    IntArray,
    ObjArray,
)

NULL = -1
LevelArray = npt.NDArray[np.int8]


@dataclass(frozen=True)
class ComparisonSpec:
    name: str
    levels: tuple[str, ...]  # label of each level, weakest (0) first
    # Levels at which the agreed value's frequency replaces the average (term frequency).
    tf_family: tuple[int, ...] = ()
    tf_given: tuple[int, ...] = ()


NAME = ComparisonSpec(
    "name",
    ("else", "jw_high", "family_given", "swapped", "exact_folded", "exact_accented"),
    tf_family=(2, 3, 4, 5),
    tf_given=(2, 3, 4, 5),
)
# Only when the name comparison is below `family_given`: otherwise the given name is implied.
GIVEN = ComparisonSpec("given", ("else", "jw_high", "exact"), tf_given=(2,))
DOB = ComparisonSpec(
    "dob",
    (
        "else",
        "same_year",
        "year_only",  # years agree and one side knows no more than the year
        "year_typo",  # same day and month, year one apart or one digit wrong
        "same_month",
        "day_month_swapped",
        "exact",
    ),
)
SEX = ComparisonSpec("sex", ("disagree", "agree"))
WARD = ComparisonSpec("ward", ("disagree", "agree"))
PHONE = ComparisonSpec("phone", ("else", "one_edit", "exact"))
ADDRESS = ComparisonSpec("address", ("else", "similar", "same"))

COMPARISONS: tuple[ComparisonSpec, ...] = (NAME, GIVEN, DOB, SEX, WARD, PHONE, ADDRESS)
INDEX = {spec.name: i for i, spec in enumerate(COMPARISONS)}
NAME_FAMILY_GIVEN = NAME.levels.index("family_given")

NAME_JW_HIGH = 0.92
GIVEN_JW_HIGH = 0.88
ADDRESS_SAME = 90.0
ADDRESS_SIMILAR = 70.0


@dataclass(frozen=True)
class Pairs:
    """Comparison levels of pairs (left row `li`, right row `rj`); TF keys from the right."""

    li: IntArray
    rj: IntArray
    levels: LevelArray  # shape (pairs, comparisons)

    def __len__(self) -> int:
        return int(self.li.shape[0])


def _similarity(left: ObjArray, right: ObjArray, scorer: Any) -> npt.NDArray[np.float32]:
    if left.shape[0] == 0:
        return np.zeros(0, dtype=np.float32)
    result = process.cpdist(
        left.tolist(), right.tolist(), scorer=scorer, dtype=np.float32, workers=1
    )
    return np.asarray(result, dtype=np.float32)


def _name_levels(
    lk: ObjArray,
    rk: ObjArray,
    la: ObjArray,
    ra: ObjArray,
    ls: ObjArray,
    rs: ObjArray,
    lfam: ObjArray,
    rfam: ObjArray,
    lgiv: ObjArray,
    rgiv: ObjArray,
) -> LevelArray:
    n = lk.shape[0]
    present = (lk != "") & (rk != "")
    level = np.zeros(n, dtype=np.int8)
    exact_acc = present & (la == ra)
    exact_key = present & ~exact_acc & (lk == rk)
    swapped = present & ~exact_acc & ~exact_key & (ls == rs)
    family_given = present & ~exact_acc & ~exact_key & ~swapped & (lfam == rfam) & (lgiv == rgiv)
    rest = present & ~(exact_acc | exact_key | swapped | family_given)
    idx = np.flatnonzero(rest)
    jw = _similarity(lk[idx], rk[idx], JaroWinkler.normalized_similarity)
    level[idx[jw >= NAME_JW_HIGH]] = 1
    level[family_given] = 2
    level[swapped] = 3
    level[exact_key] = 4
    level[exact_acc] = 5
    level[~present] = NULL
    return level


def _given_levels(
    name_level: LevelArray, lfam: ObjArray, lgiv: ObjArray, rgiv: ObjArray
) -> LevelArray:
    """The left side's given name is its last word, or its first when written given-first."""
    level = np.full(name_level.shape[0], NULL, dtype=np.int8)
    open_ = (name_level >= 0) & (name_level < NAME_FAMILY_GIVEN) & (lgiv != "") & (rgiv != "")
    exact = open_ & ((lgiv == rgiv) | (lfam == rgiv))
    level[exact] = 2
    idx = np.flatnonzero(open_ & ~exact)
    jw = np.maximum(
        _similarity(lgiv[idx], rgiv[idx], JaroWinkler.normalized_similarity),
        _similarity(lfam[idx], rgiv[idx], JaroWinkler.normalized_similarity),
    )
    level[idx] = np.where(jw >= GIVEN_JW_HIGH, 1, 0).astype(np.int8)
    return level


def _one_digit_apart(a: npt.NDArray[np.int16], b: npt.NDArray[np.int16]) -> npt.NDArray[np.bool_]:
    diff = np.abs(a.astype(np.int32) - b.astype(np.int32))
    differing = np.zeros(a.shape[0], dtype=np.int32)
    x, y = a.astype(np.int32), b.astype(np.int32)
    for _ in range(4):
        differing += (x % 10) != (y % 10)
        x, y = x // 10, y // 10
    result: npt.NDArray[np.bool_] = (diff == 1) | (differing == 1)
    return result


def _dob_levels(left: Columns, li: IntArray, right: Columns, rj: IntArray) -> LevelArray:
    ly, lm, ld, lp = left.year[li], left.month[li], left.day[li], left.precision[li]
    ry, rm, rd, rp = right.year[rj], right.month[rj], right.day[rj], right.precision[rj]
    present = (ly > 0) & (ry > 0)
    both_day = (lp == PREC_DAY) & (rp == PREC_DAY)
    both_month = (lp >= PREC_MONTH) & (rp >= PREC_MONTH)
    same_year = ly == ry
    conditions = [
        ~present,
        both_day & same_year & (lm == rm) & (ld == rd),
        both_day & same_year & (lm == rd) & (ld == rm) & (lm != ld),
        both_month & same_year & (lm == rm),
        both_day & ~same_year & (lm == rm) & (ld == rd) & _one_digit_apart(ly, ry),
        same_year & ((lp == PREC_YEAR) | (rp == PREC_YEAR)),
        same_year,
    ]
    choices = [NULL, 6, 5, 4, 3, 2, 1]
    level: LevelArray = np.select(conditions, choices, default=0).astype(np.int8)
    return level


def _binary(
    left: npt.NDArray[np.generic], right: npt.NDArray[np.generic], missing: object
) -> LevelArray:
    level: LevelArray = np.asarray(left == right).astype(np.int8)
    level[(left == missing) | (right == missing)] = NULL
    return level


def _phone_levels(lp: ObjArray, rp: ObjArray) -> LevelArray:
    level = _binary(lp, rp, "")
    level[level == 1] = 2
    idx = np.flatnonzero(level == 0)
    edits = _similarity(lp[idx], rp[idx], Levenshtein.distance)
    level[idx[edits <= 1]] = 1
    return level


def _address_levels(la: ObjArray, ra: ObjArray) -> LevelArray:
    level = np.full(la.shape[0], NULL, dtype=np.int8)
    idx = np.flatnonzero((la != "") & (ra != ""))
    score = _similarity(la[idx], ra[idx], fuzz.token_sort_ratio)
    level[idx] = np.select([score >= ADDRESS_SAME, score >= ADDRESS_SIMILAR], [2, 1], 0)
    return level


def compare(left: Columns, li: IntArray, right: Columns, rj: IntArray) -> Pairs:
    """Levels of every comparison for the pairs (left[li[k]], right[rj[k]])."""
    li = np.asarray(li, dtype=np.int64)
    rj = np.asarray(rj, dtype=np.int64)
    lfam, lgiv = left.family[li], left.given[li]
    rfam, rgiv = right.family[rj], right.given[rj]
    name = _name_levels(
        left.key[li],
        right.key[rj],
        left.acc[li],
        right.acc[rj],
        left.sorted_key[li],
        right.sorted_key[rj],
        lfam,
        rfam,
        lgiv,
        rgiv,
    )
    levels = np.empty((li.shape[0], len(COMPARISONS)), dtype=np.int8)
    levels[:, INDEX["name"]] = name
    levels[:, INDEX["given"]] = _given_levels(name, lfam, lgiv, rgiv)
    levels[:, INDEX["dob"]] = _dob_levels(left, li, right, rj)
    levels[:, INDEX["sex"]] = _binary(left.sex[li], right.sex[rj], 0)
    levels[:, INDEX["ward"]] = _binary(left.ward[li], right.ward[rj], "")
    levels[:, INDEX["phone"]] = _phone_levels(left.phone[li], right.phone[rj])
    levels[:, INDEX["address"]] = _address_levels(left.address[li], right.address[rj])
    return Pairs(li=li, rj=rj, levels=levels)
