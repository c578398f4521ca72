"""The simulator's own settings, called inside the process (no registry needed here)."""

from __future__ import annotations

import httpx
import pytest

from cityhealth.insurance.contract import CARD_PATH, TOKEN_PATH, password_hash
from cityhealth.insurance.simulator import VssSimulator
from cityhealth.insurance.tests.factories import FakeClock

FORM = {"username": "01001_BV", "password": password_hash("secret")}


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


def http(simulator: VssSimulator) -> httpx.Client:
    return httpx.Client(base_url="http://vss", transport=httpx.WSGITransport(app=simulator))


def token(client: httpx.Client) -> dict[str, str]:
    key = client.post(TOKEN_PATH, data=FORM).json()["APIKey"]
    return {
        "token": key["access_token"],
        "id_token": key["id_token"],
        "username": FORM["username"],
        "password": FORM["password"],
    }


def test_the_error_rate_fails_that_share_of_requests(fake_clock):
    simulator = VssSimulator(error_rate=0.3, seed=11, now=fake_clock)
    with http(simulator) as client:
        statuses = [client.post(TOKEN_PATH, data=FORM).status_code for _ in range(200)]
    assert set(statuses) == {200, 503}
    assert 40 <= statuses.count(503) <= 80
    assert simulator.requests["token"] == 200


def test_an_outage_fails_everything_until_it_ends(fake_clock):
    simulator = VssSimulator(outage=True, now=fake_clock)
    with http(simulator) as client:
        assert client.post(TOKEN_PATH, data=FORM).status_code == 503
        client.post("/_simulator", json={"outage": False, "latency_ms": 1})
        assert client.post(TOKEN_PATH, data=FORM).status_code == 200
        state = client.get("/_simulator").json()
    assert (state["outage"], state["latency_ms"]) == (False, 1)
    assert state["requests"] == {"token": 2}


def test_tokens_expire_on_the_simulators_clock(fake_clock):
    simulator = VssSimulator(token_seconds=60, now=fake_clock)
    with http(simulator) as client:
        params = token(client)
        malformed = client.post(CARD_PATH, params=params, json={"maThe": "x"}).json()
        assert malformed["maKetQua"] == "205"  # a live token, a malformed query
        fake_clock.advance(60)
        expired = client.post(CARD_PATH, params=params, json={"maThe": "x"})
        assert (expired.status_code, expired.json()["maKetQua"]) == (401, "401")
        stolen = {**params, "password": password_hash("other")}
        fake_clock.advance(-60)
        assert client.post(CARD_PATH, params=stolen, json={}).json()["maKetQua"] == "401"


def test_only_the_contracts_paths_are_served(fake_clock):
    with http(VssSimulator(now=fake_clock)) as client:
        assert client.get(TOKEN_PATH).status_code == 404
        assert client.post("/api/egw/KQNhanLichSuKCB595").status_code == 404
