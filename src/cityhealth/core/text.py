"""Text helpers shared by every app."""

from __future__ import annotations

import unicodedata


def fold_for_search(*texts: str) -> str:
    """Lower-case text without Vietnamese diacritics, for searches that ignore them.

    "Bệnh viện Đống Đa" → "benh vien dong da". Works the same on SQLite and PostgreSQL because
    the folded text is stored, not computed by the database.
    """
    joined = " ".join(t for t in texts if t)
    decomposed = unicodedata.normalize("NFD", joined.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())
