"""Fixtures shared by every test (registered as a pytest plugin by the root conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.db import transaction
from django.test import Client, override_settings

from cityhealth.accounts.models import User
from cityhealth.accounts.services import create_staff_user, grant_role
from cityhealth.core.loading import LoadReport
from cityhealth.core.roles import Role
from cityhealth.facilities.services import load_facilities
from cityhealth.geo.services import load_administrative_units

TEST_PASSWORD = "correct-horse-battery-9"  # noqa: S105 — test accounts only


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`@pytest.mark.postgres_only` tests are skipped on SQLite (real concurrent writers, say:
    the embedded database serialises them by design)."""
    from django.conf import settings

    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _matcher_without_trained_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests see the matcher's shipped prior, not weights a local `train_matcher` left in
    var/ (tests that train point the setting at their own file)."""
    absent = tmp_path_factory.mktemp("matcher") / "matcher.json"
    with override_settings(CITYHEALTH_MATCHER_PATH=absent):
        yield


class QuickArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 at its lowest cost, for the suite only. The product's cost (100 MiB, 2 passes)
    takes 0.15–0.5 s a hash, and the suite signs in hundreds of staff users; the algorithm and
    the stored form stay the product's (`accounts` tests check the product's own hasher)."""

    time_cost = 1
    memory_cost = 8  # KiB: argon2's floor for one lane
    parallelism = 1


@pytest.fixture(scope="session", autouse=True)
def _quick_password_hashing() -> Iterator[None]:
    quick = f"{__name__}.{QuickArgon2PasswordHasher.__qualname__}"
    others = [h for h in settings.PASSWORD_HASHERS if not h.endswith(".Argon2PasswordHasher")]
    with override_settings(PASSWORD_HASHERS=[quick, *others]):
        yield


def _is_transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


def _restore_audit_head() -> None:
    from cityhealth.core.audit import GENESIS_HASH
    from cityhealth.core.models import AuditHead

    AuditHead.objects.get_or_create(pk=1, defaults={"seq": 0, "entry_hash": GENESIS_HASH})


_db_blocker: list[Any] = []


@pytest.fixture(scope="session", autouse=True)
def _remember_db_blocker(django_db_blocker: Any) -> None:
    _db_blocker[:] = [django_db_blocker]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """A transactional test's flush (in its teardown) empties every table, the audit chain's
    head row (made by a data migration) included: it is put back at once, so the test that
    comes next on this worker (any kind: with `--dist loadfile` a module's transactional tests
    are not the worker's last) finds the database as migrations left it."""
    try:
        return (yield)
    finally:
        # (After the worker's last test the test database is already gone: nothing to do.)
        if nextitem is not None and _is_transactional(item) and _db_blocker:
            with _db_blocker[0].unblock():
                _restore_audit_head()


@pytest.fixture(autouse=True)
def _audit_chain_head(request: pytest.FixtureRequest) -> None:
    """A transactional test starts with the audit chain's head row, and outside any module's
    transaction."""
    if not _is_transactional(request.node):
        return
    request.getfixturevalue("transactional_db")
    from django.db import connection

    # A module-scoped fixture's transaction (`hanoi_units`, say) still open around this test
    # would hide its commits from other threads and processes: keep such tests in a module
    # without module-scoped data (with `--dist loadfile` a module's tests run in a row).
    assert not connection.in_atomic_block, (
        f"{request.node.nodeid} needs real commits but runs inside a module's transaction"
    )
    _restore_audit_head()


@pytest.fixture(autouse=True)
def _fresh_process_caches() -> None:
    """Caches a process keeps of slow-changing data (reception's copy of the hospitals'
    layout, a queue's service time) are emptied before each test: a test's rollback or flush
    changes the database under them without the signals production changes send."""
    from cityhealth.core import caches

    caches.forget_all()


@pytest.fixture
def make_staff(db: None) -> Callable[..., User]:
    """make_staff(Role.CASHIER) → a saved user holding that role city-wide."""
    counter = {"n": 0}

    def make(*roles: Role, username: str | None = None) -> User:
        counter["n"] += 1
        user = create_staff_user(
            username=username or f"staff{counter['n']}", password=TEST_PASSWORD
        )
        for role in roles:
            grant_role(user=user, role=role)
        return user

    return make


@pytest.fixture
def client_as(make_staff: Callable[..., User]) -> Callable[..., Client]:
    """client_as(Role.ADMIN) → a test client signed in as a new user with that role."""

    def signed_in(*roles: Role) -> Client:
        client = Client()
        client.force_login(make_staff(*roles))
        return client

    return signed_in


@pytest.fixture(scope="module")
def hanoi_units(django_db_setup: None, django_db_blocker: Any) -> Iterator[LoadReport]:
    """Provinces and Hà Nội's wards, loaded once per test module and rolled back after it.

    Each test still runs in its own savepoint inside this transaction.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        report = load_administrative_units()
        yield report
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def hanoi_registry(django_db_setup: None, django_db_blocker: Any) -> Iterator[LoadReport]:
    """Hà Nội's wards and facility registry, loaded once per test module, rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        load_administrative_units()
        report = load_facilities()
        yield report
        transaction.set_rollback(True)
