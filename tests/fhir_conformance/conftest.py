"""A live server on the test database and `fhirpy`'s synchronous client, authorised the way
a hospital system is: OAuth2 client credentials at `POST /oauth/token`.

One server and one database state for the whole suite: its tests write through HTTP (each
with its own person and identifiers, so they never see each other's resources), and the
database is emptied once at the end. pytest-django's `live_server` would empty it after
every test, which costs seconds per test on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.test.utils import setup_databases, teardown_databases
from fhirpy import SyncFHIRClient
from pytest_django.live_server_helper import LiveServer

from cityhealth.accounts.services import create_api_client
from cityhealth.core.audit import GENESIS_HASH
from cityhealth.core.models import AuditHead
from cityhealth.facilities.models import Facility
from cityhealth.people.models import Person


@pytest.fixture(scope="package")
def server(test_database: None, django_db_blocker: Any) -> Iterator[str]:
    """The server's root URL; the test database is open to the suite until it ends."""
    with django_db_blocker.unblock():
        live = LiveServer("localhost")
        live._live_server_modified_settings.enable()
        try:
            yield live.url
        finally:
            live._live_server_modified_settings.disable()
            live.stop()
            for alias in connections:
                call_command("flush", verbosity=0, interactive=False, database=alias)
            # The audit chain's head row comes from a data migration (see cityhealth.testing).
            AuditHead.objects.get_or_create(pk=1, defaults={"seq": 0, "entry_hash": GENESIS_HASH})


@pytest.fixture(scope="package")
def test_database(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """pytest-django creates the test database only if some collected test is marked for the
    database; when none is (this suite's tests alone, or an xdist worker given only them),
    create it here."""
    test_name = connection.creation._get_test_db_name()  # type: ignore[attr-defined]
    if connection.settings_dict["NAME"] == test_name:
        yield
        return
    with django_db_blocker.unblock():
        # (Django takes any collection of aliases; its stubs say a mapping)
        made = setup_databases(
            verbosity=0,
            interactive=False,
            aliases={DEFAULT_DB_ALIAS},  # type: ignore[arg-type]
        )
    yield
    with django_db_blocker.unblock():
        teardown_databases(made, verbosity=0)


@pytest.fixture(scope="package")
def base_url(server: str) -> str:
    return f"{server}/fhir/R4"


@pytest.fixture(scope="package")
def token(server: str) -> str:
    # A public hospital's system: treatment records are shared with it by default (consent).
    hospital = Facility.objects.create(
        code="BV-CONFORMANCE", name="Bệnh viện thử nghiệm", kind="general_hospital"
    )
    credentials = create_api_client(
        name="his-conformance", scopes=["system/*.cruds"], facility=hospital
    )
    answer = requests.post(
        f"{server}/oauth/token",
        data={"grant_type": "client_credentials", "scope": "system/*.cruds"},
        auth=(credentials.client_id, credentials.secret),
        timeout=120,  # the server's first request imports the whole platform
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "Bearer"
    return str(answer.json()["access_token"])


@pytest.fixture
def connect(base_url: str, token: str) -> Callable[..., SyncFHIRClient]:
    """connect(**headers) → a client sending these headers with every request."""

    def client(**headers: str) -> SyncFHIRClient:
        return SyncFHIRClient(base_url, authorization=f"Bearer {token}", extra_headers=headers)

    return client


@pytest.fixture
def fhir(connect: Callable[..., SyncFHIRClient]) -> SyncFHIRClient:
    return connect()


@pytest.fixture
def patient(server: str) -> str:
    """A reference to a new person of the registry (Patients are the registry's persons)."""
    return f"Patient/{Person.objects.create(full_name='Nguyễn Thị Lan').pk}"
