"""A visit reaches the shared record as an Encounter: marked due in the transaction that
changed the visit, written by the worker after the commit (one run for all that fell behind),
and brought up to date when the visit ends."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from cityhealth.core import clock
from cityhealth.reception import encounters, services
from cityhealth.reception.models import EncounterDue
from cityhealth.reception.tests.conftest import HOSPITAL, MAN_CARD, WOMAN_CARD
from cityhealth.records.models import Resource

pytestmark = pytest.mark.django_db
MORNING = dt.datetime(2026, 11, 26, 1, 30, tzinfo=dt.UTC)
TASK = "cityhealth.reception.encounters.record_due_encounters"


@pytest.fixture(autouse=True)
def _no_recent_request(monkeypatch):
    monkeypatch.setattr(encounters, "_last_request", 0.0)  # as in a process just started


def scan(who: Any, card: str) -> services.CheckIn:
    with clock.frozen_at(MORNING):
        return services.check_in_with_cccd(
            principal=who, facility_code=HOSPITAL, clinic_code="CLINIC-INTERNAL", qr=card
        )


def test_the_visit_becomes_an_encounter_after_the_commit(
    hospital, receptionist, clinician, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as waiting:
        done = scan(receptionist, WOMAN_CARD)
    assert EncounterDue.objects.filter(visit_id=done.visit.pk).exists()  # with the visit
    assert not DBTaskResult.objects.filter(task_path=TASK).exists()  # not before the commit
    for callback in waiting:
        callback()
    assert DBTaskResult.objects.filter(task_path=TASK).count() == 1
    assert encounters.record_due_encounters.call() == 1
    assert not EncounterDue.objects.exists()
    stored = Resource.objects.get(resource_type="Encounter", logical_id=f"visit-{done.visit.pk}")
    assert stored.body["status"] == "arrived"
    assert stored.body["subject"] == {"reference": f"Patient/{done.visit.person_id}"}
    assert stored.body["class"]["code"] == "AMB"
    assert stored.person_id == done.visit.person_id  # in the resident's compartment
    assert stored.source == HOSPITAL

    with clock.frozen_at(MORNING + dt.timedelta(minutes=20)):
        services.finish_visit(principal=clinician, entry_id=done.entry.pk)
    assert encounters.record_due_encounters.call() == 1
    assert encounters.record_due_encounters.call() == 0  # nothing behind any more
    stored.refresh_from_db()
    assert stored.version_id == 2
    assert stored.body["status"] == "finished"
    assert stored.body["period"]["end"].startswith("2026-11-26T01:50")
    assert stored.body["location"][0]["location"]["display"]


def test_changes_within_a_second_make_one_task_and_a_visit_is_due_once(
    hospital, receptionist, clinician, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        woman = scan(receptionist, WOMAN_CARD)
    with django_capture_on_commit_callbacks(execute=True):
        scan(receptionist, MAN_CARD)
    with django_capture_on_commit_callbacks(execute=True), clock.frozen_at(MORNING):
        services.send_to(principal=clinician, entry_id=woman.entry.pk, department_code="LAB")
    assert DBTaskResult.objects.filter(task_path=TASK).count() == 1  # the first asked for all
    assert EncounterDue.objects.count() == 2  # the woman's two changes: one row
    assert encounters.record_due_encounters.call() == 2
    assert Resource.objects.filter(resource_type="Encounter").count() == 2


def test_a_visit_whose_encounter_fails_stays_due_and_holds_up_no_other(
    hospital, receptionist, monkeypatch
):
    woman, man = scan(receptionist, WOMAN_CARD), scan(receptionist, MAN_CARD)
    record = encounters.record_encounter

    def fails_for_the_woman(visit_id: int) -> str:
        if visit_id == woman.visit.pk:
            raise RuntimeError("the shared record refused it")
        return record(visit_id)

    monkeypatch.setattr(encounters, "record_encounter", fails_for_the_woman)
    assert encounters.record_due_encounters.call() == 1
    assert list(EncounterDue.objects.values_list("visit_id", flat=True)) == [woman.visit.pk]
    assert Resource.objects.filter(logical_id=f"visit-{man.visit.pk}").exists()
    assert not Resource.objects.filter(logical_id=f"visit-{woman.visit.pk}").exists()
    monkeypatch.setattr(encounters, "record_encounter", record)
    assert encounters.record_due_encounters.call() == 1  # the next run writes it
    assert not EncounterDue.objects.exists()
