"""Where the data shipped with the platform lives (the repository's `data/` folder)."""

from __future__ import annotations

import csv
from pathlib import Path

from django.conf import settings


def data_path(*parts: str) -> Path:
    return Path(settings.DATA_DIR, *parts)


def read_csv(*parts: str) -> list[dict[str, str]]:
    """Rows of a shipped CSV file (UTF-8, header row), as dicts of stripped strings."""
    with data_path(*parts).open(encoding="utf-8", newline="") as handle:
        return [
            {key: (value or "").strip() for key, value in row.items()}
            for row in csv.DictReader(handle)
        ]
