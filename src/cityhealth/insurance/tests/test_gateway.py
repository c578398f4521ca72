"""The client against the simulator over real HTTP (a free port, a thread)."""

from __future__ import annotations

import datetime as dt

import pytest

from cityhealth.insurance.breaker import BreakerState, CircuitBreaker
from cityhealth.insurance.codes import meaning_of, result_codes
from cityhealth.insurance.contract import password_hash
from cityhealth.insurance.gateway import Account, GatewayUnavailable
from cityhealth.insurance.tests.expected import EXPECTED_STATUS
from cityhealth.insurance.tests.factories import (
    STAFF_ID,
    STAFF_NAME,
    give_card,
    make_facility,
    make_person,
    make_staff,
)
from cityhealth.insurance.types import CardQuery

pytestmark = pytest.mark.django_db(transaction=True)


def state(breaker: CircuitBreaker) -> BreakerState:
    return breaker.state  # read afresh: time may have moved it


ACCOUNT = Account.of_facility("01001", "facility-secret")


def ask(card: str, name: str = "NGUYỄN VĂN AN", birth: str = "05031994", **staff: str):
    return CardQuery(
        card=card,
        name=name,
        birth=birth,
        staff_name=staff.get("staff_name", STAFF_NAME.upper()),
        staff_citizen_id=staff.get("staff_citizen_id", STAFF_ID),
    )


@pytest.fixture
def registry():
    """A facility with one registered desk clerk and the persons of every case."""
    facility = make_facility("01001")
    make_staff(facility)
    an = make_person("Nguyễn Văn An", citizen_id="001094001234")
    card = give_card(an, number="0101234567")
    expired = give_card(make_person("Lê Thị Hoa"), valid_to=dt.date(2026, 5, 31))
    renewed_after = make_person("Phạm Văn Bình", born=dt.date(1960, 1, 2))
    old = give_card(renewed_after, valid_from=dt.date(2025, 1, 1), valid_to=dt.date(2025, 12, 31))
    new = give_card(renewed_after, group="HT", level=3, valid_from=dt.date(2026, 1, 1))
    renewed_before = make_person("Đỗ Thị Mai", born=dt.date(1970, 7, 8))
    early = give_card(renewed_before, valid_from=dt.date(2025, 7, 1))
    give_card(renewed_before, valid_from=dt.date(2026, 6, 1), valid_to=dt.date(2027, 5, 31))
    soldier = give_card(make_person("Hoàng Văn Quân"), group="QN", level=5)
    police = give_card(make_person("Vũ Văn Công"), group="CA", level=5)
    make_person("Ngô Bảo Ngọc", born=dt.date(2023, 2, 1), citizen_id="001323000777")
    return {
        "card": card.code,
        "number": card.social_insurance_number,
        "expired": expired.code,
        "old": old.code,
        "new": new.code,
        "early": early.code,
        "soldier": soldier.code,
        "police": police.code,
    }


def test_every_result_code_reaches_the_client_with_its_meaning(registry, simulator, make_client):
    client = make_client(retries=0, breaker_failures=100)
    card = registry["card"]
    cases = {
        "000": ask(card),
        "001": ask(registry["soldier"], "HOÀNG VĂN QUÂN"),
        "002": ask(registry["police"], "VŨ VĂN CÔNG"),
        "003": ask(registry["old"], "PHẠM VĂN BÌNH", "1960"),
        "004": ask(registry["early"], "ĐỖ THỊ MAI", "08/07/1970"),
        "010": ask(registry["expired"], "LÊ THỊ HOA"),
        "050": ask("001099999999"),
        "051": ask("HC" + card[2:]),
        "052": ask(card[:3] + "79" + card[5:]),
        "053": ask(card[:2] + "3" + card[3:]),
        "054": ask(card, staff_citizen_id="001188000001"),
        "055": ask(card, staff_name="TRẦN THỊ THẢO"),
        "060": ask(card, name="LÊ VĂN AN"),
        "061": ask(card, name="NGUYỄN VĂN ANH"),
        "070": ask(card, birth="06031994"),
        "130": ask("001323000777", "NGÔ BẢO NGỌC", "01022023"),
        "205": ask(card, birth="5-3-94"),
    }
    forced = ["080", "090", "110", "120", "121", "122", "123", "124"]
    seen: dict[str, str] = {}
    for code, query in cases.items():
        seen[code] = client.check_card(ACCOUNT, query).answer.code
    for code in forced:
        simulator.configure({"forced": {card: code}})
        seen[code] = client.check_card(ACCOUNT, ask(card)).answer.code
    for code in ("100", "101"):  # the gateway's own errors: no answer to give the visit
        simulator.configure({"forced": {card: code}})
        with pytest.raises(GatewayUnavailable) as failed:
            client.check_card(ACCOUNT, ask(card))
        seen[code] = failed.value.code
    simulator.accounts = {"01001_BV": password_hash("another-secret")}
    client.forget_tokens()
    with pytest.raises(GatewayUnavailable) as refused:
        client.check_card(ACCOUNT, ask(card))
    seen["401"] = refused.value.code

    assert seen == {code: code for code in seen}
    assert sorted(seen) == sorted(result_codes())  # a code added to the table needs a case
    assert {code: meaning_of(code).status for code in seen} == EXPECTED_STATUS


def test_answers_carry_the_card_and_the_new_card_when_reissued(registry, make_client):
    client = make_client()
    answer = client.check_card(ACCOUNT, ask(registry["number"])).answer
    assert (answer.code, answer.card_code, answer.benefit_level) == ("000", registry["card"], 4)
    assert (answer.valid_from, answer.valid_to) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert answer.primary_care_facility == "01001"
    renewed = client.check_card(ACCOUNT, ask(registry["old"], "PHẠM VĂN BÌNH", "1960")).answer
    assert renewed.code == "003"
    assert (renewed.card_code, renewed.old_card_code) == (registry["new"], registry["old"])
    assert renewed.benefit_level == 3
    by_id = client.check_card(ACCOUNT, ask("001094001234")).answer
    assert (by_id.code, by_id.card_code) == ("000", registry["card"])


def test_a_token_is_reused_until_it_expires_then_renewed(
    registry, simulator, make_client, fake_clock
):
    simulator.token_seconds = 600
    client = make_client()
    for _ in range(2):
        assert client.check_card(ACCOUNT, ask(registry["card"])).answer.code == "000"
    assert simulator.requests == {"token": 1, "card": 2}
    fake_clock.advance(600 - 29)  # inside the renewal margin
    reply = client.check_card(ACCOUNT, ask(registry["card"]))
    assert [a.endpoint for a in reply.attempts] == ["token", "card"]
    assert simulator.requests == {"token": 2, "card": 3}


def test_a_token_the_gateway_forgot_is_renewed_once_at_once(
    registry, simulator, make_client, sleeps
):
    client = make_client()
    client.check_card(ACCOUNT, ask(registry["card"]))
    simulator.expire_tokens()  # a gateway restart
    reply = client.check_card(ACCOUNT, ask(registry["card"]))
    assert reply.answer.code == "000"
    assert [(a.endpoint, a.result_code) for a in reply.attempts] == [
        ("card", "401"),
        ("token", "200"),
        ("card", "000"),
    ]
    assert sleeps == []


def test_gateway_errors_are_retried_with_growing_waits_then_answered(
    registry, simulator, make_client, sleeps
):
    simulator.configure({"fail_next": 2})
    reply = make_client(retries=2, backoff=0.5).check_card(ACCOUNT, ask(registry["card"]))
    assert reply.answer.code == "000"
    assert sleeps == [0.5, 1.0]
    assert [(a.endpoint, a.http_status, a.error) for a in reply.attempts] == [
        ("token", 200, ""),
        ("card", 503, "http_503"),
        ("card", 503, "http_503"),
        ("card", 200, ""),
    ]
    assert all("password" not in a.request for a in reply.attempts)


def test_a_slow_gateway_times_out(registry, simulator, make_client, sleeps):
    client = make_client(retries=1, timeout=0.2)
    client.check_card(ACCOUNT, ask(registry["card"]))  # the token, while it is quick
    simulator.configure({"latency_ms": 500})
    with pytest.raises(GatewayUnavailable) as failed:
        client.check_card(ACCOUNT, ask(registry["card"]))
    assert failed.value.reason == "timeout"
    assert [a.error for a in failed.value.attempts] == ["timeout", "timeout"]
    assert sleeps == [0.5]


def test_the_breaker_opens_after_n_failures_and_half_opens_after_its_cool_down(
    registry, simulator, make_client, fake_clock
):
    client = make_client(retries=0, breaker_failures=3, breaker_cooldown=30)
    simulator.configure({"outage": True})
    for _ in range(3):
        with pytest.raises(GatewayUnavailable, match="http_503"):
            client.check_card(ACCOUNT, ask(registry["card"]))
    assert state(client.breaker) is BreakerState.OPEN
    asked = sum(simulator.requests.values())
    with pytest.raises(GatewayUnavailable, match="breaker_open"):
        client.check_card(ACCOUNT, ask(registry["card"]))
    assert sum(simulator.requests.values()) == asked  # no call while open

    fake_clock.advance(30)
    assert state(client.breaker) is BreakerState.HALF_OPEN
    with pytest.raises(GatewayUnavailable, match="http_503"):  # the trial fails
        client.check_card(ACCOUNT, ask(registry["card"]))
    assert state(client.breaker) is BreakerState.OPEN
    assert sum(simulator.requests.values()) == asked + 1

    fake_clock.advance(30)
    simulator.configure({"outage": False})
    assert client.check_card(ACCOUNT, ask(registry["card"])).answer.code == "000"
    assert state(client.breaker) is BreakerState.CLOSED


def test_bad_credentials_are_refused_without_opening_the_breaker(registry, simulator, make_client):
    simulator.accounts = {"01001_BV": password_hash("facility-secret")}
    client = make_client(breaker_failures=1)
    with pytest.raises(GatewayUnavailable) as refused:
        client.check_card(Account.of_facility("01001", "wrong"), ask(registry["card"]))
    assert (refused.value.reason, refused.value.code) == ("refused", "401")
    assert state(client.breaker) is BreakerState.CLOSED
    assert client.check_card(ACCOUNT, ask(registry["card"])).answer.code == "000"
