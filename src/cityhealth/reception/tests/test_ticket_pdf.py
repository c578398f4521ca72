"""The ticket as a PDF for an 80 mm receipt printer: what it says (read back from the PDF's
text), the QR it draws (module by module against segno's symbol for the live ticket's
address), its size, and the public page that serves it."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import segno
from django.test import Client
from pypdf import PdfReader
from reportlab.lib.units import mm

from cityhealth.core.roles import Role
from cityhealth.reception.models import Visit
from cityhealth.reception.selectors import TicketState
from cityhealth.reception.tests.conftest import HOSPITAL, WOMAN_CARD
from cityhealth.reception.ticket_pdf import PRINTER_DOT, render_ticket_pdf

LIVE_URL = "https://yte.example.vn/reception/ticket/0123456789abcdef0123456789abcdef/"
PRINTED = dt.datetime(2026, 3, 12, 8, 15, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
_NUMBER = r"(-?[\d.]+)"
RECT = re.compile(rf"{_NUMBER} {_NUMBER} {_NUMBER} {_NUMBER} re\b")
TEXT_AT = re.compile(rf"1 0 0 1 {_NUMBER} {_NUMBER} Tm\b")


def _state(**changes: Any) -> TicketState:
    values: dict[str, Any] = {
        "ticket": "A012", "facility": "Bệnh viện Đa khoa Xanh Pôn", "state": "waiting",
        "queue": "Phòng khám Nội tổng quát", "room": "Phòng khám Nội 3", "floor": 2,
        "ahead": 4, "wait_minutes": 18, "priority_groups": [], "finished": False,
    }  # fmt: skip
    return TicketState(**(values | changes))


def _render(url: str = LIVE_URL, **changes: Any) -> bytes:
    return render_ticket_pdf(state=_state(**changes), live_url=url, printed_at=PRINTED)


def _page(pdf: bytes) -> Any:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return reader.pages[0]


def _text(pdf: bytes) -> str:
    """The words printed, in reading order, a wrapped line joined again."""
    return " ".join(str(_page(pdf).extract_text()).split())


def _stream(pdf: bytes) -> str:
    return str(_page(pdf).get_contents().get_data().decode("latin-1"))


def _drawn_modules(pdf: bytes) -> tuple[list[list[bool]], float]:
    """The QR as the PDF draws it: its rectangles put back on a grid of modules."""
    rects = [tuple(float(v) for v in m.groups()) for m in RECT.finditer(_stream(pdf))]
    assert rects, "no QR drawn"
    module = min(h for _, _, _, h in rects)
    left = min(x for x, _, _, _ in rects)
    top = max(y + h for _, y, _, h in rects)
    size = round((max(x + w for x, _, w, _ in rects) - left) / module)
    grid = [[False] * size for _ in range(size)]
    for x, y, w, h in rects:
        assert h == pytest.approx(module)
        row, first = round((top - y - h) / module), round((x - left) / module)
        for col in range(first, first + round(w / module)):
            assert not grid[row][col], "a module drawn twice"
            grid[row][col] = True
    return grid, module


def test_the_ticket_says_it_in_vietnamese_first_then_english():
    text = _text(_render(priority_groups=["pregnant"]))
    for expected in (
        "Bệnh viện Đa khoa Xanh Pôn", "Số thứ tự", "Queue number", "A012",
        "Mức ưu tiên", "Priority", "Phòng khám Nội tổng quát",
        "Phòng khám Nội 3", "Tầng 2 · Floor 2", "Chờ khoảng 18 phút", "4 người đứng trước",
        "About 18 minutes of waiting · 4 people ahead",
        "Quét mã để theo dõi lượt của bạn trên điện thoại.", "08:15 12/03/2026",
    ):  # fmt: skip
        assert expected in text
    assert text.index("Số thứ tự") < text.index("Queue number") < text.index("A012")
    assert text.index("Chờ khoảng") < text.index("About 18 minutes")
    assert "Phụ nữ có thai" not in text  # served first, never why
    assert "Pregnant" not in text


def test_a_called_or_finished_ticket_says_so_instead_of_the_wait():
    called = _text(_render(state="called"))
    assert "Đến lượt bạn: mời vào phòng." in called
    assert "It is your turn: please come in." in called
    assert "Chờ khoảng" not in called
    finished = _text(_render(finished=True, state="done"))
    assert "Lượt khám của bạn đã kết thúc. Xin cảm ơn." in finished
    assert "người đứng trước" not in finished


def test_no_room_floor_or_priority_prints_no_empty_line_for_them():
    text = _text(_render(room="", floor=None))
    assert "Tầng" not in text
    assert "Phòng · Room" not in text
    assert "ưu tiên" not in text


def test_the_qr_is_segnos_symbol_for_the_live_ticket_in_whole_printer_dots():
    grid, module = _drawn_modules(_render())
    expected = [[bool(m) for m in row] for row in segno.make(LIVE_URL, error="m").matrix]
    assert grid == expected
    other, _ = _drawn_modules(_render(url=LIVE_URL.replace("0123", "9876")))
    assert other != expected
    assert module / PRINTER_DOT == pytest.approx(round(module / PRINTER_DOT))


def test_the_page_is_80_mm_wide_and_as_tall_as_what_is_printed_on_it():
    plain, busy = (
        _render(),
        _render(
            priority_groups=["pregnant", "disability"],
            facility="Bệnh viện Đa khoa Y học cổ truyền và Phục hồi chức năng Hà Nội",
        ),
    )
    for pdf in (plain, busy):
        page = _page(pdf)
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert width == pytest.approx(80 * mm)
        ys = [float(y) for _, y in TEXT_AT.findall(_stream(pdf))]
        ys += [float(m.group(2)) for m in RECT.finditer(_stream(pdf))]
        # Nothing runs off the page, and no long blank tail is fed out of the printer.
        assert 0 < min(ys) < 10 * mm
        assert max(ys) < height
    assert _page(busy).mediabox.height > _page(plain).mediabox.height
    assert "Phục hồi chức năng Hà Nội" in _text(busy)  # the long name wraps, whole


def test_the_same_ticket_gives_the_same_bytes():
    assert _render() == _render()


# --- the page --------------------------------------------------------------------------------


@pytest.fixture
def kiosk(make_staff: Any) -> Client:
    client = Client()
    client.force_login(make_staff(Role.KIOSK))
    return client


@pytest.fixture
def visit(hospital: Any, kiosk: Client) -> Visit:
    confirm = kiosk.post(f"/reception/kiosk/{HOSPITAL}/identify/", {"scan": WOMAN_CARD})
    html = confirm.content.decode()
    start = html.index('name="pass" value="') + len('name="pass" value="')
    ticket_pass = html[start : html.index('"', start)]
    kiosk.post(
        f"/reception/kiosk/{HOSPITAL}/check-in/", {"pass": ticket_pass, "clinic": "CLINIC-INTERNAL"}
    )
    return Visit.objects.select_related("facility").get()


@pytest.mark.django_db
def test_the_pdf_needs_no_sign_in_and_prints_no_name(visit: Visit):
    response = Client().get(f"/reception/ticket/{visit.token}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="A001.pdf"'
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF-")
    text = _text(response.content)
    assert "A001" in text
    assert visit.facility.name in text
    for name in ("Trần", "TRẦN", "Minh Anh", "M. Anh"):  # not even masked, as on the page
        assert name not in text
    grid, _ = _drawn_modules(response.content)
    live = f"http://testserver/reception/ticket/{visit.token}/"
    assert grid == [[bool(m) for m in row] for row in segno.make(live, error="m").matrix]


@pytest.mark.django_db
def test_an_unknown_ticket_is_not_found_as_on_the_live_page(visit: Visit):
    assert Client().get("/reception/ticket/nope/pdf/").status_code == 404
    assert Client().get("/reception/ticket/nope/").status_code == 404


@pytest.mark.django_db
def test_the_kiosk_and_the_live_ticket_link_to_the_pdf(visit: Visit, kiosk: Client):
    link = f'href="/reception/ticket/{visit.token}/pdf/"'
    kiosk_page = kiosk.get(f"/reception/kiosk/{HOSPITAL}/ticket/{visit.token}/")
    assert link in kiosk_page.content.decode()
    assert link in Client().get(f"/reception/ticket/{visit.token}/").content.decode()
