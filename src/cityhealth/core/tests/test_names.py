from __future__ import annotations

import pytest

from cityhealth.core.names import NameParts, name_key, normalise_name, split_name


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Nguyễn Thị Minh Anh", "nguyen thi minh anh"),
        ("NGUYỄN  THỊ MINH ANH ", "nguyen thi minh anh"),
        ("Võ Thị Hồng", "vu thi hong"),
        ("Vũ Thị Hồng", "vu thi hong"),
        ("Huỳnh Văn Lộc", "hoang van loc"),
        ("Đặng Văn Đông", "dang van dong"),
        # Decomposed input (u + combining marks) folds the same as composed.
        ("Nguye\u0302\u0303n", "nguyen"),
        # Only a whole word is a variant: "Võ" inside a given name is left alone.
        ("Trần Võ", "tran vu"),
        ("", ""),
    ],
)
def test_name_key(text, key):
    assert name_key(text) == key


def test_normalise_name():
    assert normalise_name("  TRẦN   thị minh ANH ") == "Trần Thị Minh Anh"
    assert normalise_name("Nguye\u0302\u0303n") == "Nguyễn"


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("Nguyễn Thị Minh Anh", NameParts("Nguyễn", "Thị Minh", "Anh")),
        ("Lê Na", NameParts("Lê", "", "Na")),
        ("Madonna", NameParts("", "", "Madonna")),
        ("", NameParts("", "", "")),
    ],
)
def test_split_name(text, parts):
    assert split_name(text) == parts
