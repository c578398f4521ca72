"""The kiosk and a hall's board in a real browser (Debian's Chromium, headless, driven by
Playwright) against the running application: a card scanned (typed by the scanner, then
Enter), the clinic touched, the ticket shown; the board picks the ticket up, then shows it
called, without a reload.

Skipped when Chromium is not installed, unless CITYHEALTH_REQUIRE_BROWSER=1 (as in CI)."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from cityhealth.accounts.services import create_staff_user, grant_role
from cityhealth.core.roles import Role
from cityhealth.reception import services
from cityhealth.reception.models import QueueEntry, Visit
from cityhealth.reception.tests.conftest import WOMAN_CARD, make_small_hospital

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "browser-kiosk-2026"

if CHROMIUM is None and os.environ.get("CITYHEALTH_REQUIRE_BROWSER") != "1":
    pytest.skip("Chromium is not installed (make browser)", allow_module_level=True)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture
def _one_request_at_a_time(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the tests' in-memory SQLite the live server's threads share one connection: a
    request and the board stream's reads take turns (as in the 115 console's browser test)."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    from cityhealth.reception import views

    if connection.vendor != "sqlite" or not connection.is_in_memory_db():  # type: ignore[attr-defined]
        return
    turn = threading.RLock()
    handle, chunk = WSGIHandler.__call__, views._board_chunk

    def handled(self: WSGIHandler, environ: Any, start_response: Any) -> Any:
        with turn:
            return handle(self, environ, start_response)

    def taken(*args: Any) -> Any:
        with turn:
            return chunk(*args)

    monkeypatch.setattr(WSGIHandler, "__call__", handled)
    monkeypatch.setattr(views, "_board_chunk", taken)


@pytest.fixture
def browser(
    live_server: Any, monkeypatch: pytest.MonkeyPatch, _one_request_at_a_time: None
) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    assert CHROMIUM is not None, "Chromium is required (make browser)"
    make_small_hospital()
    kiosk = create_staff_user(username="browser-kiosk", password=PASSWORD)
    grant_role(user=kiosk, role=Role.KIOSK)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def _signed_in(browser: Any, live_server: Any, next_url: str) -> Any:
    tab = browser.new_page()
    tab.set_default_timeout(10_000)
    tab.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    tab.fill("input[name=username]", "browser-kiosk")
    tab.fill("input[name=password]", PASSWORD)
    tab.press("input[name=password]", "Enter")
    tab.wait_for_url(f"**{next_url}")
    return tab


def test_scan_to_ticket_in_three_screens_and_the_board_follows(
    browser: Any, live_server: Any
) -> None:
    board = browser.new_page()
    board.set_default_timeout(10_000)
    board.goto(f"{live_server.url}/reception/board/BV-TEST/clinic/")
    assert board.locator("tr.empty").count() == 1

    kiosk = _signed_in(browser, live_server, "/reception/kiosk/BV-TEST/")
    screens = 1
    kiosk.wait_for_function("window.kioskReady === true")
    # A scanner types the QR's text into the focused field, then Enter.
    kiosk.keyboard.type(WOMAN_CARD)
    kiosk.keyboard.press("Enter")
    kiosk.wait_for_selector("#kiosk-name")
    screens += 1
    assert kiosk.text_content("#kiosk-name") == "Trần T. M. Anh"
    kiosk.click("button.clinic >> nth=0")
    kiosk.wait_for_selector("#ticket-number")
    screens += 1
    assert kiosk.text_content("#ticket-number") == "A001"
    assert screens <= 4
    visit = Visit.objects.get()
    assert visit.started_at is not None  # the flow time is measured from the first keystroke

    board.wait_for_selector("#board td.number:has-text('A001')")
    entry = QueueEntry.objects.get()
    from cityhealth.accounts.models import User

    doctor = User.objects.get(username="browser-kiosk")
    grant_role(user=doctor, role=Role.CLINICIAN)
    assert entry.service_point_id is not None
    services.call_next(principal=doctor, service_point_id=entry.service_point_id)
    board.wait_for_selector("#board tr.called td.number:has-text('A001')")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and board.locator("tr.called").count() != 1:
        time.sleep(0.1)
    assert board.locator("tr.called").count() == 1
