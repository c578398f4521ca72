from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from cityhealth.core.loading import LoadReport
from cityhealth.geo.services import load_administrative_units


@pytest.fixture(scope="module")
def hanoi_units(django_db_setup: None, django_db_blocker: Any) -> Iterator[LoadReport]:
    """Provinces and Hà Nội's wards, loaded once per test module and rolled back after it.

    Each test still runs in its own savepoint inside this transaction.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        report = load_administrative_units()
        yield report
        transaction.set_rollback(True)
