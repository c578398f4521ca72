"""Every string the interface shows has its Vietnamese translation."""

from __future__ import annotations

from pathlib import Path

import polib
from django.conf import settings
from django.utils import translation


def _catalogue() -> polib.POFile:
    return polib.pofile(str(Path(settings.LOCALE_PATHS[0]) / "vi" / "LC_MESSAGES" / "django.po"))


def test_every_message_is_translated_and_none_is_fuzzy():
    catalogue = _catalogue()
    assert len(catalogue) > 100
    assert not catalogue.metadata_is_fuzzy
    assert [e.msgid for e in catalogue.untranslated_entries()] == []
    assert [e.msgid for e in catalogue.fuzzy_entries()] == []


def test_compiled_catalogue_is_in_use():
    with translation.override("vi"):
        assert translation.gettext("Sign in") == "Đăng nhập"
        assert (
            translation.ngettext(
                "Chain intact: %(n)s entry verified.", "Chain intact: %(n)s entries verified.", 3
            )
            % {"n": 3}
            == "Chuỗi nguyên vẹn: đã kiểm tra 3 bản ghi."
        )
