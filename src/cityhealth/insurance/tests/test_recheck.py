"""A gateway outage never blocks a visit: the check goes pending, and the background task
(enqueued after the commit) settles it when the gateway is back. Real HTTP, real commits."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from cityhealth.core import clock
from cityhealth.facilities.models import Facility
from cityhealth.insurance import selectors
from cityhealth.insurance.models import GatewayLookup
from cityhealth.insurance.services import check_eligibility
from cityhealth.insurance.tests.factories import (
    NOON,
    STAFF_ID,
    STAFF_NAME,
    give_card,
    make_facility,
    make_person,
    make_staff,
)
from cityhealth.insurance.types import Eligibility, EligibilityResult
from cityhealth.people.models import Person

pytestmark = pytest.mark.django_db(transaction=True)
RECHECK = "cityhealth.insurance.tasks.recheck_eligibility"


@pytest.fixture
def gateway(settings, served):
    settings.INSURANCE_VSS_URL = served.url
    settings.INSURANCE_VSS_RETRIES = 1
    settings.INSURANCE_VSS_BACKOFF_SECONDS = 0.01
    settings.INSURANCE_VSS_TIMEOUT_SECONDS = 0.3
    settings.INSURANCE_RECHECK_SECONDS = 60
    with clock.frozen_at(NOON):
        yield served.simulator


@pytest.fixture
def visit():
    facility = make_facility("01001")
    make_staff(facility)
    person = make_person()
    give_card(person)
    return person, facility


def check(person: Person, facility: Facility) -> EligibilityResult:
    return check_eligibility(
        person=person, facility=facility, staff_name=STAFF_NAME, staff_citizen_id=STAFF_ID
    )


def run_queued_rechecks() -> list[str]:
    """What the worker does with every re-check that is due by the (frozen) clock."""
    ran = []
    for row in DBTaskResult.objects.filter(
        task_path=RECHECK, status="READY", run_after__lte=clock.now()
    ):
        row.status = "SUCCESSFUL"
        row.save(update_fields=["status"])
        ran.append(row.task.call(*row.task_result.args, **row.task_result.kwargs))
    return ran


def test_outage_pending_then_the_background_recheck_settles_it(gateway, visit):
    gateway.configure({"outage": True})
    pending = check(*visit)
    assert (pending.status, pending.code, pending.attempts) == (Eligibility.PENDING, "", 1)
    assert "HTTP 503" in pending.staff_en or "http_503" in pending.staff_en
    queued = DBTaskResult.objects.get(task_path=RECHECK)
    assert queued.run_after == NOON + dt.timedelta(seconds=60)
    assert queued.task_result.kwargs == {"check_id": pending.check_id}

    assert run_queued_rechecks() == []  # not due yet
    clock.advance(dt.timedelta(seconds=60))
    assert run_queued_rechecks() == ["pending"]  # still down: tried, and queued again
    second = selectors.eligibility_of(check_id=pending.check_id)
    assert second.attempts == 2
    assert second.next_attempt_at == NOON + dt.timedelta(seconds=60 + 120)

    gateway.configure({"outage": False})
    clock.advance(dt.timedelta(seconds=120))
    assert run_queued_rechecks() == ["eligible"]
    settled = selectors.eligibility_of(check_id=pending.check_id)
    assert (settled.status, settled.code, settled.attempts) == (Eligibility.ELIGIBLE, "000", 3)
    assert settled.next_attempt_at is None
    assert settled.card_code == visit[0].insurance_cards.get().code
    errors = list(
        GatewayLookup.objects.filter(eligibility_check_id=pending.check_id)
        .order_by("pk")
        .values_list("error", flat=True)
    )
    assert errors == ["http_503"] * 4 + ["", ""]  # 2 tries x 2 attempts, then token and card


def test_a_slow_gateway_leaves_the_visit_pending_not_waiting(gateway, visit):
    gateway.configure({"latency_ms": 800})
    pending = check(*visit)
    assert pending.status is Eligibility.PENDING
    assert "did not answer in time" in pending.staff_en
    assert DBTaskResult.objects.filter(task_path=RECHECK).count() == 1


def test_after_the_last_attempt_staff_are_told_to_look_it_up_by_hand(gateway, visit, settings):
    settings.INSURANCE_RECHECK_ATTEMPTS = 2
    gateway.configure({"outage": True})
    pending = check(*visit)
    clock.advance(dt.timedelta(seconds=60))
    run_queued_rechecks()
    given_up = selectors.eligibility_of(check_id=pending.check_id)
    assert (given_up.status, given_up.attempts, given_up.next_attempt_at) == (
        Eligibility.PENDING,
        2,
        None,
    )
    assert "look the card up on the insurance portal" in given_up.staff_en
    assert DBTaskResult.objects.filter(task_path=RECHECK, status="READY").count() == 0


def test_the_recheck_command_settles_what_is_due(gateway, visit, capsys):
    gateway.configure({"outage": True})
    pending = check(*visit)
    gateway.configure({"outage": False})
    call_command("insurance", "recheck")
    assert "0 settled, 0 still pending" in capsys.readouterr().out  # not due yet
    clock.advance(dt.timedelta(seconds=60))
    call_command("insurance", "recheck")
    assert "1 settled, 0 still pending" in capsys.readouterr().out
    assert selectors.eligibility_of(check_id=pending.check_id).status is Eligibility.ELIGIBLE
