"""The filter form of the facility directory."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cityhealth.facilities.enums import FacilityKind
from cityhealth.geo.selectors import list_wards


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    ward = forms.ChoiceField(label=_("Ward or commune"), required=False)

    def __init__(self, *args: Any, province: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind_field = self.fields["kind"]
        ward_field = self.fields["ward"]
        assert isinstance(kind_field, forms.ChoiceField)
        assert isinstance(ward_field, forms.ChoiceField)
        kind_field.choices = [("", _("All kinds")), *FacilityKind.choices]
        ward_field.choices = [
            ("", _("All wards")),
            *((w.code, w.name) for w in list_wards(province=province).only("code", "name")),
        ]

    def filters(self) -> dict[str, str]:
        """The valid filters given; an invalid value is dropped rather than failing the page."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: cleaned.get(name) or "" for name in ("q", "kind", "ward")}
