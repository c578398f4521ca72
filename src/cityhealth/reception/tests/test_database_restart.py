"""The database restarting in the middle of a check-in (its connection ended by the server,
as a restart or a failover does): the hospital's system is told to send the check-in again,
nothing half-done is left (no visit, no insurance check, no ticket number used up), and the
check-in sent again goes through on a new connection. Real commits: PostgreSQL only."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client

from cityhealth.core.roles import Role
from cityhealth.insurance.models import EligibilityCheck
from cityhealth.reception.models import QueueEntry, Visit
from cityhealth.reception.services.queues import choose_room
from cityhealth.reception.tests.conftest import WOMAN_CARD, make_small_hospital

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]
CHOOSE_ROOM = "cityhealth.reception.services.check_in.choose_room"  # as check-in calls it
BODY = {"facility": "BV-TEST", "clinic": "CLINIC-INTERNAL", "qr": WOMAN_CARD}


def test_a_check_in_cut_off_by_a_database_restart_is_sent_again_and_goes_through(
    client_as, monkeypatch
):
    make_small_hospital()
    desk: Client = client_as(Role.RECEPTIONIST)
    backends: list[int] = []

    def server_restarts(*args: Any, **kwargs: Any) -> Any:
        # After the person was found and the card checked, before the visit is written.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backends.append(cursor.fetchone()[0])
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return choose_room(*args, **kwargs)

    monkeypatch.setattr(CHOOSE_ROOM, server_restarts)
    cut = desk.post("/api/reception/check-ins", BODY, content_type="application/json")
    assert cut.status_code == 503, cut.content
    assert cut.json()["code"] == "database_unavailable"
    assert cut["Retry-After"] == "2"
    assert "gửi lại" in cut.json()["detail"]

    assert not Visit.objects.exists()  # a new connection: the cut request left nothing
    assert not QueueEntry.objects.exists()
    assert not EligibilityCheck.objects.exists()

    monkeypatch.setattr(CHOOSE_ROOM, choose_room)
    again = desk.post("/api/reception/check-ins", BODY, content_type="application/json")
    assert again.status_code == 201, again.content
    assert again.json()["ticket"]["number"] == "A001"  # the cut one used no number up
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != backends[0]
    assert Visit.objects.count() == 1
    assert EligibilityCheck.objects.count() == 1
