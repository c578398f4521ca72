"""A visit reaches the shared record as an Encounter: enqueued only once the visit's
transaction has committed, written by the worker, and brought up to date when the visit ends."""

from __future__ import annotations

import datetime as dt

import pytest
from django_tasks_db.models import DBTaskResult

from cityhealth.core import clock
from cityhealth.reception import encounters, services
from cityhealth.reception.tests.conftest import HOSPITAL, WOMAN_CARD
from cityhealth.records.models import Resource

pytestmark = pytest.mark.django_db
MORNING = dt.datetime(2026, 11, 26, 1, 30, tzinfo=dt.UTC)
TASK = "cityhealth.reception.encounters.record_encounter"


def test_the_visit_becomes_an_encounter_after_the_commit(
    hospital, receptionist, clinician, django_capture_on_commit_callbacks
):
    with clock.frozen_at(MORNING):
        with django_capture_on_commit_callbacks(execute=False) as waiting:
            done = services.check_in_with_cccd(
                principal=receptionist, facility_code=HOSPITAL, clinic_code="CLINIC-INTERNAL",
                qr=WOMAN_CARD,
            )  # fmt: skip
        assert not DBTaskResult.objects.filter(task_path=TASK).exists()  # not before the commit
        for callback in waiting:
            callback()
    assert DBTaskResult.objects.filter(task_path=TASK).count() == 1
    encounters.record_encounter.call(visit_id=done.visit.pk)
    stored = Resource.objects.get(resource_type="Encounter", logical_id=f"visit-{done.visit.pk}")
    assert stored.body["status"] == "arrived"
    assert stored.body["subject"] == {"reference": f"Patient/{done.visit.person_id}"}
    assert stored.body["class"]["code"] == "AMB"
    assert stored.person_id == done.visit.person_id  # in the resident's compartment
    assert stored.source == HOSPITAL

    with clock.frozen_at(MORNING + dt.timedelta(minutes=20)):
        services.finish_visit(principal=clinician, entry_id=done.entry.pk)
    encounters.record_encounter.call(visit_id=done.visit.pk)
    stored.refresh_from_db()
    assert stored.version_id == 2
    assert stored.body["status"] == "finished"
    assert stored.body["period"]["end"].startswith("2026-11-26T01:50")
    assert stored.body["location"][0]["location"]["display"]
