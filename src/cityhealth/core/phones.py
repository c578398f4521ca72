"""Phone numbers in one form wherever they are compared: a caller's number from the telephone
system, the number a handset puts in its location message, a person's number in the registry."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s.\-()]")


def national_form(raw: str) -> str:
    """A Vietnamese number in its national form, separators dropped: "+84 912 345 678" and
    "84912345678" → "0912345678". Anything else comes back without separators, unchecked."""
    digits = _SEPARATORS.sub("", raw or "")
    if digits.startswith("+84"):
        return "0" + digits[3:]
    if digits.startswith("84") and len(digits) in (11, 12) and digits.isdigit():
        return "0" + digits[2:]
    return digits
