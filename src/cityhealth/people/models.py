"""Persons, their identifiers with history, insurance cards, guardians, reviews and merges."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cityhealth.core.models import SearchableModel
from cityhealth.core.names import name_key
from cityhealth.people.enums import (
    DatePrecision,
    IdentifierKind,
    IdentifierStatus,
    Relationship,
    ReviewKind,
    ReviewStatus,
    Sex,
)


class Person(SearchableModel):
    """One real human. The id is stable for life; identifiers come and go around it."""

    full_name = models.CharField(_("full name"), max_length=200)  # as written, NFC
    # Folded, variant-normalised name ("nguyen van an"): search and blocking key.
    search_text = models.CharField(_("name key"), max_length=200, editable=False)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    birth_year = models.SmallIntegerField(_("birth year"), null=True, blank=True)
    birth_date_precision = models.CharField(
        _("birth date precision"),
        max_length=5,
        choices=DatePrecision.choices,
        default=DatePrecision.DAY,
    )
    sex = models.CharField(_("sex"), max_length=7, choices=Sex.choices, default=Sex.UNKNOWN)
    nationality = models.CharField(_("nationality"), max_length=2, default="VN")
    ward = models.ForeignKey(
        "geo.Ward", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=15, blank=True)  # digits, "0912345678"
    deceased = models.BooleanField(_("deceased"), default=False)
    deceased_on = models.DateField(_("date of death"), null=True, blank=True)
    eid_linked = models.BooleanField(_("e-ID linked"), default=False)
    # Set when this record was merged into another: it stays, read-only, for history.
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_from"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "people_persons"
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        indexes = [
            models.Index(fields=["search_text", "birth_year"], name="people_name_year"),
            models.Index(fields=["birth_date"], name="people_birth_date"),
            models.Index(fields=["phone"], name="people_phone"),
            models.Index(fields=["ward", "birth_year"], name="people_ward_year"),
        ]

    def __str__(self) -> str:
        return self.full_name

    def build_search_text(self) -> str:
        return name_key(self.full_name)


class PersonIdentifier(models.Model):
    """An identifier a person holds or held. Numbers are cancelled and re-issued, so the
    history is kept and only an active identifier is unique."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="identifiers")
    kind = models.CharField(_("kind"), max_length=20, choices=IdentifierKind.choices)
    value = models.CharField(_("value"), max_length=32)
    # Country of a passport, facility code of a hospital record number.
    issuer = models.CharField(_("issuer"), max_length=20, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=IdentifierStatus.choices,
        default=IdentifierStatus.ACTIVE,
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=40, blank=True)  # "qr_scan", "desk", ...
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "people_identifiers"
        indexes = [models.Index(fields=["kind", "value"], name="people_identifier_value")]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "issuer", "value"],
                condition=models.Q(status="active"),
                name="people_identifier_active_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value} ({self.status})"


class InsuranceCard(models.Model):
    """A BHYT card: its code, benefit level, registered primary-care facility and validity."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="insurance_cards")
    code = models.CharField(_("card code"), max_length=15, blank=True)  # 15-character form
    social_insurance_number = models.CharField(_("social insurance number"), max_length=10)
    group = models.CharField(_("beneficiary group"), max_length=2, blank=True)
    benefit_level = models.PositiveSmallIntegerField(_("benefit level"), null=True, blank=True)
    primary_care_facility = models.CharField(
        _("registered primary-care facility"), max_length=5, blank=True
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "people_insurance_cards"
        indexes = [
            models.Index(fields=["social_insurance_number"], name="people_card_bhxh"),
            models.Index(fields=["code"], name="people_card_code"),
        ]

    def __str__(self) -> str:
        return self.code or self.social_insurance_number


class Guardianship(models.Model):
    child = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="guardians")
    guardian = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="wards_of")
    relationship = models.CharField(_("relationship"), max_length=10, choices=Relationship.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "people_guardianships"
        constraints = [
            models.UniqueConstraint(fields=["child", "guardian"], name="people_guardianship_unique")
        ]

    def __str__(self) -> str:
        return f"{self.guardian_id} → {self.child_id} ({self.relationship})"


class ReviewItem(models.Model):
    """Something staff must decide: a scan that disagrees, an ID claimed twice, a likely
    duplicate, an incoming record the matcher could not place."""

    kind = models.CharField(_("kind"), max_length=20, choices=ReviewKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.OPEN
    )
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="review_items"
    )
    other_person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    score = models.FloatField(_("match score"), null=True, blank=True)
    # What arrived (scanned card fields, an incoming record) and what differed.
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=120, blank=True)
    resolution = models.CharField(_("resolution"), max_length=300, blank=True)

    class Meta:
        db_table = "people_review_items"
        indexes = [
            models.Index(fields=["status", "kind", "created_at"], name="people_review_queue")
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"


class Merge(models.Model):
    """Two records found to be one human: `retired` folded into `survivor`, reversibly.

    `moved` lists what was moved (identifier, card and guardianship ids) so unmerge can put
    each back.
    """

    survivor = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="merges_kept")
    retired = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="merges_retired")
    reason = models.CharField(_("reason"), max_length=300)
    moved = models.JSONField(default=dict)
    performed_by = models.CharField(max_length=120)
    performed_at = models.DateTimeField()
    undone_by = models.CharField(max_length=120, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "people_merges"

    def __str__(self) -> str:
        return f"{self.retired_id} → {self.survivor_id}"
