"""Real concurrent transactions on the dispatch centre's write use cases.

Apart from `test_services`: a transactional test must not share a module with module-scoped
data (`hanoi_units` there), whose open transaction would hold its writes from the other
threads.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from cityhealth.core.errors import Conflict
from cityhealth.emergency import services
from cityhealth.emergency.enums import UnitStatus
from cityhealth.emergency.models import Incident
from cityhealth.emergency.tests.test_services import FAR, located_call, make_unit


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_sending_one_unit_at_the_same_moment():
    """Real concurrent transactions: one wins, the other is told the unit is taken."""
    with transaction.atomic():  # the services lock rows: they run inside a transaction
        first, second = located_call("pbx-1"), located_call("pbx-2", FAR)
        unit = make_unit()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def dispatch(incident: Incident) -> None:
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                services.assign_unit(incident=incident, unit=unit, actor=f"d{incident.pk}")
            outcomes.append("sent")
        except Conflict as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatch, args=(i,)) for i in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["sent", "unit.not_available"]
    unit.refresh_from_db()
    assert unit.status == UnitStatus.DISPATCHED
    assert unit.assignments.count() == 1
