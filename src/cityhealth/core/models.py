"""Tables of the kernel: the hash-chained audit log; the searchable-name base model."""

from __future__ import annotations

from typing import Any

from django.db import models


class SearchableModel(models.Model):
    """A model that keeps `search_text`: its names folded by `core.text.fold_for_search`.

    The folded text is stored, not computed by the database, so diacritic-blind search works
    the same on SQLite and PostgreSQL. Subclasses declare the `search_text` field (its length
    is theirs to choose) and say what goes into it in `build_search_text`.
    """

    search_text: str

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_text = self.build_search_text()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)

    def build_search_text(self) -> str:
        raise NotImplementedError


class AuditEntry(models.Model):
    """One thing that happened to personal data or to the platform's settings.

    Append-only. An entry is written at once, in the transaction of what it records, without
    a lock; moments later the sealer gives it its place in the chain (`seq`) and a hash that
    covers its fields and the previous entry's hash, so an edited or deleted entry breaks the
    chain (`cityhealth audit verify`).
    """

    seq = models.BigIntegerField(unique=True, null=True, blank=True)  # None until sealed
    occurred_at = models.DateTimeField()
    actor = models.CharField(max_length=120)  # "user:12", "client:3", "system"
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=80)  # "person.read", "account.login", ...
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=80, blank=True)
    facility_code = models.CharField(max_length=20, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    source_ip = models.CharField(max_length=45, blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, null=True, blank=True)
    entry_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)

    class Meta:
        db_table = "core_audit_entries"
        ordering = ["id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="core_audit_target"),
            models.Index(fields=["actor", "occurred_at"], name="core_audit_actor"),
        ]
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"#{self.seq or '…'} {self.action} {self.target_type}:{self.target_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise RuntimeError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("audit entries are append-only")


class AuditHead(models.Model):
    """The chain's tip (one row). The sealer locks it, so one sealer runs at a time; it also
    lets `verify` notice entries cut off the end of the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        db_table = "core_audit_head"

    def __str__(self) -> str:
        return f"audit head #{self.seq}"
