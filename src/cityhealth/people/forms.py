"""Forms of the person registry pages: the search filters and a review decision."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cityhealth.geo.selectors import list_wards
from cityhealth.people.services import ReviewDecision

_DECISION_LABELS = {
    ReviewDecision.ACCEPT_SCANNED: _("Accept the card's values"),
    ReviewDecision.KEEP_REGISTRY: _("Keep the registry"),
    ReviewDecision.MERGE: _("Merge the two records"),
    ReviewDecision.DISMISS: _("Dismiss"),
    ReviewDecision.LINK: _("Link to this record"),
    ReviewDecision.REGISTER_NEW: _("Register as a new person"),
}


def decision_label(decision: ReviewDecision) -> str:
    return str(_DECISION_LABELS[decision])


class PersonSearchForm(forms.Form):
    q = forms.CharField(label=_("Name or ID number"), required=False, max_length=100)
    birth_year = forms.IntegerField(
        label=_("Birth year"), required=False, min_value=1900, max_value=2100
    )
    birth_date = forms.DateField(
        label=_("Date of birth"), required=False, input_formats=["%Y-%m-%d", "%d/%m/%Y"]
    )
    ward = forms.ChoiceField(label=_("Ward or commune"), required=False)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=20)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ward_field = self.fields["ward"]
        assert isinstance(ward_field, forms.ChoiceField)
        ward_field.choices = [
            ("", _("All wards")),
            *((w.code, w.name) for w in list_wards().only("code", "name")),
        ]

    def criteria(self) -> dict[str, Any] | None:
        """The valid criteria given (an invalid one is dropped), or None when none is left."""
        self.is_valid()
        data: dict[str, Any] = getattr(self, "cleaned_data", {})
        criteria = {
            "q": (data.get("q") or "").strip(),
            "birth_year": data.get("birth_year"),
            "birth_date": data.get("birth_date"),
            "ward": data.get("ward") or "",
            "phone": (data.get("phone") or "").strip(),
        }
        return criteria if any(v not in ("", None) for v in criteria.values()) else None


class ResolveReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[(d.value, decision_label(d)) for d in ReviewDecision])
    note = forms.CharField(label=_("Note"), required=False, max_length=200)
    survivor_id = forms.IntegerField(required=False, min_value=1)
    person_id = forms.IntegerField(required=False, min_value=1)
