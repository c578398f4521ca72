"""The call-taker's form and the console in a real browser (Debian's Chromium, headless,
driven by Playwright) against the running application.

Skipped when Chromium is not installed, unless CITYHEALTH_REQUIRE_BROWSER=1 (as in CI, where
`make browser` installs it first): then a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from cityhealth.accounts.services import create_staff_user, grant_role
from cityhealth.core import clock
from cityhealth.core.roles import Role
from cityhealth.emergency.models import Incident, Unit

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "browser-walk-2026"

if CHROMIUM is None and os.environ.get("CITYHEALTH_REQUIRE_BROWSER") != "1":
    pytest.skip("Chromium is not installed (make browser)", allow_module_level=True)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture
def _one_request_at_a_time(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the in-memory SQLite of the tests, every thread of the live server shares one
    connection (and its transaction state): two requests in atomic blocks at once undo each
    other's savepoints ("no such savepoint"). Here a request builds its response, and the
    console's stream takes each snapshot, one at a time. (A database file, or PostgreSQL,
    gives each thread its own connection: nothing to do.)"""
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    from cityhealth.emergency import selectors

    if connection.vendor != "sqlite" or not connection.is_in_memory_db():  # type: ignore[attr-defined]
        return
    turn = threading.RLock()
    handle, snapshot = WSGIHandler.__call__, selectors.console_snapshot

    def handled(self: WSGIHandler, environ: Any, start_response: Any) -> Any:
        with turn:  # a stream's body is produced later, outside the turn
            return handle(self, environ, start_response)

    def taken() -> Any:
        with turn:
            return snapshot()

    monkeypatch.setattr(WSGIHandler, "__call__", handled)
    monkeypatch.setattr(selectors, "console_snapshot", taken)


@pytest.fixture
def page(
    live_server: Any, monkeypatch: pytest.MonkeyPatch, _one_request_at_a_time: None
) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still plain blocking calls, which Django would otherwise refuse there.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    assert CHROMIUM is not None, "Chromium is required (make browser)"
    user = create_staff_user(username="browser-dispatcher", password=PASSWORD)
    grant_role(user=user, role=Role.DISPATCHER)
    Unit.objects.create(
        code="115-00-A1",
        call_sign="A1",
        kind="als",
        operator="centre",
        status_since=clock.now(),
        latitude=21.0200,
        longitude=105.8556,
        position_at=clock.now(),
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        tab = browser.new_page()
        tab.set_default_timeout(10_000)
        tab.goto(f"{live_server.url}/accounts/login/?next=/emergency/")
        tab.fill("input[name=username]", "browser-dispatcher")
        tab.fill("input[name=password]", PASSWORD)
        tab.press("input[name=password]", "Enter")
        tab.wait_for_url("**/emergency/")
        yield tab
        browser.close()


def test_a_call_from_first_keystroke_to_a_unit_sent(page: Any, live_server: Any) -> None:
    page.fill("input[name=caller_number]", "0912345678")
    page.press("input[name=caller_number]", "Enter")
    page.wait_for_url("**/emergency/calls/*/")
    incident = Incident.objects.get()

    # Typed, then the browser reloads: nothing is lost.
    page.fill("input[name=address]", "Số 5 ngõ 12 Hàng Bông")
    page.fill("input[name=latitude]", "21.0290")
    page.fill("input[name=longitude]", "105.8470")
    page.wait_for_function("document.getElementById('save-state').textContent.includes(':')")
    page.reload()
    assert page.input_value("input[name=address]") == "Số 5 ngõ 12 Hàng Bông"
    assert page.input_value("input[name=latitude]") == "21.0290"

    page.click("#confirm-location")
    page.wait_for_function("document.getElementById('status').textContent === 'taking'")

    page.fill("input[name=complaint_search]", "ngung tho")
    page.click("#complaints button >> nth=0")
    # Answer each question with the keyboard ("2" is "no" on the yes/no questions).
    for _ in range(10):
        page.wait_for_function(
            "document.querySelector('#question p') || document.querySelector('#outcome p')"
        )
        if page.query_selector("#outcome p"):
            break
        page.focus("body")
        page.keyboard.press("2")
        page.wait_for_timeout(150)
    assert "P1" in page.inner_text("#outcome")
    page.click("#record-triage")
    page.wait_for_function("document.getElementById('status').textContent === 'pending'")

    page.click("#recommend")
    page.click("#recommendations button >> nth=0")
    page.wait_for_selector("#recommendations li.sent")
    incident.refresh_from_db()
    assert incident.status == "assigned"
    assert incident.priority == "P1"
    assert incident.answered_at is not None
    assert incident.assignments.get().unit.code == "115-00-A1"


def test_the_console_shows_a_new_call_within_seconds(page: Any, live_server: Any) -> None:
    from cityhealth.emergency import services

    page.wait_for_function("document.getElementById('live-state').textContent.includes('●')")
    services.receive_call(call_id="pbx-live", caller_number="", actor="pbx")
    number = Incident.objects.get().number
    page.wait_for_function(
        f"document.querySelector('#queue tbody').textContent.includes('{number}')",
        timeout=5_000,
    )
    assert page.locator("#map .leaflet-interactive").count() > 100  # the ward outlines


@pytest.fixture
def wards(db: None) -> None:
    """Hà Nội's wards, loaded before the browser opens (the live server shares the database
    and its console stream would otherwise poll it during the load)."""
    from cityhealth.geo.services import load_administrative_units

    load_administrative_units()


def test_the_caller_is_found_by_address_by_handset_and_by_a_click(
    wards: None, page: Any, live_server: Any
) -> None:
    page.fill("input[name=caller_number]", "0987654321")
    page.press("input[name=caller_number]", "Enter")
    page.wait_for_url("**/emergency/calls/*/")
    incident = Incident.objects.get()

    # An address typed as the caller says it, without diacritics: Enter takes the best place.
    page.fill("input[name=address]", "so 5 ngo 100 doi can")
    page.wait_for_selector("#places button")
    page.press("input[name=address]", "Enter")
    page.wait_for_function("document.querySelector('input[name=latitude]').value !== ''")
    assert page.input_value("select[name=ward]") == "00004"  # Phường Ba Đình
    assert page.is_visible("#place-hint")  # an alley: does a car reach the door?
    assert page.locator("#call-map .leaflet-marker-icon").count() == 1

    # The phone's own position arrives during the call (posted as the telephone system
    # does); Alt+H takes it.
    status = page.evaluate(
        """async () => (await fetch("/api/emergency/handset-locations", {
            method: "POST",
            headers: {"Content-Type": "application/json",
                      "X-CSRFToken": document.querySelector("[name=csrfmiddlewaretoken]").value},
            body: JSON.stringify({message_id: "aml-browser-1", caller_number: "+84 987 654 321",
                                  latitude: 21.0301, longitude: 105.8402, accuracy_m: 18}),
        })).status"""
    )
    assert status == 201
    page.wait_for_selector("#handset:not([hidden])", timeout=8_000)
    page.focus("body")
    page.keyboard.press("Alt+h")
    assert page.input_value("input[name=latitude]") == "21.030100"

    # A click on the map wins over both.
    box = page.locator("#call-map").bounding_box()
    page.locator("#call-map").click(position={"x": box["width"] / 2 + 60, "y": box["height"] / 2})
    page.wait_for_function("document.querySelector('input[name=location_method]').value === 'map'")
    page.click("#confirm-location")
    page.wait_for_function("document.getElementById('status').textContent === 'taking'")
    incident.refresh_from_db()
    assert incident.location_method == "map"
    assert incident.ward_id is not None
    assert incident.latitude != 21.0301
