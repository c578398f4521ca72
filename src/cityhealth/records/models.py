"""The shared record's storage (decision 0005): the current version of every resource in one
table, every version ever written in another. Reads and searches touch only the current
table, so however many versions a resource has, its query plans do not change."""

from __future__ import annotations

from django.db import models

from cityhealth.core.exactjson import ExactJSONField


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
    body = ExactJSONField()  # numbers keep their text: 1.50 stays 1.50
    # Not a column: a search may leave `body` unparsed and carry the stored JSON text here.
    body_text: str | None = None

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
    body = ExactJSONField(null=True, blank=True)  # None for a deletion

    class Meta:
        db_table = "records_resource_versions"
        constraints = [
            models.UniqueConstraint(
                fields=["resource_type", "logical_id", "version_id"],
                name="records_version_identity",
            )
        ]
        # History pages by key (last_updated, id), newest first: the id breaks the ties of
        # a transaction's versions, which share one instant.
        indexes = [
            models.Index(
                fields=["resource_type", "last_updated", "id"], name="records_version_type_key"
            ),
            models.Index(fields=["last_updated", "id"], name="records_version_key"),
        ]

    def __str__(self) -> str:
        return f"{self.resource_type}/{self.logical_id}/_history/{self.version_id}"


class ConsentRule(models.Model):
    """One rule of a resident's active Consent resource (decision 0006), kept at write time so
    that the access check is SQL over a narrow table, never a parse of Consent JSON."""

    consent = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="+")
    person_id = models.BigIntegerField()  # whose record the rule is about
    permit = models.BooleanField()  # provision.type: permit (True) or deny (False)
    organization = models.CharField(max_length=64, blank=True)  # facility code; "" = anyone
    purpose = models.CharField(max_length=20, blank=True)  # v3 ActReason code; "" = any
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "records_consent_rules"
        indexes = [
            models.Index(fields=["person_id", "organization"], name="records_consent_lookup")
        ]

    def __str__(self) -> str:
        effect = "permit" if self.permit else "deny"
        return f"{effect} {self.organization or '*'} {self.purpose or '*'} → {self.person_id}"


class AccessEvent(models.Model):
    """One access to the shared record (read, search, write, operation): the lean,
    append-only trail written with one INSERT per request and served as AuditEvent."""

    occurred_at = models.DateTimeField()
    actor = models.CharField(max_length=40)  # "client:3", "user:12", "anonymous"
    actor_label = models.CharField(max_length=200, blank=True)
    organization = models.CharField(max_length=64, blank=True)  # the caller's facility code
    interaction = models.CharField(max_length=24)  # read, vread, search-type, create, …
    resource_type = models.CharField(max_length=64, blank=True)
    logical_id = models.CharField(max_length=64, blank=True)
    version_id = models.PositiveIntegerField(null=True, blank=True)
    query = models.TextField(blank=True)  # a search's query string
    person_id = models.BigIntegerField(null=True, blank=True)  # whose record, when known
    purpose = models.CharField(max_length=20, blank=True)
    break_glass = models.BooleanField(default=False)
    reason = models.CharField(max_length=300, blank=True)  # the break-glass reason
    source_ip = models.CharField(max_length=45, blank=True)
    status = models.PositiveSmallIntegerField()  # the HTTP status answered

    class Meta:
        db_table = "records_access_events"
        indexes = [
            models.Index(fields=["person_id", "occurred_at"], name="records_access_person"),
            models.Index(fields=["occurred_at"], name="records_access_time"),
            models.Index(fields=["actor", "occurred_at"], name="records_access_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.actor} {self.interaction} {self.resource_type}/{self.logical_id}"


# --- The search index (records.search): one narrow table per kind of search parameter ---------
# Each row belongs to the current version of one resource (replaced on every write, removed on
# delete) and names the parameter it serves, so a search is SQL over these tables joined to
# the current table only.


class _IndexRow(models.Model):
    # No foreign key constraint in the database: index rows are derived data, written only by
    # the indexer for rows it has just written, and resources are never deleted (a delete is a
    # version). PostgreSQL checks a deferred constraint row by row at COMMIT, which cost a
    # fifth of a transaction Bundle's time (12 index rows per resource).
    resource = models.ForeignKey(
        Resource,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    resource_type = models.CharField(max_length=64)
    param = models.CharField(max_length=64)
    # The resource's compartment person (`Resource.person`), copied so that a search naming
    # one patient reads one index range ("this person's Observations coded X") instead of
    # probing each of the person's resources in turn. Rewritten with the rows on every write,
    # which is the only time a resource's person can change.
    person_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        abstract = True


class SearchToken(_IndexRow):
    """A coded value: system and code, and the display text (folded) for `:text`."""

    system = models.CharField(max_length=255, blank=True)
    code = models.CharField(max_length=255)
    text = models.CharField(max_length=255, blank=True)

    class Meta:
        db_table = "records_search_tokens"
        indexes = [
            models.Index(
                fields=["resource_type", "param", "code", "system"], name="records_token_value"
            ),
            models.Index(fields=["resource", "param"], name="records_token_resource"),
            models.Index(
                fields=["person_id", "resource_type", "param", "code"],
                name="records_token_person",
                condition=models.Q(person_id__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.param}={self.system}|{self.code}"


class SearchString(_IndexRow):
    """A string: folded (lower case, no Vietnamese diacritics) for the default and
    `:contains` searches, and as written for `:exact`."""

    value = models.CharField(max_length=255)
    exact = models.CharField(max_length=255)

    class Meta:
        db_table = "records_search_strings"
        indexes = [
            models.Index(
                fields=["resource_type", "param", "value"],
                name="records_string_value",
                opclasses=["varchar_pattern_ops"] * 3,
            ),
            models.Index(fields=["resource", "param"], name="records_string_resource"),
        ]

    def __str__(self) -> str:
        return f"{self.param}={self.exact}"


class SearchReference(_IndexRow):
    """A reference: the target's type and id when it names one of ours, the reference as
    written, and its identifier (for `:identifier`)."""

    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    url = models.CharField(max_length=500, blank=True)
    identifier_system = models.CharField(max_length=255, blank=True)
    identifier_value = models.CharField(max_length=255, blank=True)

    class Meta:
        db_table = "records_search_references"
        indexes = [
            models.Index(
                fields=["target_type", "target_id", "resource_type", "param"],
                name="records_reference_target",
            ),
            models.Index(fields=["resource", "param"], name="records_reference_resource"),
            models.Index(
                fields=["resource_type", "param", "identifier_value"],
                name="records_reference_identifier",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.param}={self.target_type}/{self.target_id}"


class SearchDate(_IndexRow):
    """A date, dateTime, instant, Period or Timing as the instants it spans (both ends
    inclusive), so every prefix is a range test."""

    low = models.DateTimeField()
    high = models.DateTimeField()

    class Meta:
        db_table = "records_search_dates"
        indexes = [
            models.Index(fields=["resource_type", "param", "low"], name="records_date_value"),
            models.Index(fields=["resource", "param"], name="records_date_resource"),
            models.Index(
                fields=["person_id", "resource_type", "param", "low"],
                name="records_date_person",
                condition=models.Q(person_id__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.param}={self.low}..{self.high}"


class SearchQuantity(_IndexRow):
    """A Quantity (or Age, Duration, the ends of a Range): low and high are the value for a
    plain quantity."""

    low = models.DecimalField(max_digits=36, decimal_places=12)
    high = models.DecimalField(max_digits=36, decimal_places=12)
    system = models.CharField(max_length=255, blank=True)
    code = models.CharField(max_length=64, blank=True)
    unit = models.CharField(max_length=64, blank=True)

    class Meta:
        db_table = "records_search_quantities"
        indexes = [
            models.Index(
                fields=["resource_type", "param", "code", "low"], name="records_quantity_value"
            ),
            models.Index(fields=["resource", "param"], name="records_quantity_resource"),
        ]

    def __str__(self) -> str:
        return f"{self.param}={self.low}|{self.system}|{self.code}"


class SearchUri(_IndexRow):
    value = models.CharField(max_length=500)

    class Meta:
        db_table = "records_search_uris"
        indexes = [
            models.Index(fields=["resource_type", "param", "value"], name="records_uri_value"),
            models.Index(fields=["resource", "param"], name="records_uri_resource"),
        ]

    def __str__(self) -> str:
        return f"{self.param}={self.value}"


class SearchNumber(_IndexRow):
    value = models.DecimalField(max_digits=36, decimal_places=12)

    class Meta:
        db_table = "records_search_numbers"
        indexes = [
            models.Index(fields=["resource_type", "param", "value"], name="records_number_value"),
            models.Index(fields=["resource", "param"], name="records_number_resource"),
        ]

    def __str__(self) -> str:
        return f"{self.param}={self.value}"
