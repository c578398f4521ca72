"""Vietnamese đồng as whole integers.

The đồng has no smaller unit in use, so an amount is an `int` and nothing here ever touches a
float: floats cannot hold every amount exactly and would make totals disagree by a đồng.
Where a share must be rounded the rule is stated (half up), and splitting an amount hands out
the remainder so that the parts always add back to the whole.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Self

from cityhealth.core.errors import InvalidInput

# Parsed amounts above this are typing mistakes (10^13 đồng is far beyond any bill or budget).
MAX_PARSED = 10**13
_MAX_TEXT = 64  # longer input is refused before any int() conversion is attempted

_CURRENCY = re.compile(r"^(?:đồng|vnđ|vnd|₫|đ)\s*|\s*(?:đồng|vnđ|vnd|₫|đ)$", re.IGNORECASE)
# 1–3 leading digits then groups of exactly 3, one separator kind throughout. A lone "1.25"
# does not match: with "." and "," meaning thousands in one locale and decimals in the other,
# anything that is not a clean grouping is refused instead of guessed.
_AMOUNT = re.compile(
    r"[0-9]+"
    r"|[0-9]{1,3}(?:\.[0-9]{3})+"
    r"|[0-9]{1,3}(?:,[0-9]{3})+"
    r"|[0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})+"
)


def _plain_int(value: object, what: str) -> int:
    # bool is an int subclass; True đồng is never what the caller meant.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    return value


@dataclass(frozen=True, order=True)
class Vnd:
    """An amount of đồng; may be negative (a refund, a balance owed back)."""

    amount: int

    def __post_init__(self) -> None:
        _plain_int(self.amount, "Vnd amount")

    @classmethod
    def total(cls, amounts: Iterable[Vnd]) -> Self:
        return cls(sum(_checked(other).amount for other in amounts))

    def __add__(self, other: Vnd) -> Vnd:
        return Vnd(self.amount + _checked(other).amount)

    def __sub__(self, other: Vnd) -> Vnd:
        return Vnd(self.amount - _checked(other).amount)

    def __neg__(self) -> Vnd:
        return Vnd(-self.amount)

    def __mul__(self, factor: int) -> Vnd:
        return Vnd(self.amount * _plain_int(factor, "factor"))

    __rmul__ = __mul__

    def __str__(self) -> str:
        return format_vnd(self)

    def percent(self, p: int | Decimal | Fraction) -> Vnd:
        """`p` per cent of this amount, rounded half up (away from zero) to a whole đồng."""
        if isinstance(p, bool) or not isinstance(p, int | Decimal | Fraction):
            raise TypeError(f"percent takes int, Decimal or Fraction, not {type(p).__name__}")
        if isinstance(p, Decimal) and not p.is_finite():
            raise ValueError("percent must be a finite number")
        exact = Fraction(self.amount) * Fraction(p) / 100
        magnitude = abs(exact)
        rounded = int(magnitude + Fraction(1, 2))  # int() truncates: floor for magnitudes >= 0
        return Vnd(rounded if exact >= 0 else -rounded)

    def allocate(self, ratios: Sequence[int]) -> tuple[Vnd, ...]:
        """Split in proportion to `ratios`; the parts add up to exactly this amount.

        Each part gets its floor share; the đồng left over go one each to the parts with the
        largest remainders (the earlier part wins a tie), so the split is deterministic.
        """
        weights = [_plain_int(ratio, "ratio") for ratio in ratios]
        if not weights or any(weight < 0 for weight in weights) or sum(weights) == 0:
            raise ValueError("ratios must be non-negative ints with a positive sum")
        whole = sum(weights)
        sign = -1 if self.amount < 0 else 1
        magnitude = abs(self.amount)
        shares = [magnitude * weight // whole for weight in weights]
        left_over = magnitude - sum(shares)
        by_remainder = sorted(
            range(len(weights)), key=lambda i: (-(magnitude * weights[i] % whole), i)
        )
        for index in by_remainder[:left_over]:
            shares[index] += 1
        return tuple(Vnd(sign * share) for share in shares)


def _checked(other: object) -> Vnd:
    if not isinstance(other, Vnd):
        raise TypeError(f"cannot combine Vnd with {type(other).__name__}")
    return other


def format_vnd(amount: Vnd) -> str:
    """Vietnamese style: dots between thousands, the đồng sign after: "1.250.000 ₫"."""
    grouped = f"{abs(_checked(amount).amount):,}".replace(",", ".")
    return f"{'-' if amount.amount < 0 else ''}{grouped} ₫"


def parse_vnd(text: str, *, field: str = "amount") -> Vnd:
    """Read "1.250.000 ₫", "1250000", "1,250,000 VND" and the like; refuse anything else."""
    if not isinstance(text, str) or not text.strip():
        raise _invalid("money.empty", "Chưa nhập số tiền.", "No amount was given.", field)
    # NFC first: "đồng" typed on some keyboards arrives as o + combining marks.
    text = unicodedata.normalize("NFC", text.strip())
    body = _CURRENCY.sub("", text, count=1).strip() if len(text) <= _MAX_TEXT else ""
    if body.startswith("-") and _AMOUNT.fullmatch(body[1:].strip()):
        raise _invalid(
            "money.negative",
            "Số tiền không được là số âm.",
            "The amount must not be negative.",
            field,
        )
    if not _AMOUNT.fullmatch(body):
        raise _invalid(
            "money.not_an_amount",
            "Không đọc được số tiền; hãy nhập số đồng, ví dụ 1.250.000 ₫.",
            "This is not an amount; write whole đồng, e.g. 1.250.000 ₫.",
            field,
        )
    amount = int(re.sub(r"[^0-9]", "", body))
    if amount > MAX_PARSED:
        raise _invalid(
            "money.too_large",
            "Số tiền lớn quá mức cho phép (10.000 tỷ đồng).",
            "The amount is larger than allowed (10^13 đồng).",
            field,
        )
    return Vnd(amount)


def _invalid(code: str, vi: str, en: str, field: str) -> InvalidInput:
    return InvalidInput(code, vi=vi, en=en, field=field)
