"""The pages: the kiosk's three screens, the resident's ticket, the board and its stream, a
room's calling screen and the desk, through Django's test client."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from cityhealth.accounts.models import User
from cityhealth.core.roles import Role
from cityhealth.reception.models import QueueEntry, Visit
from cityhealth.reception.tests.conftest import CHILD_CARD, HOSPITAL, MAN, WOMAN_CARD

pytestmark = pytest.mark.django_db


@pytest.fixture
def kiosk(make_staff: Any) -> Client:
    client = Client()
    client.force_login(make_staff(Role.KIOSK))
    return client


def _scan(kiosk: Client, text: str) -> Any:
    return kiosk.post(f"/reception/kiosk/{HOSPITAL}/identify/", {"scan": text, "started": ""})


def _pass(page: Any) -> str:
    html: str = page.content.decode()
    start = html.index('name="pass" value="') + len('name="pass" value="')
    return html[start : html.index('"', start)]


def test_the_kiosk_in_three_screens(hospital, kiosk):
    first = kiosk.get(f"/reception/kiosk/{HOSPITAL}/")
    assert b'id="scan"' in first.content
    confirm = _scan(kiosk, WOMAN_CARD)
    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert "Trần T. M. Anh" in html  # masked
    assert "Trần Thị Minh Anh" not in html
    assert "1995" in html
    assert 'id="kiosk-insurance"' in html
    assert "CLINIC-PAEDIATRICS" not in html  # an adult: not offered paediatrics
    done = kiosk.post(
        f"/reception/kiosk/{HOSPITAL}/check-in/",
        {"pass": _pass(confirm), "clinic": "CLINIC-INTERNAL"},
    )
    visit = Visit.objects.get()
    assert done.status_code == 302
    assert done["Location"] == f"/reception/kiosk/{HOSPITAL}/ticket/{visit.token}/"
    ticket = kiosk.get(done["Location"])
    assert b"A001" in ticket.content
    assert b"<svg" in ticket.content  # the QR to the live ticket
    # A double tap on the clinic: the same ticket, no second visit.
    again = kiosk.post(
        f"/reception/kiosk/{HOSPITAL}/check-in/",
        {"pass": _pass(confirm), "clinic": "CLINIC-INTERNAL"},
    )
    assert again["Location"] == done["Location"]
    # Scanning again later goes straight to the ticket.
    rescanned = _scan(kiosk, WOMAN_CARD)
    assert rescanned["Location"] == done["Location"]
    assert Visit.objects.count() == 1


def test_the_kiosk_offers_a_child_paediatrics(hospital, kiosk):
    confirm = _scan(kiosk, CHILD_CARD)
    html = confirm.content.decode()
    assert "CLINIC-PAEDIATRICS" in html
    assert "CLINIC-INTERNAL" not in html


def test_the_kiosk_says_what_went_wrong_in_the_residents_language(hospital, kiosk):
    garbage = _scan(kiosk, "abc|def")
    assert garbage.status_code == 200
    assert 'id="kiosk-error"' in garbage.content.decode()
    unknown = _scan(kiosk, MAN)
    assert "quầy đón tiếp" in unknown.content.decode()
    kiosk.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = _scan(kiosk, MAN)
    assert "reception desk" in english.content.decode()
    # The next resident is greeted in Vietnamese again.
    fresh = kiosk.get(f"/reception/kiosk/{HOSPITAL}/?new=1")
    assert fresh.cookies[settings.LANGUAGE_COOKIE_NAME].value == ""
    forged = kiosk.post(
        f"/reception/kiosk/{HOSPITAL}/check-in/", {"pass": "forged", "clinic": "CLINIC-INTERNAL"}
    )
    assert 'id="kiosk-error"' in forged.content.decode()
    assert not Visit.objects.exists()


def test_the_live_ticket_needs_no_sign_in_and_shows_no_name(hospital, kiosk):
    confirm = _scan(kiosk, WOMAN_CARD)
    kiosk.post(
        f"/reception/kiosk/{HOSPITAL}/check-in/",
        {"pass": _pass(confirm), "clinic": "CLINIC-INTERNAL"},
    )
    visit = Visit.objects.get()
    page = Client().get(f"/reception/ticket/{visit.token}/")
    assert page.status_code == 200
    assert b"A001" in page.content
    assert "Minh Anh" not in page.content.decode()
    data = Client().get(f"/reception/ticket/{visit.token}/?format=json").json()
    assert data["ticket"] == "A001"
    assert data["state"] == "waiting"
    assert Client().get("/reception/ticket/nope/").status_code == 404


def test_the_board_and_its_stream(hospital, kiosk, make_staff):
    confirm = _scan(kiosk, WOMAN_CARD)
    kiosk.post(
        f"/reception/kiosk/{HOSPITAL}/check-in/",
        {"pass": _pass(confirm), "clinic": "CLINIC-INTERNAL"},
    )
    board = Client().get(f"/reception/board/{HOSPITAL}/clinic/")
    assert board.status_code == 200
    assert "Trần T. M. Anh" in board.content.decode()
    stream = Client().get(f"/reception/board/{HOSPITAL}/clinic/events/?once=1")
    body = b"".join(stream.streaming_content).decode()  # type: ignore[attr-defined]
    assert body.startswith("event: board\ndata: ")
    assert '"ticket": "A001"' in body
    assert Client().get(f"/reception/board/{HOSPITAL}/nowhere/").status_code == 404


def test_a_room_calls_sends_on_and_ends(hospital, kiosk, make_staff):
    confirm = _scan(kiosk, WOMAN_CARD)
    kiosk.post(
        f"/reception/kiosk/{HOSPITAL}/check-in/",
        {"pass": _pass(confirm), "clinic": "CLINIC-INTERNAL"},
    )
    entry = QueueEntry.objects.get()
    doctor = Client()
    doctor.force_login(make_staff(Role.CLINICIAN))
    room = f"/reception/points/{entry.service_point_id}/"
    assert "Trần Thị Minh Anh" in doctor.get(room).content.decode()
    assert doctor.post(room, {"action": "call_next"}).status_code == 302
    entry.refresh_from_db()
    assert entry.state == "called"
    doctor.post(room, {"action": "send", "entry": entry.pk, "department": "LAB"})
    assert QueueEntry.objects.filter(department__code="LAB", state="waiting").exists()
    empty = doctor.post(room, {"action": "call_next"})
    assert empty.status_code == 200
    assert "Không còn ai" in empty.content.decode()
    bogus = doctor.post(room, {"action": "explode"})
    assert "Thao tác không hợp lệ" in bogus.content.decode()


def test_the_desk_declares_priority_and_skips_insurance_for_fee_paying(
    hospital, receptionist: User
):
    desk = Client()
    desk.force_login(receptionist)
    page = desk.post(
        "/reception/desk/",
        {
            "facility": HOSPITAL, "scan": WOMAN_CARD, "clinic": "CLINIC-OBGYN",
            "groups": ["pregnant"], "fee": "1", "follow_up_slip": "HK-2026-0001",
        },
    )  # fmt: skip
    assert page.status_code == 200
    assert 'id="desk-ticket"' in page.content.decode()
    visit = Visit.objects.get()
    assert visit.ticket == "U001"
    assert visit.priority_groups == ["pregnant"]
    assert visit.eligibility_check_id is None
    assert visit.follow_up_slip == "HK-2026-0001"
    assert visit.channel == "desk"
    refused = desk.post("/reception/desk/", {"facility": HOSPITAL, "clinic": "CLINIC-INTERNAL"})
    assert 'id="desk-error"' in refused.content.decode()
