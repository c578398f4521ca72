"""Eligibility checks of BHYT cards and the append-only log of every gateway request."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from cityhealth.insurance.types import Eligibility


class EligibilityCheck(models.Model):
    """One check of a person's card for a visit. A pending check is tried again in the
    background and updated in place; a visit keeps a foreign key to it."""

    # Each check-in may write a check: no index beyond those its reads use (the person's
    # day starts `insurance_check_day`; nobody looks checks up by facility alone).
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    facility = models.ForeignKey(
        "facilities.Facility", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    check_date = models.DateField(_("date"))  # the city's date of the check
    status = models.CharField(
        _("status"), max_length=12, choices=[(e.value, e.value) for e in Eligibility]
    )
    code = models.CharField(_("result code"), max_length=3, blank=True)  # maKetQua
    # What was asked (maThe, hoTen, ngaySinh, hoTenCb, cccdCb): a re-check asks it again.
    query = models.JSONField(_("query"), default=dict)
    # The card as the gateway answered it (the new card's data for 003/004).
    card_code = models.CharField(_("card code"), max_length=15, blank=True)
    benefit_level = models.PositiveSmallIntegerField(_("benefit level"), null=True, blank=True)
    primary_care_facility = models.CharField(
        _("registered primary-care facility"), max_length=5, blank=True
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    holder_name = models.CharField(_("card holder"), max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    requested_at = models.DateTimeField(_("requested at"))
    checked_at = models.DateTimeField(_("checked at"))  # the last attempt
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    # Why a check is still pending: no answer ("timeout", "breaker_open", "http_503"...) or
    # an answer that is not about the card (054, 055, 205, 401, 100, 101 in `last_code`).
    last_error = models.CharField(_("last error"), max_length=30, blank=True)
    last_code = models.CharField(_("last result code"), max_length=3, blank=True)

    class Meta:
        db_table = "insurance_eligibility_checks"
        verbose_name = _("eligibility check")
        verbose_name_plural = _("eligibility checks")
        indexes = [
            models.Index(fields=["person", "check_date", "status"], name="insurance_check_day"),
            # Only the pending few: a settled check never enters it.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="insurance_check_due",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.status} {self.code}"


class GatewayLookup(models.Model):
    """One request to the gateway: who asked, when, what was sent and what came back. Never
    the password. Rows are only ever added."""

    eligibility_check = models.ForeignKey(
        EligibilityCheck, on_delete=models.PROTECT, null=True, blank=True, related_name="lookups"
    )
    endpoint = models.CharField(_("endpoint"), max_length=10)  # "token", "card"
    username = models.CharField(_("facility account"), max_length=20)
    staff_name = models.CharField(_("staff name"), max_length=200, blank=True)
    staff_citizen_id = models.CharField(_("staff citizen ID"), max_length=12, blank=True)
    started_at = models.DateTimeField(_("started at"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    result_code = models.CharField(_("result code"), max_length=3, blank=True)
    error = models.CharField(_("error"), max_length=30, blank=True)
    request = models.JSONField(_("request"), default=dict)

    class Meta:
        db_table = "insurance_gateway_lookups"
        verbose_name = _("gateway lookup")
        verbose_name_plural = _("gateway lookups")
        indexes = [models.Index(fields=["started_at"], name="insurance_lookup_time")]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.result_code or self.error} {self.started_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("gateway lookups are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("gateway lookups are append-only")
