from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from cityhealth.core.loading import LoadReport
from cityhealth.facilities.services import load_facilities
from cityhealth.geo.services import load_administrative_units


@pytest.fixture(scope="module")
def hanoi_registry(django_db_setup: None, django_db_blocker: Any) -> Iterator[LoadReport]:
    """Hà Nội's wards and facility registry, loaded once per test module, rolled back after it.

    Each test still runs in its own savepoint inside this transaction.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        load_administrative_units()
        report = load_facilities()
        yield report
        transaction.set_rollback(True)
