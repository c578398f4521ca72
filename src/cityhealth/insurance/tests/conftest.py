"""A simulated gateway served on a free port in a thread, and clients of it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from cityhealth.insurance.gateway import GatewayConfig, VssClient, reset_default_clients
from cityhealth.insurance.simulator import ServedSimulator, VssSimulator
from cityhealth.insurance.tests.factories import FakeClock


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def served(fake_clock: FakeClock) -> Iterator[ServedSimulator]:
    with ServedSimulator(VssSimulator(now=fake_clock, seed=7)) as running:
        yield running


@pytest.fixture
def simulator(served: ServedSimulator) -> VssSimulator:
    return served.simulator


@pytest.fixture
def sleeps() -> list[float]:
    """The waits a client asked for between retries (it does not really sleep)."""
    return []


@pytest.fixture
def make_client(
    served: ServedSimulator, fake_clock: FakeClock, sleeps: list[float]
) -> Iterator[Callable[..., VssClient]]:
    made: list[VssClient] = []

    def make(**config: float) -> VssClient:
        settings = {"timeout": 2.0, "retries": 2, "backoff": 0.5, "breaker_failures": 3}
        settings.update(config)
        client = VssClient(
            served.url,
            config=GatewayConfig(**settings),  # type: ignore[arg-type]
            now=fake_clock,
            sleep=sleeps.append,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture(autouse=True)
def _fresh_default_clients() -> Iterator[None]:
    """Each test builds the process's client from its own settings (tokens, breaker)."""
    reset_default_clients()
    yield
    reset_default_clients()
