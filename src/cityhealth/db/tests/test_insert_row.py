"""`insert_row` writes what `save(force_insert=True)` writes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.forms.models import model_to_dict

from cityhealth.core.models import AuditEntry
from cityhealth.db import insert_row

pytestmark = pytest.mark.django_db
AT = dt.datetime(2026, 11, 26, 1, 30, 5, 123456, tzinfo=dt.UTC)


def _entry(actor: str) -> AuditEntry:
    return AuditEntry(
        occurred_at=AT, actor=actor, action="person.read", target_type="person",
        target_id="7", details={"via": "citizen_id", "Tên": "Nguyễn", "n": [1, 2.5, None]},
    )  # fmt: skip


def test_the_row_is_the_one_the_orm_would_write():
    by_orm, by_sql = _entry("user:1"), _entry("user:2")
    by_orm.save(force_insert=True)
    insert_row(by_sql)
    assert by_sql.pk is not None
    assert by_sql.pk != by_orm.pk
    assert not by_sql._state.adding
    read_orm, read_sql = (AuditEntry.objects.get(pk=e.pk) for e in (by_orm, by_sql))
    skip = {"id", "actor"}
    assert {k: v for k, v in model_to_dict(read_sql).items() if k not in skip} == {
        k: v for k, v in model_to_dict(read_orm).items() if k not in skip
    }
    assert read_sql.details == {"via": "citizen_id", "Tên": "Nguyễn", "n": [1, 2.5, None]}
    assert read_sql.occurred_at == AT
    assert read_sql.seq is None  # a nullable column left to its default


def test_each_row_gets_its_own_key():
    entries = [_entry(f"user:{n}") for n in range(3)]
    for entry in entries:
        insert_row(entry)
    assert len({e.pk for e in entries}) == 3
    assert AuditEntry.objects.filter(pk__in=[e.pk for e in entries]).count() == 3
