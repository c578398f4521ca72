"""The reception ticket as a PDF for an 80 mm thermal receipt printer, what kiosks and desks
print on: 80 mm wide, as tall as its content. Pure: a ticket's state in, the PDF's bytes out.

Every line is printed in Vietnamese with English under it, smaller: a printed slip cannot
switch language, and the resident who chose English at the kiosk still reads Vietnamese
signs in the hospital. No name is printed, as on the live ticket page: the slip is left on
benches and in bins.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass

import segno
from django.utils import translation
from django.utils.translation import gettext, ngettext
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from cityhealth.core.datafiles import data_path
from cityhealth.reception.enums import EntryState
from cityhealth.reception.selectors import TicketState

PAPER_WIDTH = 80 * mm
MARGIN = 4 * mm  # 80 mm rolls print about 72 mm wide
CONTENT_WIDTH = PAPER_WIDTH - 2 * MARGIN
# Receipt printers print 8 dots per millimetre (203 dpi): a QR module of a whole number of
# dots prints with crisp, equal modules, which cheap phone cameras read at the first try.
PRINTER_DOT = 0.125 * mm
QR_TARGET = 40 * mm
QR_QUIET_ZONE = 4  # modules of blank paper around the symbol (ISO/IEC 18004)
NUMBER_SIZE = 64.0  # points: read from across a waiting hall; shrunk only if it would not fit
REGULAR, BOLD = "TicketSans", "TicketSans-Bold"


@functools.cache
def _register_fonts() -> None:
    """DejaVu Sans from the platform's data folder: PDF's built-in fonts have no Vietnamese
    letters (ơ, ư, đ, stacked tone marks)."""
    pdfmetrics.registerFont(TTFont(REGULAR, str(data_path("fonts", "DejaVuSans.ttf"))))
    pdfmetrics.registerFont(TTFont(BOLD, str(data_path("fonts", "DejaVuSans-Bold.ttf"))))


# --- layout: blocks that know their height, then drawn top down on a page of that height ---


# A line's box, in ems around the baseline. Vietnamese stacks a tone mark over a circumflex
# or breve (Ổ, ặ), higher than the font's declared ascent (0.76 em): above is the room they
# need. The ticket number is capitals and digits only, so its line is as tall as they are.
ABOVE, BELOW, CAPITALS = 1.05, 0.25, 0.76


@dataclass(frozen=True)
class _Line:
    text: str
    size: float
    bold: bool = False
    space_before: float = 0.0
    capitals_only: bool = False

    @property
    def font(self) -> str:
        return BOLD if self.bold else REGULAR

    @property
    def _above(self) -> float:
        return self.size * (CAPITALS if self.capitals_only else ABOVE)

    @property
    def height(self) -> float:
        return self.space_before + self._above + (0 if self.capitals_only else self.size * BELOW)

    def draw(self, canvas: Canvas, top: float) -> None:
        canvas.setFont(self.font, self.size)
        baseline = top - self.space_before - self._above
        canvas.drawCentredString(PAPER_WIDTH / 2, baseline, self.text)


@dataclass(frozen=True)
class _Rule:
    space: float = 2.5 * mm

    @property
    def height(self) -> float:
        return 2 * self.space

    def draw(self, canvas: Canvas, top: float) -> None:
        canvas.setLineWidth(0.6)
        canvas.setDash(2, 2)
        canvas.line(MARGIN, top - self.space, PAPER_WIDTH - MARGIN, top - self.space)
        canvas.setDash()


@dataclass(frozen=True)
class _Qr:
    """The QR as one filled path of rectangles, one per horizontal run of dark modules."""

    rows: tuple[tuple[bool, ...], ...]
    module: float

    @property
    def height(self) -> float:
        return (len(self.rows) + 2 * QR_QUIET_ZONE) * self.module

    def draw(self, canvas: Canvas, top: float) -> None:
        m = self.module
        left = (PAPER_WIDTH - len(self.rows[0]) * m) / 2
        first = top - QR_QUIET_ZONE * m
        path = canvas.beginPath()
        for r, row in enumerate(self.rows):
            for start, length in _dark_runs(row):
                path.rect(left + start * m, first - (r + 1) * m, length * m, m)
        canvas.drawPath(path, stroke=0, fill=1)


_Block = _Line | _Rule | _Qr


def _dark_runs(row: Sequence[bool]) -> list[tuple[int, int]]:
    """(first column, length) of each run of dark modules in a row."""
    runs: list[tuple[int, int]] = []
    start = None
    for col, dark in enumerate([*row, False]):
        if dark and start is None:
            start = col
        elif not dark and start is not None:
            runs.append((start, col - start))
            start = None
    return runs


def qr_rows(url: str) -> tuple[tuple[bool, ...], ...]:
    """The modules of the QR printed for `url` (the same symbol as the kiosk's screen)."""
    symbol = segno.make(url, error="m")
    return tuple(tuple(bool(m) for m in row) for row in symbol.matrix)


def _qr(url: str) -> _Qr:
    rows = qr_rows(url)
    span = len(rows) + 2 * QR_QUIET_ZONE
    module = min(QR_TARGET / len(rows), CONTENT_WIDTH / span)
    module = max(PRINTER_DOT, module - module % PRINTER_DOT)
    return _Qr(rows=rows, module=module)


def _wrapped(
    text: str, size: float, *, bold: bool = False, space_before: float = 0.0
) -> list[_Line]:
    font = BOLD if bold else REGULAR
    pieces = simpleSplit(text, font, size, CONTENT_WIDTH) or [""]
    return [
        _Line(piece, size, bold, space_before if n == 0 else 0.0) for n, piece in enumerate(pieces)
    ]


def _number(ticket: str) -> _Line:
    width = pdfmetrics.stringWidth(ticket, BOLD, NUMBER_SIZE)
    size = min(NUMBER_SIZE, NUMBER_SIZE * CONTENT_WIDTH / width) if width else NUMBER_SIZE
    return _Line(ticket, size, bold=True, space_before=2 * mm, capitals_only=True)


def _in_both(
    vi: str, en: str, *, size: float, bold: bool = False, space_before: float = 0.0
) -> list[_Block]:
    """A text in Vietnamese, then in English smaller (left out where it reads the same)."""
    lines: list[_Block] = [*_wrapped(vi, size, bold=bold, space_before=space_before)]
    if en != vi:
        lines += _wrapped(en, max(7.0, size * 0.75))
    return lines


def _side_by_side(vi: str, en: str) -> str:
    return vi if vi == en else f"{vi} · {en}"


@dataclass(frozen=True)
class _Words:
    """Everything the ticket says, in one language."""

    queue_number: str
    clinic: str
    room: str
    floor: str
    turn: tuple[str, ...]  # where the resident stands: one line per fact
    priority: str
    scan: str
    printed_at: str


def _words(state: TicketState, language: str) -> _Words:
    with translation.override(language):
        if state.finished:
            turn: tuple[str, ...] = (gettext("Your visit is over. Thank you."),)
        elif state.state == EntryState.CALLED:
            turn = (gettext("It is your turn: please come in."),)
        else:
            minutes = ngettext(
                "About %(minutes)s minute of waiting", "About %(minutes)s minutes of waiting",
                state.wait_minutes,
            ) % {"minutes": state.wait_minutes}  # fmt: skip
            ahead = ngettext("%(ahead)s person ahead", "%(ahead)s people ahead", state.ahead) % {
                "ahead": state.ahead
            }
            turn = (minutes, ahead)
        return _Words(
            queue_number=gettext("Queue number"),
            clinic=gettext("Clinic"),
            room=gettext("Room"),
            floor=gettext("Floor %(floor)s") % {"floor": state.floor}
            if state.floor is not None
            else "",
            turn=turn,
            # Only that the ticket is served first, never why: a slip left on a bench must
            # not tell that its holder is pregnant or disabled.
            priority=gettext("Priority") if state.priority_groups else "",
            scan=gettext("Scan to follow your turn on your phone."),
            printed_at=gettext("Printed at"),
        )


def _layout(
    state: TicketState, vi: _Words, en: _Words, live_url: str, printed_at: dt.datetime
) -> list[_Block]:
    blocks: list[_Block] = [
        *_wrapped(state.facility, 11, bold=True),
        _Rule(),
        *_in_both(vi.queue_number, en.queue_number, size=10),
        _number(state.ticket),
    ]
    if vi.priority:
        blocks += _in_both(vi.priority, en.priority, size=10, bold=True, space_before=2 * mm)
    blocks += [_Rule(), *_caption(vi.clinic, en.clinic), *_wrapped(state.queue, 12, bold=True)]
    if state.room:
        blocks += [*_caption(vi.room, en.room), *_wrapped(state.room, 12, bold=True)]
    if vi.floor:
        floor = _side_by_side(vi.floor, en.floor)
        blocks += _wrapped(floor, 10, bold=True, space_before=1 * mm)
    when = printed_at.strftime("%H:%M %d/%m/%Y")
    return [
        *blocks,
        *_turn(vi, en),
        _Rule(),
        _qr(live_url),
        *_in_both(vi.scan, en.scan, size=8),
        *_wrapped(
            f"{_side_by_side(vi.printed_at, en.printed_at)}: {when}", 7.5, space_before=2 * mm
        ),
    ]


def _turn(vi: _Words, en: _Words) -> list[_Block]:
    """The Vietnamese a line a fact; the English, smaller, in one line where it fits."""
    lines: list[_Block] = []
    for n, fact in enumerate(vi.turn):
        lines += _wrapped(fact, 10, space_before=2 * mm if n == 0 else 0.0)
    return lines + _wrapped(" · ".join(en.turn), 7.5)


def _caption(vi: str, en: str) -> list[_Line]:
    return _wrapped(_side_by_side(vi, en), 7.5, space_before=1.5 * mm)


def render_ticket_pdf(*, state: TicketState, live_url: str, printed_at: dt.datetime) -> bytes:
    """The ticket as a one-page PDF, 80 mm wide. `live_url` (the absolute address of the live
    ticket page) goes into the QR; `printed_at` is shown as given (pass the city's wall
    clock). The same arguments give the same bytes."""
    _register_fonts()
    vi, en = _words(state, "vi"), _words(state, "en")
    blocks = _layout(state, vi, en, live_url, printed_at)
    height = sum(block.height for block in blocks) + 2 * MARGIN
    out = io.BytesIO()
    # invariant: no creation date or random file id, so the output depends on the input only
    # initialFontName: else an unused Helvetica is listed in the file (types-reportlab
    # wrongly types it as a float; reportlab takes a font's name).
    canvas = Canvas(
        out, pagesize=(PAPER_WIDTH, height), invariant=True, lang="vi",
        initialFontName=REGULAR,  # type: ignore[arg-type]
    )  # fmt: skip
    canvas.setTitle(f"{vi.queue_number} {state.ticket}")
    canvas.setAuthor(state.facility)
    top = height - MARGIN
    for block in blocks:
        block.draw(canvas, top)
        top -= block.height
    canvas.showPage()
    canvas.save()
    return out.getvalue()
