"""The call-taker's form and the console in a real browser (Debian's Chromium, headless,
driven by Playwright) against the running application.

Skipped when Chromium is not installed, unless CITYHEALTH_REQUIRE_BROWSER=1 (as in CI, where
`make browser` installs it first): then a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
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
def page(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
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
