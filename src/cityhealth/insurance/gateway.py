"""The client of the social-security (VSS) gateway: a facility account's token, then the
card check `KQNhanLichSuKCB2024`, with timeouts, retries with backoff and a circuit breaker.

The client knows HTTP and the contract, not the database: it returns what the gateway said
and the list of requests it made (the services write them to the lookup log). A failure to
get an answer raises `GatewayUnavailable`; every answer, whatever its code, is returned.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from cityhealth.core import clock
from cityhealth.insurance.breaker import CircuitBreaker
from cityhealth.insurance.codes import meaning_of
from cityhealth.insurance.contract import (
    CARD_PATH,
    TOKEN_PATH,
    parse_answer,
    password_hash,
)
from cityhealth.insurance.types import Attempt, CardAnswer, CardQuery

# httpx logs every request's URL at INFO, and the contract puts the token and the password
# hash in the card check's query string: neither may reach a log.
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)

# A token this close to its expiry is renewed before use rather than refused mid-check.
TOKEN_MARGIN = dt.timedelta(seconds=30)


@dataclass(frozen=True)
class Account:
    """A facility's gateway account: username "<insurance code>_BV"."""

    username: str
    password_md5: str = field(repr=False)

    @classmethod
    def of_facility(cls, insurance_code: str, password: str) -> Account:
        return cls(username=f"{insurance_code}_BV", password_md5=password_hash(password))


@dataclass(frozen=True)
class GatewayConfig:
    connect_timeout: float = 3.0
    timeout: float = 8.0
    retries: int = 2
    backoff: float = 0.5  # first wait before a retry, doubled each time
    backoff_max: float = 8.0
    breaker_failures: int = 5
    breaker_cooldown: float = 30.0


class GatewayUnavailable(Exception):
    """No answer: timeouts, refused connections, server errors, an open circuit, bad
    credentials. The check goes pending; `attempts` are the requests that were made."""

    def __init__(self, reason: str, attempts: list[Attempt], *, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code  # the gateway's maKetQua when it answered one (401, 100, 101)
        self.attempts = attempts


@dataclass(frozen=True)
class CardReply:
    answer: CardAnswer
    attempts: list[Attempt]


@dataclass
class _Token:
    access_token: str
    id_token: str
    expires_at: dt.datetime


class _Failed(Exception):
    """One request that counts against the gateway's health (retry, breaker)."""

    def __init__(self, reason: str, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class _Refused(Exception):
    """The gateway answered but will not serve this account (bad credentials)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class VssClient:
    """One gateway, shared by every facility account of the process (thread-safe)."""

    def __init__(
        self,
        base_url: str,
        *,
        config: GatewayConfig | None = None,
        transport: httpx.BaseTransport | None = None,
        now: Callable[[], dt.datetime] = clock.now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config or GatewayConfig()
        self._now = now
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=base_url,
            transport=transport,
            timeout=httpx.Timeout(self.config.timeout, connect=self.config.connect_timeout),
        )
        self.breaker = CircuitBreaker(
            failures=self.config.breaker_failures,
            cooldown=self.config.breaker_cooldown,
            now=now,
        )
        self._tokens: dict[str, _Token] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    def forget_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    # --- the card check ----------------------------------------------------------------

    def check_card(self, account: Account, query: CardQuery) -> CardReply:
        """The gateway's answer about a card; `GatewayUnavailable` when none came."""
        attempts: list[Attempt] = []
        renewed = False
        tries = 0
        reason, code = "", ""
        while tries <= self.config.retries:
            if tries:
                self._sleep(min(self.config.backoff * 2 ** (tries - 1), self.config.backoff_max))
            tries += 1
            if not self.breaker.allow():
                attempts.append(self._skipped(account, query))
                raise GatewayUnavailable("breaker_open", attempts)
            try:
                token = self._token(account, attempts)
                body = self._post_card(account, token, query, attempts)
            except _Failed as failure:
                self.breaker.record_failure()
                reason, code = failure.reason, failure.code
                continue
            except _Refused as refusal:
                self.breaker.record_success()  # it answered: it is up
                raise GatewayUnavailable("refused", attempts, code=refusal.code) from None
            self.breaker.record_success()
            answered = str(body.get("maKetQua", ""))
            if answered == "401" and not renewed:
                # Our token may have died early (a gateway restart): one fresh token, at once.
                renewed, tries = True, tries - 1
                self._drop_token(account)
                continue
            if answered == "401":
                raise GatewayUnavailable("refused", attempts, code=answered)
            return CardReply(answer=parse_answer(body), attempts=attempts)
        raise GatewayUnavailable(reason, attempts, code=code)

    def _post_card(
        self, account: Account, token: _Token, query: CardQuery, attempts: list[Attempt]
    ) -> dict[str, Any]:
        params = {
            "token": token.access_token,
            "id_token": token.id_token,
            "username": account.username,
            "password": account.password_md5,
        }
        body = self._request(
            "card", account, attempts, CARD_PATH, params=params, json=query.as_body()
        )
        answered = str(body.get("maKetQua", ""))
        if meaning_of(answered).transient:
            raise _Failed(f"code_{answered}", answered)
        return body

    # --- tokens --------------------------------------------------------------------------

    def _token(self, account: Account, attempts: list[Attempt]) -> _Token:
        with self._lock:
            cached = self._tokens.get(account.username)
        if cached is not None and cached.expires_at - TOKEN_MARGIN > self._now():
            return cached
        body = self._request(
            "token",
            account,
            attempts,
            TOKEN_PATH,
            data={"username": account.username, "password": account.password_md5},
        )
        answered = str(body.get("maKetQua", ""))
        key = body.get("APIKey")
        if answered != "200" or not isinstance(key, dict):
            raise _Refused(answered or "401")
        token = _Token(
            access_token=str(key.get("access_token", "")),
            id_token=str(key.get("id_token", "")),
            expires_at=self._expiry(key.get("expires_in")),
        )
        with self._lock:
            self._tokens[account.username] = token
        return token

    def _drop_token(self, account: Account) -> None:
        with self._lock:
            self._tokens.pop(account.username, None)

    def _expiry(self, value: object) -> dt.datetime:
        """`expires_in` is an instant in UTC; a bare number is taken as seconds from now."""
        text = str(value or "").strip()
        if text.replace(".", "", 1).isdigit():
            return self._now() + dt.timedelta(seconds=float(text))
        try:
            instant = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return self._now()  # unreadable: use the token once, take a new one next time
        return instant if instant.tzinfo else instant.replace(tzinfo=dt.UTC)

    # --- one request ---------------------------------------------------------------------

    def _request(
        self,
        endpoint: str,
        account: Account,
        attempts: list[Attempt],
        path: str,
        **kwargs: Any,
    ) -> dict[str, Any]:
        started_at, started = self._now(), time.perf_counter()
        sent = dict(kwargs.get("json") or {"username": account.username})
        status: int | None = None
        error, code = "", ""
        try:
            response = self._http.post(path, **kwargs)
            status = response.status_code
            if status >= 500:
                error = f"http_{status}"
                raise _Failed(error)
            body = _json_object(response)
            if body is None:
                error = f"http_{status}" if status >= 400 else "bad_response"
                if status == 401:
                    raise _Refused("401")
                raise _Failed(error)
            code = str(body.get("maKetQua", ""))
            return body
        except httpx.TimeoutException:
            error = "timeout"
            raise _Failed(error) from None
        except httpx.TransportError:
            error = "connect"
            raise _Failed(error) from None
        except httpx.HTTPError:  # an answer httpx could not read (bad encoding, say)
            error = "bad_response"
            raise _Failed(error) from None
        finally:
            attempts.append(
                Attempt(
                    endpoint=endpoint,
                    username=account.username,
                    started_at=started_at,
                    duration_ms=round((time.perf_counter() - started) * 1000),
                    http_status=status,
                    result_code=code,
                    error=error,
                    request=sent,
                )
            )

    def _skipped(self, account: Account, query: CardQuery) -> Attempt:
        return Attempt(
            endpoint="card",
            username=account.username,
            started_at=self._now(),
            duration_ms=0,
            http_status=None,
            result_code="",
            error="breaker_open",
            request=query.as_body(),
        )


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


# --- the process's client, from settings ---------------------------------------------------

_clients: dict[tuple[str, GatewayConfig], VssClient] = {}
_clients_lock = threading.Lock()
IN_PROCESS = "simulator"


def config_from_settings() -> GatewayConfig:
    from django.conf import settings

    return GatewayConfig(
        connect_timeout=settings.INSURANCE_VSS_CONNECT_TIMEOUT_SECONDS,
        timeout=settings.INSURANCE_VSS_TIMEOUT_SECONDS,
        retries=settings.INSURANCE_VSS_RETRIES,
        backoff=settings.INSURANCE_VSS_BACKOFF_SECONDS,
        breaker_failures=settings.INSURANCE_VSS_BREAKER_FAILURES,
        breaker_cooldown=settings.INSURANCE_VSS_BREAKER_COOLDOWN_SECONDS,
    )


def default_client() -> VssClient | None:
    """The client of the configured gateway, one per process (its tokens and its circuit
    breaker are shared by every request); None when no gateway is configured."""
    from django.conf import settings

    url = settings.INSURANCE_VSS_URL.strip()
    if not url:
        return None
    key = (url, config_from_settings())
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            if url == IN_PROCESS:
                from cityhealth.insurance.simulator import in_process_simulator

                transport = httpx.WSGITransport(app=in_process_simulator())
                client = VssClient("http://vss-simulator", config=key[1], transport=transport)
            else:
                client = VssClient(url, config=key[1])
            _clients[key] = client
        return client


def reset_default_clients() -> None:
    """Close the process's clients (their tokens and breakers go with them)."""
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


def account_for(insurance_code: str) -> Account:
    """A facility's account, with its own password if one is set, else the common one."""
    from django.conf import settings

    password = settings.INSURANCE_VSS_PASSWORDS.get(insurance_code, settings.INSURANCE_VSS_PASSWORD)
    return Account.of_facility(insurance_code, password)
