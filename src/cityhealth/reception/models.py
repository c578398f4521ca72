"""A visit is one journey through a hospital's queues (clinic → lab → clinic → pharmacy →
cashier) under one ticket; each stay in one queue is a `QueueEntry`. A queue is a department
of the facility (a clinic, the lab, the pharmacy, the cashier), served at its rooms and
counters (`facilities.ServicePoint`)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from cityhealth.reception.enums import (
    Channel,
    EntryState,
    IdentifiedBy,
    Priority,
    VisitStatus,
)


class Visit(models.Model):
    # No index of their own where a composite one starts with the column: every check-in
    # writes these rows, and each index is one more write (the hospital's day, the one open
    # visit and the ticket number all start with the facility).
    facility = models.ForeignKey(
        "facilities.Facility", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # Always a registry person: the desk registers one without papers (an unconscious
    # stranger with an approximate age, a child on a guardian's ID) before checking in.
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    # The resident's live ticket page: unguessable, printed as a QR.
    token = models.CharField(max_length=32)  # unique: Meta (no LIKE index beside it)
    day = models.DateField()  # the facility's local day the ticket belongs to
    prefix = models.CharField(max_length=2)  # "A" normal, "U" priority, "C" emergency
    number = models.PositiveIntegerField()
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    priority_groups = models.JSONField(default=list, blank=True)  # PriorityGroup values
    channel = models.CharField(max_length=10, choices=Channel.choices)
    identified_by = models.CharField(max_length=15, choices=IdentifiedBy.choices)
    document_number = models.CharField(max_length=20, blank=True)  # CCCD / passport number
    guardian = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    follow_up_slip = models.CharField(_("follow-up slip"), max_length=40, blank=True)
    eligibility_check_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=VisitStatus.choices, default=VisitStatus.OPEN)
    # Kiosk flow time: from the first screen touched to the ticket.
    started_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.CharField(max_length=40)  # "user:12", "client:3"
    # The QĐ 130 check-in record (XML0 fields), kept for submission to the insurance gateway.
    claim_checkin = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "reception_visits"
        constraints = [
            models.UniqueConstraint(fields=["token"], name="reception_visit_token"),
            models.UniqueConstraint(
                fields=["facility", "day", "prefix", "number"], name="reception_visit_ticket"
            ),
            # One journey at a time per person and hospital: a second scan returns it.
            models.UniqueConstraint(
                fields=["facility", "person"],
                condition=models.Q(status="open"),
                name="reception_visit_one_open",
            ),
        ]
        indexes = [models.Index(fields=["facility", "day"], name="reception_visit_day")]

    def __str__(self) -> str:
        return self.ticket

    @property
    def ticket(self) -> str:
        return f"{self.prefix}{self.number:03d}"


class QueueEntry(models.Model):
    # Indexed by the composite indexes and constraint below, which start with them.
    visit = models.ForeignKey(
        Visit, on_delete=models.CASCADE, related_name="entries", db_index=False
    )
    facility = models.ForeignKey(
        "facilities.Facility", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    department = models.ForeignKey(
        "facilities.Department", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # The room a clinic entry was sent to at check-in, or the counter that called it.
    service_point = models.ForeignKey(
        "facilities.ServicePoint", on_delete=models.PROTECT, null=True, blank=True,
        related_name="reception_entries",
    )  # fmt: skip
    step = models.PositiveSmallIntegerField()  # 1, 2, … along the visit
    state = models.CharField(max_length=12, choices=EntryState.choices)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)  # the visit's
    entered_at = models.DateTimeField()
    called_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    announced_at = models.DateTimeField(null=True, blank=True)  # the last call or recall
    calls = models.PositiveSmallIntegerField(default=0)  # 2+ means recalled
    called_by = models.CharField(max_length=40, blank=True)

    class Meta:
        db_table = "reception_queue_entries"
        constraints = [
            models.UniqueConstraint(fields=["visit", "step"], name="reception_entry_step"),
        ]
        indexes = [
            # call-next: a queue's waiting entries, highest priority first, then by arrival.
            models.Index(
                fields=["department", "state", "priority", "entered_at"],
                name="reception_entry_queue",
            ),
            models.Index(fields=["facility", "entered_at"], name="reception_entry_time"),
        ]

    def __str__(self) -> str:
        return f"{self.visit_id}#{self.step} {self.state}"


class TicketSequence(models.Model):
    """The last ticket number given per facility, day and prefix."""

    facility = models.ForeignKey("facilities.Facility", on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    prefix = models.CharField(max_length=2)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "reception_ticket_sequences"
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "day", "prefix"], name="reception_sequence_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix} {self.day}: {self.last}"


class VisitCorrection(models.Model):
    """One correction the desk made to a visit (its clinic, its declared priority groups,
    its cancellation, the person it belongs to): what it was, what it became, why and by
    whom. Append-only: a later correction is a new row, never an edit of an earlier one."""

    class Kind(models.TextChoices):
        CLINIC = "clinic", _("Clinic changed")
        PRIORITY = "priority", _("Priority groups changed")
        CANCEL = "cancel", _("Visit cancelled")
        PERSON = "person", _("Person changed")

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="corrections")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    reason = models.CharField(_("reason"), max_length=300)
    actor = models.CharField(max_length=40)  # "user:12"
    at = models.DateTimeField()

    class Meta:
        db_table = "reception_visit_corrections"
        indexes = [models.Index(fields=["visit", "at"], name="reception_correction_visit")]

    def __str__(self) -> str:
        return f"{self.visit_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The log is evidence of what was changed on a visit: a row once written stays as
        # it was (a mistaken correction is undone by another correction).
        if not self._state.adding:
            raise TypeError("a visit correction is never changed once written")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("a visit correction is never deleted")


class EncounterDue(models.Model):
    """A visit whose shared-record Encounter is behind: added in the transaction that
    changed the visit (so it is due exactly when the change commits), removed by the worker
    once the Encounter is written. One row per visit however often it changed."""

    visit = models.OneToOneField(
        Visit, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )

    class Meta:
        db_table = "reception_encounters_due"

    def __str__(self) -> str:
        return f"visit {self.visit_id}"
