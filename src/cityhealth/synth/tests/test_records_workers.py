"""`synth records --workers N` on PostgreSQL: processes that share the persons. A module of
its own: its data must be committed (the processes have their own connections), which the
other modules' open fixtures would not allow."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from cityhealth.facilities.services import load_facilities
from cityhealth.geo.services import load_administrative_units
from cityhealth.records.models import Resource
from cityhealth.synth.records.loader import load_records, source_tag
from cityhealth.synth.tests.test_records_loader import SEED, expected_records


@pytest.mark.skipif(connection.vendor != "postgresql", reason="worker processes need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_worker_processes_share_the_persons_and_write_the_same_records():
    # Committed data: the worker processes open their own connections.
    load_administrative_units()
    load_facilities()
    call_command("synth", "population", "--persons", "40", "--seed", "21", "--no-progress",
                 stdout=StringIO())  # fmt: skip
    report = load_records(seed=SEED, persons=24, years=2, batch=500, workers=2)
    assert report.persons == 24
    stored = sorted(
        Resource.objects.filter(source=source_tag(SEED)).values_list("logical_id", flat=True)
    )
    assert stored == sorted(str(r["id"]) for r in expected_records(24))
    assert report.written == len(stored) + report.directory
    with connection.cursor() as cursor:  # the planner knows what was loaded
        cursor.execute(
            "SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'records_search_tokens' "
            "AND last_analyze IS NOT NULL"
        )
        assert cursor.fetchone() == (1,)
