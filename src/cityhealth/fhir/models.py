"""Tables of the FHIR boundary's background work: bulk export jobs and subscription deliveries.

The resources themselves live in `records`; these rows only remember work in progress, so a
worker that dies leaves a job or a delivery that the next one resumes."""

from __future__ import annotations

import uuid

from django.db import models


class ExportJob(models.Model):
    """One Bulk Data `$export` request: what was asked, by whom, and how far it has got.

    The id is the unguessable part of the status and file URLs. `cursor` is the last row
    written and the size of each open file at that moment: a resumed run truncates the files
    to those sizes and carries on after that row, so nothing is written twice."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"
        CANCELLED = "cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.CharField(max_length=64)  # the caller as the audit log names it
    # Whose consent the run applies: the kick-off's accessor (records.consent.Accessor).
    accessor = models.JSONField(default=dict)
    level = models.CharField(max_length=8)  # system, patient, group
    group_id = models.CharField(max_length=64, blank=True)
    request_url = models.TextField()
    types = models.JSONField(default=list)  # empty: every type
    type_filters = models.JSONField(default=list)  # ["Observation?status=final", ...]
    since = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    transaction_time = models.DateTimeField()
    cursor = models.JSONField(default=dict)
    exported = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)
    # Which run holds the job, and when it last showed life: a run that stops beating is
    # taken over by the next (see export.resume_if_stalled).
    runner = models.CharField(max_length=32, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "fhir_export_jobs"

    def __str__(self) -> str:
        return f"export {self.id} ({self.status})"


class Delivery(models.Model):
    """A notification owed to one Subscription about one written resource version. Delivered
    strictly in id order per subscription: a failing one holds back those behind it."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    subscription_id = models.CharField(max_length=64)  # the Subscription's logical id
    resource_type = models.CharField(max_length=64)
    logical_id = models.CharField(max_length=64)
    version_id = models.PositiveIntegerField()
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # While a run is posting it: another run leaves it alone until then.
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "fhir_deliveries"
        indexes = [
            models.Index(fields=["subscription_id", "status", "id"], name="fhir_delivery_queue")
        ]

    def __str__(self) -> str:
        return f"Subscription/{self.subscription_id} ← {self.resource_type}/{self.logical_id}"


class DeliveryAttempt(models.Model):
    """The delivery log: every POST to a subscriber, with what came back."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="log")
    subscription_id = models.CharField(max_length=64)
    resource = models.CharField(max_length=140)  # "Observation/abc/_history/2"
    attempt = models.PositiveSmallIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    at = models.DateTimeField()
    elapsed_ms = models.PositiveIntegerField()

    class Meta:
        db_table = "fhir_delivery_attempts"
        indexes = [models.Index(fields=["subscription_id", "at"], name="fhir_attempt_log")]

    def __str__(self) -> str:
        return f"{self.resource} → Subscription/{self.subscription_id} #{self.attempt}"
