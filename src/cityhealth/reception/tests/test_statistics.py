"""Waiting statistics from the visits' own timestamps: kiosk flow time, wait until called,
service time, throughput, by priority group and by hour; and the page that shows them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from cityhealth.core import clock
from cityhealth.core.errors import InvalidInput, PermissionDenied
from cityhealth.core.roles import Role
from cityhealth.reception import services
from cityhealth.reception.enums import Channel
from cityhealth.reception.models import QueueEntry
from cityhealth.reception.stats import queue_statistics
from cityhealth.reception.tests.conftest import ELDER_CARD, HOSPITAL, MAN_CARD, WOMAN_CARD

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 26)
EIGHT = dt.datetime(2026, 11, 26, 1, 0, tzinfo=dt.UTC)  # 08:00 in Hà Nội


def at(minutes: float) -> Any:
    return clock.frozen_at(EIGHT + dt.timedelta(minutes=minutes))


def test_waits_service_and_throughput_by_group_and_hour(
    hospital, receptionist, clinician, make_staff
):
    kiosk = make_staff(Role.KIOSK)
    with at(0):
        woman = services.check_in_with_cccd(
            principal=kiosk, facility_code=HOSPITAL, clinic_code="CLINIC-INTERNAL",
            qr=WOMAN_CARD, started_at=EIGHT - dt.timedelta(seconds=90),
        )  # fmt: skip
    with at(2):
        elder = services.check_in_with_cccd(
            principal=receptionist, facility_code=HOSPITAL, clinic_code="CLINIC-INTERNAL",
            qr=ELDER_CARD, channel=Channel.DESK,
        )  # fmt: skip
    with at(70):  # 09:10: a later hour
        man = services.check_in_with_cccd(
            principal=receptionist, facility_code=HOSPITAL, clinic_code="CLINIC-INTERNAL",
            qr=MAN_CARD, channel=Channel.DESK,
        )  # fmt: skip
    for done, called, ended in ((woman, 10, 16), (elder, 4, 12), (man, 80, 85)):
        point = done.entry.service_point
        assert point is not None
        QueueEntry.objects.filter(pk=done.entry.pk).update(service_point=point)
        with at(called):
            entry = services.call_next(principal=clinician, service_point_id=point.pk)
            assert entry.pk == done.entry.pk
        with at(ended):
            services.finish_visit(principal=clinician, entry_id=entry.pk)
    stats = queue_statistics(principal=receptionist, facility=hospital, first=DAY, last=DAY)
    assert stats.visits == 3
    assert stats.kiosk_flow.count == 1
    assert stats.kiosk_flow.median == 1.5
    assert stats.overall.served == 3
    assert stats.overall.waits.count == 3
    assert stats.overall.waits.median == 10.0  # waits 10, 2 and 10 minutes
    assert stats.overall.service.median == 6.0  # services 6, 8 and 5 minutes
    groups = {row.key: row for row in stats.by_group}
    assert groups["aged_75"].waits.median == 2.0
    assert groups[""].served == 2
    hours = {row.key: row.served for row in stats.by_hour}
    assert hours == {"08": 2, "09": 1}
    only_lab = queue_statistics(
        principal=receptionist, facility=hospital, first=DAY, last=DAY, department_code="LAB"
    )
    assert only_lab.overall.served == 0


def test_who_may_see_them_and_bad_periods(hospital, receptionist, clinician):
    with pytest.raises(PermissionDenied):
        queue_statistics(principal=clinician, facility=hospital, first=DAY, last=DAY)
    with pytest.raises(InvalidInput):
        queue_statistics(
            principal=receptionist, facility=hospital, first=DAY, last=DAY - dt.timedelta(days=1)
        )


def test_the_page(hospital, receptionist):
    page = Client()
    page.force_login(receptionist)
    shown = page.get("/reception/statistics/", {"facility": HOSPITAL, "first": "2026-11-26"})
    assert shown.status_code == 200
    html = shown.content.decode()
    assert 'id="stats-summary"' in html
    assert 'id="stats-hours"' in html
    bad = page.get("/reception/statistics/", {"facility": HOSPITAL, "first": "26/11/2026"})
    assert 'role="alert"' in bad.content.decode()
