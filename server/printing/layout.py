"""What goes where on a printed page: stall signs and sheets of price tags, as drawing operations in PDF points.

One layout function per document kind yields plain operations (text lines, QR symbols, rules); the PDF and SVG
renderers both consume them, so the SVG preview and the printed PDF agree. The QR always gets the space it needs
to scan from a metre or two away: that is the point of a sign.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from reportlab.lib.pagesizes import A4, LETTER  # type: ignore[import-untyped, unused-ignore]
from reportlab.lib.units import mm  # type: ignore[import-untyped, unused-ignore]

from server.printing.fitting import fit_block, fit_line, wrap
from server.printing.qr import Matrix, qr_matrix
from server.printing.shaping import Typeset, clean, is_rtl


@dataclass(frozen=True)
class SignStall:
    """What a stall sign shows. ``url`` is the absolute stall URL the QR encodes."""

    name: str
    number: str
    location: str
    store_tag: str
    url: str


@dataclass(frozen=True)
class SignEvent:
    """The event printed in the footer of every sign (and on every price tag)."""

    name: str
    hashtag: str


@dataclass(frozen=True)
class PriceTag:
    """One small tag: ``price_text`` is already formatted for display; ``url`` is the item's absolute URL."""

    title: str
    price_text: str
    url: str


PAGE_SIZES: dict[str, tuple[float, float]] = {"a4": A4, "letter": LETTER}
"""Supported paper, as (width, height) in PDF points."""

SCAN_PROMPT = "Scan to see the items and chat with the seller"

TAG_COLUMNS = 3
TAG_ROWS = 8
"""Price tags per sheet: 3 x 8 fits common label/cardstock cutting and keeps each QR >= 2.5 cm."""

Align = Literal["left", "center", "right"]


@dataclass(frozen=True)
class Text:
    """A line of logical text; (x, y) is the baseline anchor in points from the bottom-left of the page."""

    text: str
    x: float
    y: float
    size: float
    bold: bool = False
    align: Align = "center"
    gray: float = 0.0


@dataclass(frozen=True)
class QR:
    """A QR symbol with its quiet zone, as a square of side ``size`` whose bottom-left corner is (x, y)."""

    matrix: Matrix
    x: float
    y: float
    size: float


@dataclass(frozen=True)
class Line:
    """A straight rule (the sign's footer rule, the tag sheet's dashed cut lines), in points."""

    x1: float
    y1: float
    x2: float
    y2: float
    width: float = 0.5
    gray: float = 0.0
    dash: tuple[float, ...] = ()


Op = Text | QR | Line
Page = list[Op]

SIGN_MARGIN = 14 * mm
SIGN_QR_MAX = 160 * mm


def page_size(page: str) -> tuple[float, float]:
    """Resolve a page-size name (case-insensitive); an unknown one is a caller error, not a silent A4."""
    size = PAGE_SIZES.get(page.strip().lower()) if isinstance(page, str) else None
    if size is None:
        raise ValueError(f"unknown page size {page!r}; expected one of {', '.join(sorted(PAGE_SIZES))}")
    return float(size[0]), float(size[1])


def join(*parts: str, sep: str = " · ") -> str:
    return sep.join(p for p in parts if p)


def sign_page(fonts: Typeset, stall: SignStall, event: SignEvent, width: float, height: float) -> Page:
    """Lay out one sign, top to bottom: name, stall number and location, store tag, QR, prompt, event footer.

    The QR takes all the space the text leaves (up to 16 cm with its quiet zone), since being scannable from a
    distance is the point of the sign.
    """
    ops: Page = []
    cx = width / 2
    content = width - 2 * SIGN_MARGIN
    y = height - SIGN_MARGIN

    name = clean(stall.name) or "—"
    lines, size = fit_block(fonts, name, True, content, 64, 30, 2)
    for line in lines:
        y -= size * 0.95
        ops.append(Text(line, cx, y, size, bold=True))
        y -= size * 0.2
    number = clean(stall.number)
    info = join(f"Stall {number}" if number else "", clean(stall.location))
    if info:
        text, size = fit_line(fonts, info, False, content, 22, 11)
        y -= size * 1.35
        ops.append(Text(text, cx, y, size))
    tag = clean(stall.store_tag)
    if tag:
        text, size = fit_line(fonts, tag, True, content, 24, 11)
        y -= size * 1.4
        ops.append(Text(text, cx, y, size, bold=True, gray=0.25))
    qr_top = y - 4 * mm

    footer_rule = SIGN_MARGIN + 13 * mm
    footer = join(clean(event.name), clean(event.hashtag), sep="  ·  ")
    if footer:
        text, size = fit_line(fonts, footer, False, content, 14, 8)
        ops.append(Text(text, cx, SIGN_MARGIN + 5 * mm, size, gray=0.2))
    ops.append(Line(SIGN_MARGIN, footer_rule, width - SIGN_MARGIN, footer_rule, width=0.8, gray=0.5))
    text, size = fit_line(fonts, SCAN_PROMPT, False, content, 18, 10)
    prompt_y = footer_rule + 9 * mm
    ops.append(Text(text, cx, prompt_y, size))
    qr_bottom = prompt_y + size + 2 * mm

    matrix = qr_matrix(stall.url)
    qr_size = max(0.0, min(content, SIGN_QR_MAX, qr_top - qr_bottom))
    ops.append(QR(matrix, cx - qr_size / 2, qr_bottom + (qr_top - qr_bottom - qr_size) / 2, qr_size))
    return ops


TAG_MARGIN = 7 * mm
TAG_PAD = 3 * mm


def _tag_grid(width: float, height: float) -> tuple[float, float]:
    """Cell width and height of the price-tag grid on a page."""
    return (width - 2 * TAG_MARGIN) / TAG_COLUMNS, (height - 2 * TAG_MARGIN) / TAG_ROWS


def _tag_ops(fonts: Typeset, tag: PriceTag, footer: str, x0: float, y0: float, cw: float, ch: float) -> Page:
    """One price tag in the cell at (x0, y0): title (up to two lines) and price on the left, QR on the right.

    The QR fills the cell height (its white quiet zone doubles as the cell's padding), which keeps the printed
    symbol itself about 2.5 cm or more for typical item URLs; text never enters the quiet zone.
    """
    qr_size = min(ch - 0.6 * mm, cw * 0.55)
    qr_x = x0 + cw - qr_size - 0.3 * mm
    ops: Page = [QR(qr_matrix(tag.url), qr_x, y0 + (ch - qr_size) / 2, qr_size)]
    left = x0 + TAG_PAD
    text_w = qr_x - left
    y = y0 + ch - TAG_PAD
    title = clean(tag.title)
    if title:
        # An Arabic/Hebrew title reads from the right edge of the text area, like any RTL paragraph.
        rtl = is_rtl(title)
        for line in wrap(fonts, title, True, 9, text_w, 2):
            y -= 9
            ops.append(Text(line, qr_x if rtl else left, y, 9, bold=True, align="right" if rtl else "left"))
            y -= 2
    price = clean(tag.price_text)
    if price:
        text, size = fit_line(fonts, price, True, text_w, 17, 8)
        y -= size + 3
        ops.append(Text(text, left, y, size, bold=True, align="left"))
    if footer:
        text, size = fit_line(fonts, footer, False, text_w, 6.5, 5)
        ops.append(Text(text, left, y0 + TAG_PAD, size, align="left", gray=0.35))
    return ops


def tag_pages(
    fonts: Typeset, tags: Sequence[PriceTag], event: SignEvent, width: float, height: float
) -> Iterator[Page]:
    """Sheets of `TAG_COLUMNS` x `TAG_ROWS` tags, filled row by row from the top, with dashed cut lines."""
    cw, ch = _tag_grid(width, height)
    per_page = TAG_COLUMNS * TAG_ROWS
    footer = clean(event.hashtag) or clean(event.name)
    for start in range(0, len(tags), per_page):
        ops: Page = []
        for i, tag in enumerate(tags[start : start + per_page]):
            row, col = divmod(i, TAG_COLUMNS)
            x0 = TAG_MARGIN + col * cw
            y0 = height - TAG_MARGIN - (row + 1) * ch
            ops.extend(_tag_ops(fonts, tag, footer, x0, y0, cw, ch))
        top, bottom = height - TAG_MARGIN, TAG_MARGIN
        for col in range(TAG_COLUMNS + 1):
            x = TAG_MARGIN + col * cw
            ops.append(Line(x, bottom, x, top, width=0.4, gray=0.6, dash=(3.0, 2.0)))
        for row in range(TAG_ROWS + 1):
            y = bottom + row * ch
            ops.append(Line(TAG_MARGIN, y, width - TAG_MARGIN, y, width=0.4, gray=0.6, dash=(3.0, 2.0)))
        yield ops


def notice_page(message: str, width: float, height: float) -> Page:
    """A single page saying there is nothing to print: clearer than an empty or blank PDF."""
    return [Text(message, width / 2, height / 2, 18)]
