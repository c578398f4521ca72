"""Races with real commits (PostgreSQL, threads): two kiosks scanning one card at once make
one visit; two counters calling at once get two patients. Kept apart from the modules that
load the city's registry in a module-wide transaction, which real commits cannot run inside."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection

from cityhealth.core import clock
from cityhealth.facilities.models import ServicePoint
from cityhealth.reception import services
from cityhealth.reception.models import Visit
from cityhealth.reception.tests.conftest import (
    ELDER_CARD,
    MAN_CARD,
    WOMAN_CARD,
    make_small_hospital,
)

MORNING = dt.datetime(2026, 11, 26, 1, 30, tzinfo=dt.UTC)


def scan(who: Any, card: str, minute: int = 0, **kwargs: Any) -> services.CheckIn:
    with clock.frozen_at(MORNING + dt.timedelta(minutes=minute)):
        return services.check_in_with_cccd(
            principal=who, facility_code=kwargs.pop("facility", "BV-TEST"),
            clinic_code="CLINIC-INTERNAL", qr=card, **kwargs,
        )  # fmt: skip


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_kiosks_scanning_one_card_at_once_make_one_visit(receptionist):
    make_small_hospital()
    results: list[Any] = []
    barrier = threading.Barrier(2)

    def kiosk() -> None:
        try:
            barrier.wait()
            results.append(
                services.check_in_with_cccd(
                    principal=receptionist,
                    facility_code="BV-TEST",
                    clinic_code="CLINIC-INTERNAL",
                    qr=WOMAN_CARD,
                )
            )
        except Exception as error:
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=kiosk) for _ in range(2)]
    # The clock is one for the process: frozen here, around both threads, not in each (two
    # threads leaving their blocks in the other order would leave it frozen).
    with clock.frozen_at(MORNING):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    visits = {r.visit.pk for r in results if isinstance(r, services.CheckIn)}
    assert len(visits) == 1, results
    assert Visit.objects.count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_counters_calling_at_once_get_two_patients(receptionist, clinician):
    make_small_hospital()
    for n, card in enumerate((WOMAN_CARD, MAN_CARD, ELDER_CARD)):
        visit = scan(receptionist, card, minute=n, facility="BV-TEST")
        services.send_to(principal=receptionist, entry_id=visit.entry.pk, department_code="LAB")
    counters = list(
        ServicePoint.objects.filter(department__code="LAB", department__facility__code="BV-TEST")
    )
    called: list[Any] = []
    barrier = threading.Barrier(len(counters))

    def press(point: ServicePoint) -> None:
        try:
            barrier.wait()
            called.append(services.call_next(principal=clinician, service_point_id=point.pk).pk)
        except Exception as error:
            called.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=(point,)) for point in counters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(called)) == len(counters), called
    assert all(isinstance(pk, int) for pk in called), called
