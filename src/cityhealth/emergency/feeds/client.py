"""An HTTP client for the dispatch API, for the systems that feed it.

Standard library only (`urllib.request`): a PBX adapter or a device gateway should not need
more than Python to run it.

Retries: connection errors and 5xx answers are retried with exponential backoff. That is
safe for every call here: a call report is idempotent by `call_id` (the server answers the
incident already open), a repeated status is a no-op, and a repeated position only adds a
duplicate point to the track (the unit's current position keeps the newest).
"""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

RETRYABLE_STATUS = frozenset({500, 502, 503, 504})


class FeedError(Exception):
    """The server refused the request (4xx), with the problem+json `code` it gave."""

    def __init__(self, *, status: int, code: str, detail: str) -> None:
        super().__init__(f"HTTP {status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail


class FeedUnavailable(FeedError):
    """The server could not be reached, or kept failing, after every retry."""


@dataclass(frozen=True)
class Position:
    latitude: float
    longitude: float
    at: dt.datetime
    speed_kmh: float | None = None
    heading: float | None = None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "latitude": round(self.latitude, 6),
            "longitude": round(self.longitude, 6),
            "at": self.at.isoformat(),
        }
        if self.speed_kmh is not None:
            body["speed_kmh"] = round(self.speed_kmh, 1)
        if self.heading is not None:
            body["heading"] = round(self.heading, 1)
        return body


@dataclass(frozen=True)
class ReportedCall:
    created: bool  # False: the server already had this call_id
    incident: dict[str, Any]


class DispatchClient:
    """`DispatchClient(base_url="https://cityhealth.example", token="chk_...")`."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            # urllib would also open file: and ftp: URLs; this client only speaks HTTP.
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep

    # -- the contract -----------------------------------------------------------------------

    def report_call(
        self, *, call_id: str, caller_number: str = "", received_at: dt.datetime | None = None
    ) -> ReportedCall:
        """A ringing call; the same `call_id` again answers the same incident."""
        body: dict[str, Any] = {"call_id": call_id, "caller_number": caller_number}
        if received_at is not None:
            body["received_at"] = received_at.isoformat()
        status, incident = self._exchange("POST", "/api/emergency/calls", body)
        return ReportedCall(created=status == 201, incident=incident)

    def report_handset_location(
        self,
        *,
        message_id: str,
        caller_number: str,
        latitude: float,
        longitude: float,
        accuracy_m: int,
        source: str = "sms",
    ) -> dict[str, Any]:
        """The position a caller's phone sent by itself; the same `message_id` is kept once."""
        body = {
            "message_id": message_id,
            "caller_number": caller_number,
            "latitude": latitude,
            "longitude": longitude,
            "accuracy_m": accuracy_m,
            "source": source,
        }
        answer: dict[str, Any] = self._send("POST", "/api/emergency/handset-locations", body)
        return answer

    def report_positions(self, *, code: str, positions: Sequence[Position]) -> dict[str, Any]:
        """Positions of unit `code`, in any order; answers what was stored and refused."""
        body = {"positions": [p.as_json() for p in positions]}
        answer: dict[str, Any] = self._send(
            "POST", f"/api/emergency/units/{_quote(code)}/positions", body
        )
        return answer

    def report_status(self, *, code: str, status: str) -> dict[str, Any]:
        answer: dict[str, Any] = self._send(
            "POST", f"/api/emergency/units/{_quote(code)}/status", {"status": status}
        )
        return answer

    def list_units(self) -> list[dict[str, Any]]:
        """Every active unit (needs the `dispatch` scope)."""
        answer: list[dict[str, Any]] = self._send("GET", "/api/emergency/units", None)
        return answer

    def list_incidents(self) -> list[dict[str, Any]]:
        """The open incidents (needs the `dispatch` scope)."""
        answer: list[dict[str, Any]] = self._send("GET", "/api/emergency/incidents", None)
        return answer

    # -- transport --------------------------------------------------------------------------

    def _send(self, method: str, path: str, body: object) -> Any:
        return self._exchange(method, path, body)[1]

    def _exchange(self, method: str, path: str, body: object) -> tuple[int, Any]:
        """(HTTP status, decoded JSON) of a successful answer; FeedError otherwise."""
        data = None if body is None else json.dumps(body).encode()
        attempt = 0
        while True:
            request = urllib.request.Request(  # noqa: S310 — scheme checked in __init__
                self.base_url + path,
                data=data,
                method=method,
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "Accept": "application/json",
                    "Content-Type": "application/json",
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    return response.status, json.loads(response.read() or b"null")
            except urllib.error.HTTPError as error:
                failure = _problem(error.code, error.read())
                if error.code not in RETRYABLE_STATUS:
                    raise failure from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                reason = getattr(error, "reason", error)
                failure = FeedUnavailable(status=0, code="connection", detail=str(reason))
            if attempt >= self.retries:
                if isinstance(failure, FeedUnavailable):
                    raise failure
                raise FeedUnavailable(
                    status=failure.status, code=failure.code, detail=failure.detail
                )
            # Exponential backoff: a restarting server gets room instead of a stampede.
            self._sleep(self.backoff * 2**attempt)
            attempt += 1


def _quote(code: str) -> str:
    return urllib.parse.quote(code, safe="")


def _problem(status: int, raw: bytes) -> FeedError:
    """The error the server described (RFC 9457), or a generic one for a non-JSON body."""
    try:
        document = json.loads(raw)
    except ValueError:
        document = None
    if isinstance(document, dict):
        code = str(document.get("code") or f"http.{status}")
        detail = document.get("detail") or document.get("title") or ""
        if isinstance(detail, dict):  # bilingual details: {"vi": ..., "en": ...}
            detail = detail.get("en") or detail.get("vi") or ""
        return FeedError(status=status, code=code, detail=str(detail))
    text = raw[:200].decode(errors="replace")
    return FeedError(status=status, code=f"http.{status}", detail=text)
