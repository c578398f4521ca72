"""A simulator of the social-security (VSS) gateway: the same HTTP contract as the real one
(`/api/token/take`, `/api/egw/KQNhanLichSuKCB2024`), answering from the person registry.

A plain WSGI application. The demo calls it inside the process (through httpx's WSGI
transport); tests, the benchmark and other tools serve it on a port (`serve`, or
`cityhealth insurance vss-simulator`). Its behaviour is settable while it runs, in process or
by `POST /_simulator` with JSON: `latency_ms`, `error_rate` (0-1: that share of requests
answers HTTP 503), `outage` (every request answers 503), `fail_next` (the next N card checks
answer 503) and `forced` ({maThe: code}: answer that code for that card, for the codes the
registry cannot produce, such as a revoked card's 110). `GET /_simulator` shows the settings
and the request counts.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.db import connections

from cityhealth.core import clock
from cityhealth.insurance.simulator_registry import (
    Verdict,
    check_card,
    find_card,
    query_format_error,
    staff_verdict,
)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
TOKEN_SECONDS = 3600


@dataclass
class _Issued:
    username: str
    id_token: str
    password_md5: str
    expires_at: dt.datetime


class VssSimulator:
    """The simulated gateway and its settings. `accounts` maps a username to the MD5 of its
    password; without it any "<5 characters>_BV" account with any password is let in."""

    def __init__(
        self,
        *,
        latency_ms: int = 0,
        error_rate: float = 0.0,
        outage: bool = False,
        accounts: dict[str, str] | None = None,
        token_seconds: int = TOKEN_SECONDS,
        seed: int | None = None,
        now: Callable[[], dt.datetime] = clock.now,
    ) -> None:
        self.latency_ms = latency_ms
        self.error_rate = error_rate
        self.outage = outage
        self.fail_next = 0
        self.forced: dict[str, str] = {}
        self.accounts = accounts
        self.token_seconds = token_seconds
        self.requests: Counter[str] = Counter()
        self._now = now
        self._random = random.Random(seed)  # noqa: S311 — chance of a simulated failure
        self._tokens: dict[str, _Issued] = {}
        self._lock = threading.Lock()

    # --- settings ---------------------------------------------------------------------

    def configure(self, settings: dict[str, Any]) -> None:
        with self._lock:
            if "latency_ms" in settings:
                self.latency_ms = max(0, int(settings["latency_ms"]))
            if "error_rate" in settings:
                self.error_rate = min(1.0, max(0.0, float(settings["error_rate"])))
            if "outage" in settings:
                self.outage = bool(settings["outage"])
            if "fail_next" in settings:
                self.fail_next = max(0, int(settings["fail_next"]))
            if "forced" in settings:
                self.forced = {str(k).upper(): str(v) for k, v in dict(settings["forced"]).items()}

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "latency_ms": self.latency_ms,
                "error_rate": self.error_rate,
                "outage": self.outage,
                "fail_next": self.fail_next,
                "forced": dict(self.forced),
                "requests": dict(self.requests),
            }

    def expire_tokens(self) -> None:
        """Forget every token issued (as a gateway restart does)."""
        with self._lock:
            self._tokens.clear()

    # --- WSGI ---------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/_simulator":
            if method == "POST":
                self.configure(_json_body(environ) or {})
            return _reply(start_response, 200, self.snapshot())
        endpoint = {"/api/token/take": "token", "/api/egw/KQNhanLichSuKCB2024": "card"}.get(path)
        if endpoint is None or method != "POST":
            return _reply(start_response, 404, {"maKetQua": "404", "ghiChu": "Not found"})
        with self._lock:
            self.requests[endpoint] += 1
            failing = self._failing(endpoint)
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        if failing:
            return _reply(start_response, 503, None)
        if endpoint == "token":
            status, body = self._take_token(_form_body(environ))
        else:
            params = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
            status, body = self._check(params, _json_body(environ))
        return _reply(start_response, status, body)

    def _failing(self, endpoint: str) -> bool:
        if self.outage:
            return True
        if endpoint == "card" and self.fail_next > 0:
            self.fail_next -= 1
            return True
        return self.error_rate > 0 and self._random.random() < self.error_rate

    # --- the contract -------------------------------------------------------------------

    def _take_token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        username, password = form.get("username", ""), form.get("password", "")
        if not self._account_ok(username, password):
            return 401, {"maKetQua": "401", "ghiChu": "Sai tên đăng nhập hoặc mật khẩu"}
        access, id_token = secrets.token_hex(16), secrets.token_hex(16)
        expires_at = self._now() + dt.timedelta(seconds=self.token_seconds)
        with self._lock:
            self._tokens[access] = _Issued(username, id_token, password, expires_at)
        return 200, {
            "maKetQua": "200",
            "APIKey": {
                "access_token": access,
                "id_token": id_token,
                "token_type": "Bearer",
                "username": username,
                "expires_in": expires_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            },
        }

    def _account_ok(self, username: str, password: str) -> bool:
        if self.accounts is not None:
            known = self.accounts.get(username)
            return known is not None and secrets.compare_digest(known, password)
        return (
            len(username) == 8
            and username.endswith("_BV")
            and len(password) == 32
            and all(c in "0123456789ABCDEF" for c in password)
        )

    def _check(
        self, params: dict[str, str], body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            issued = self._tokens.get(params.get("token", ""))
        if (
            issued is None
            or issued.expires_at <= self._now()
            or issued.id_token != params.get("id_token")
            or issued.username != params.get("username")
            or issued.password_md5 != params.get("password")
        ):
            return 401, {"maKetQua": "401", "ghiChu": "Token không hợp lệ hoặc đã hết hạn"}
        if body is None or query_format_error(body) is not None:
            return 200, {"maKetQua": "205", "ghiChu": "Lỗi định dạng tham số"}
        query = {key: str(body[key]).strip() for key in body}
        staff = staff_verdict(issued.username, query["cccdCb"], query["hoTenCb"])
        if staff is not None:
            return 200, {"maKetQua": staff, "ghiChu": "Cán bộ tra cứu không hợp lệ"}
        today = self._now().astimezone(clock.local_zone()).date()
        forced = self.forced.get(query["maThe"].upper())
        if forced is not None:
            found = find_card(query["maThe"].upper(), today)
            verdict = Verdict(forced, found.person, found.card, found.card)
        else:
            verdict = check_card(query, today)
        return 200, _answer(verdict)


def _dmy(day: dt.date | None) -> str | None:
    return day.strftime("%d/%m/%Y") if day else None


def _answer(verdict: Verdict) -> dict[str, Any]:
    """The reply body, with the card holder's data when the card was found."""
    body: dict[str, Any] = {"maKetQua": verdict.code, "ghiChu": f"Mã kết quả {verdict.code}"}
    person, card = verdict.person, verdict.card
    if person is not None and card is not None:
        birth = person.birth_date.strftime("%d/%m/%Y") if person.birth_date else None
        body.update(
            maThe=card.code or card.social_insurance_number,
            hoTen=person.full_name.upper(),
            ngaySinh=birth or str(person.birth_year or ""),
            gioiTinh={"male": "Nam", "female": "Nữ"}.get(person.sex, ""),
            diaChi=person.address,
            maDKBD=card.primary_care_facility,
            cqBHXH="",
            gtTheTu=_dmy(card.valid_from),
            gtTheDen=_dmy(card.valid_to),
            maKV="",
            ngayDu5Nam=None,
            maSoBHXH=card.social_insurance_number,
        )
    new = verdict.new_card
    if verdict.code in {"003", "004"} and new is not None and card is not None:
        body.update(
            maTheCu=card.code or card.social_insurance_number,
            maTheMoi=new.code or new.social_insurance_number,
            gtTheTuMoi=_dmy(new.valid_from),
            gtTheDenMoi=_dmy(new.valid_to),
            maDKBDMoi=new.primary_care_facility,
            tenDKBDMoi="",
        )
    body.update(dsLichSuKCB2018=[], dsLichSuKT2018=[])
    return body


def _read(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return bytes(environ["wsgi.input"].read(length)) if length > 0 else b""


def _json_body(environ: dict[str, Any]) -> dict[str, Any] | None:
    try:
        body = json.loads(_read(environ) or b"null")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _form_body(environ: dict[str, Any]) -> dict[str, str]:
    text = _read(environ).decode("utf-8", errors="replace")
    return {key: values[-1] for key, values in parse_qs(text).items()}


def _reply(start_response: StartResponse, status: int, body: Any) -> list[bytes]:
    reasons = {200: "OK", 401: "Unauthorized", 404: "Not Found", 503: "Service Unavailable"}
    if body is None:
        start_response(f"{status} {reasons[status]}", [("Content-Type", "text/plain")])
        return [b"Service Unavailable"]
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    headers = [
        ("Content-Type", "application/json; charset=utf-8"),
        ("Content-Length", str(len(data))),
    ]
    start_response(f"{status} {reasons[status]}", headers)
    return [data]


# --- serving on a port ---------------------------------------------------------------------


class _Server(ThreadingMixIn, WSGIServer):
    # Closing waits for requests in flight: none touches the database after a stop.
    daemon_threads = False
    block_on_close = True

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            # Each request has its own thread, and with it its own database connection.
            connections.close_all()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


class ServedSimulator:
    """A simulator listening on a port in a background thread (port 0: a free one)."""

    def __init__(self, simulator: VssSimulator, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.simulator = simulator
        self._server = make_server(
            host, port, simulator, server_class=_Server, handler_class=_QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host = str(self._server.server_address[0])
        return f"http://{host}:{self._server.server_port}"

    def start(self) -> ServedSimulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the command's way)."""
        self._server.serve_forever()

    def close(self) -> None:
        self._server.server_close()

    def __enter__(self) -> ServedSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


_in_process: list[VssSimulator] = []


def in_process_simulator() -> VssSimulator:
    """The simulator the process calls when INSURANCE_VSS_URL is "simulator" (demo)."""
    if not _in_process:
        _in_process.append(VssSimulator())
    return _in_process[0]
