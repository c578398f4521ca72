"""Vietnamese names: folding, regional variants, and their parts.

A name is written family – middle – given ("Nguyễn Thị Minh Anh"). Keys fold diacritics and
map the southern and northern forms of the same surname together (Võ/Vũ, Huỳnh/Hoàng), so a
search or a match does not depend on which form a clerk typed.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from cityhealth.core.text import fold_for_search

# Southern form → northern form, after folding.
VARIANTS = {"vo": "vu", "huynh": "hoang"}


def normalise_name(text: str) -> str:
    """The name as it should be stored: NFC, single spaces, each word capitalised."""
    words = unicodedata.normalize("NFC", text).split()
    return " ".join(word[:1].upper() + word[1:].lower() for word in words)


def name_key(text: str) -> str:
    """Folded, variant-normalised name: "Võ Thị Hồng" → "vu thi hong"."""
    return " ".join(VARIANTS.get(word, word) for word in fold_for_search(text).split())


@dataclass(frozen=True)
class NameParts:
    family: str
    middle: str
    given: str


def split_name(text: str) -> NameParts:
    """Family name first, given name last, the rest in the middle."""
    words = text.split()
    if not words:
        return NameParts("", "", "")
    if len(words) == 1:
        return NameParts("", "", words[0])
    return NameParts(words[0], " ".join(words[1:-1]), words[-1])
