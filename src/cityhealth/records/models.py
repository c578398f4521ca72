"""The shared record's storage (decision 0005): the current version of every resource in one
table, every version ever written in another. Reads and searches touch only the current
table, so however many versions a resource has, its query plans do not change."""

from __future__ import annotations

from django.db import models


class Resource(models.Model):
    """The current version of one FHIR resource (a deleted one keeps its row, `deleted`)."""

    resource_type = models.CharField(max_length=64)
    logical_id = models.CharField(max_length=64)
    version_id = models.PositiveIntegerField()
    last_updated = models.DateTimeField()
    # Who wrote it: the facility code or API client the write came from (meta.source).
    source = models.CharField(max_length=200, blank=True)
    # The person whose compartment it belongs to, resolved once at write time: consent and
    # `$everything` filter on it in SQL.
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    deleted = models.BooleanField(default=False)
    body = models.JSONField()

    class Meta:
        db_table = "records_resources"
        constraints = [
            models.UniqueConstraint(
                fields=["resource_type", "logical_id"], name="records_resource_identity"
            )
        ]
        indexes = [
            models.Index(fields=["resource_type", "last_updated"], name="records_type_updated"),
            models.Index(fields=["person", "resource_type"], name="records_compartment"),
        ]

    def __str__(self) -> str:
        return f"{self.resource_type}/{self.logical_id}/_history/{self.version_id}"


class ResourceVersion(models.Model):
    """Every version ever written, append-only: `vread` and `_history` read it."""

    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="versions")
    resource_type = models.CharField(max_length=64)
    logical_id = models.CharField(max_length=64)
    version_id = models.PositiveIntegerField()
    last_updated = models.DateTimeField()
    source = models.CharField(max_length=200, blank=True)
    method = models.CharField(max_length=6)  # POST, PUT, PATCH, DELETE: how it came to be
    deleted = models.BooleanField(default=False)
    body = models.JSONField(null=True, blank=True)  # None for a deletion

    class Meta:
        db_table = "records_resource_versions"
        constraints = [
            models.UniqueConstraint(
                fields=["resource_type", "logical_id", "version_id"],
                name="records_version_identity",
            )
        ]
        indexes = [
            models.Index(fields=["resource_type", "last_updated"], name="records_version_updated"),
            models.Index(fields=["last_updated"], name="records_version_system"),
        ]

    def __str__(self) -> str:
        return f"{self.resource_type}/{self.logical_id}/_history/{self.version_id}"
