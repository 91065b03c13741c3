"""Printable stall signs and price tags.

A visitor at a weekend market finds a stall by its printed sign and opens it in the web app by scanning the QR
code on it, so the one thing these documents must get right is a QR that scans from a metre or two away, on cheap
printers, in daylight. Everything else (name, stall number, location, hashtags) helps a person find the stall
and the organiser sort the printouts.

Design choices:

- Pure functions over plain frozen dataclasses: no database, no HTTP, so the routes that serve these stay thin and
  the output can be tested by rasterising it with independent tools.
- QR codes are vector rectangles taken from the ``qrcode`` library's module matrix (error correction M, the
  standard 4-module quiet zone) rather than embedded bitmaps: they stay crisp at any printer resolution and
  the PDF stays small. Horizontal runs of dark modules are merged and filled as one path, which avoids the
  hairline seams some renderers show between adjacent rectangles.
- Text is drawn with TrueType fonts found on the machine (`kiosk.fonts`), choosing per character the first font
  that has a glyph, so a Japanese or Arabic name is not printed as empty boxes. Arabic is joined (contextual
  letter forms) and reordered for display with ``arabic-reshaper`` and ``python-bidi`` when they are installed;
  without them the letters are printed unjoined, in logical order, rather than failing.
- One layout function per document kind yields drawing operations in PDF points; the PDF and SVG renderers
  both consume them, so the SVG preview and the printed PDF agree.
- Output is deterministic (ReportLab's ``invariant`` mode): the same input gives the same bytes, so signs can be
  cached and compared.
"""

from __future__ import annotations

import functools
import html
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from qrcode.exceptions import DataOverflowError
from reportlab.lib.pagesizes import A4, LETTER  # type: ignore[import-untyped, unused-ignore]
from reportlab.lib.units import mm  # type: ignore[import-untyped, unused-ignore]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped, unused-ignore]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped, unused-ignore]
from reportlab.pdfgen import canvas  # type: ignore[import-untyped, unused-ignore]

from kiosk.fonts import SVG_FONT_FAMILY, find_fonts

__all__ = [
    "PAGE_SIZES",
    "SCAN_PROMPT",
    "TAG_COLUMNS",
    "TAG_ROWS",
    "PriceTag",
    "SignEvent",
    "SignStall",
    "price_tags_pdf",
    "stall_sign_svg",
    "stall_signs_pdf",
    "uncovered_characters",
]


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

# --- plain text -------------------------------------------------------------------------------------------

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]+")
_SPACES = re.compile(r"\s+")
_ELLIPSIS = "…"


def _clean(text: str) -> str:
    """Printable single-line text: control characters (never valid in XML, meaningless on paper) become spaces,
    runs of whitespace collapse, and the result is NFC so a decomposed "é" measures and renders as one glyph."""
    text = _UNPRINTABLE.sub(" ", unicodedata.normalize("NFC", text))
    return _SPACES.sub(" ", text).strip()


def _is_rtl(text: str) -> bool:
    """Whether the paragraph's base direction is right-to-left (first strong character is Arabic/Hebrew), as
    the Unicode bidi algorithm (and HTML's ``dir=auto``) decides it."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def _needs_bidi(text: str) -> bool:
    return any(unicodedata.bidirectional(ch) in ("R", "AL", "AN") for ch in text)


# --- fonts ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Face:
    """A font registered with ReportLab and the code points it has glyphs for."""

    name: str
    covers: Callable[[int], bool]


@dataclass(frozen=True)
class _FontSet:
    """Fallback chains for regular and bold text, plus the display shaper built for them."""

    regular: tuple[_Face, ...]
    bold: tuple[_Face, ...]
    shape: Callable[[str], str] | None


def _cp1252_covers(code: int) -> bool:
    try:
        chr(code).encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _register(key: str, path: str, subfont: int) -> _Face | None:
    """Register one TrueType file with ReportLab; a file it cannot read (CFF outlines, damaged) is skipped, so a
    bad font on the machine costs coverage, not the whole document."""
    name = f"Souk-{key}"
    try:
        font = TTFont(name, path, subfontIndex=subfont)
        pdfmetrics.registerFont(font)
    except Exception:
        return None
    cmap: dict[int, int] = font.face.charToGlyph
    return _Face(name, cmap.__contains__)


def _load_shaper(covers: Callable[[int], bool]) -> Callable[[str], str] | None:
    """Arabic joining + bidi reordering for display, if ``arabic-reshaper`` and ``python-bidi`` are installed.

    PDF text is placed glyph by glyph, left to right: without this, Arabic letters would show in isolated forms and
    in reverse order. Ligatures are only enabled when some available font has the ligature glyph.
    """
    try:
        import arabic_reshaper  # type: ignore[import-untyped, unused-ignore]
        from arabic_reshaper.ligatures import (  # type: ignore[import-untyped, unused-ignore]
            LETTERS_LIGATURES,
            SENTENCES_LIGATURES,
            WORDS_LIGATURES,
        )
        from bidi import get_display  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        return None
    config: dict[str, bool] = {"delete_harakat": True, "support_ligatures": True}
    for key, (_match, forms) in (*SENTENCES_LIGATURES, *WORDS_LIGATURES, *LETTERS_LIGATURES):
        config[key] = all(covers(ord(ch)) for form in forms for ch in form)
    reshaper = arabic_reshaper.ArabicReshaper(configuration=config)

    def shape(text: str) -> str:
        return str(get_display(reshaper.reshape(text)))

    return shape


@functools.cache
def _fonts() -> _FontSet:
    """Discover and register fonts once per process (registration is global in ReportLab)."""
    regular: list[_Face] = []
    bold: list[_Face] = []
    for face in find_fonts():
        reg = _register(face.key, str(face.regular), face.subfont)
        if reg is None:
            continue
        regular.append(reg)
        bold_face = _register(face.key + "-Bold", str(face.bold), face.subfont) if face.bold else None
        bold.append(bold_face or reg)
    if not regular:
        # A bare machine: the PDF built-ins cover Western European text only; better than nothing.
        regular = [_Face("Helvetica", _cp1252_covers)]
        bold = [_Face("Helvetica-Bold", _cp1252_covers)]
    faces = regular + bold

    def any_covers(code: int) -> bool:
        return any(f.covers(code) for f in faces)

    return _FontSet(tuple(regular), tuple(bold), _load_shaper(any_covers))


def uncovered_characters(text: str) -> set[str]:
    """Characters of ``text`` that no available font can draw (they would print as boxes).

    Lets an admin screen warn before printing, and lets tests check the machine's font setup.
    """
    fonts = _fonts()
    return {ch for ch in _clean(text) if not ch.isspace() and not any(f.covers(ord(ch)) for f in fonts.regular)}


def _visual(text: str) -> str:
    """Display-order, joined text for left-to-right glyph placement (identity for text without RTL runs)."""
    shape = _fonts().shape
    return shape(text) if shape is not None and _needs_bidi(text) else text


def _runs(visual: str, chain: Sequence[_Face]) -> list[tuple[str, str]]:
    """Split display text into (font name, text) runs, picking per character the first font with a glyph.

    Spaces, punctuation and marks stay in the current font when it has them, so mixed text is not chopped into
    needlessly many runs. A character no font has goes to the current (or first) font: it prints as that font's
    "missing glyph" box, which is the best that can be done and never an error.
    """
    runs: list[tuple[str, str]] = []
    current: _Face | None = None
    buf: list[str] = []
    for ch in visual:
        code = ord(ch)
        neutral = unicodedata.category(ch)[0] in "ZPM" or ch.isspace()
        if current is not None and (current.covers(code) and (neutral or current is chain[0])):
            face = current
        else:
            face = next((f for f in chain if f.covers(code)), current or chain[0])
        if face is not current:
            if current is not None and buf:
                runs.append((current.name, "".join(buf)))
            current, buf = face, []
        buf.append(ch)
    if current is not None and buf:
        runs.append((current.name, "".join(buf)))
    return runs


def _chain(bold: bool) -> tuple[_Face, ...]:
    fonts = _fonts()
    return fonts.bold if bold else fonts.regular


def _width(text: str, size: float, bold: bool) -> float:
    """Printed width in points of logical ``text`` at ``size``."""
    return sum(float(pdfmetrics.stringWidth(s, name, size)) for name, s in _runs(_visual(text), _chain(bold)))


def _truncate(text: str, size: float, bold: bool, max_width: float) -> str:
    """The longest prefix of ``text`` (plus an ellipsis) that fits; truncation is on logical text, so an RTL
    name loses its end and the ellipsis lands on the left, as a reader expects."""
    if _width(text, size, bold) <= max_width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _width(text[:mid].rstrip() + _ELLIPSIS, size, bold) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + _ELLIPSIS


def _fit_line(text: str, bold: bool, max_width: float, max_size: float, min_size: float) -> tuple[str, float]:
    """Shrink ``text`` from ``max_size`` down to ``min_size`` to fit one line; truncate if even that is too wide."""
    width = _width(text, max_size, bold)
    if width <= max_width:
        return text, max_size
    size = max_size * max_width / width
    if size >= min_size:
        return text, size
    return _truncate(text, min_size, bold, max_width), min_size


def _break_points(text: str) -> list[int]:
    """Where a line may break: after spaces; in text without spaces (e.g. Japanese), between any characters."""
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    return spaces if spaces else list(range(1, len(text)))


def _wrap(text: str, bold: bool, size: float, max_width: float, max_lines: int) -> list[str]:
    """Greedy wrap into at most ``max_lines`` lines at ``size``; the last line is truncated if text remains."""
    lines: list[str] = []
    rest = text
    while rest and len(lines) < max_lines - 1:
        if _width(rest, size, bold) <= max_width:
            break
        fitting = [i for i in _break_points(rest) if _width(rest[:i].rstrip(), size, bold) <= max_width]
        if not fitting:
            break
        cut = fitting[-1]
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        lines.append(_truncate(rest, size, bold, max_width))
    return lines


def _fit_block(
    text: str, bold: bool, max_width: float, max_size: float, min_size: float, max_lines: int
) -> tuple[list[str], float]:
    """Fit a heading: one line as large as possible; else two balanced lines; else wrapped and truncated."""
    line, size = _fit_line(text, bold, max_width, max_size, min_size)
    if line == text or max_lines < 2:
        return [line], size
    best: tuple[float, int] | None = None
    for i in _break_points(text):
        widest = max(_width(text[:i].rstrip(), 1.0, bold), _width(text[i:].lstrip(), 1.0, bold))
        if widest > 0 and (best is None or widest < best[0]):
            best = (widest, i)
    if best is not None:
        two_size = min(max_size, max_width / best[0])
        if two_size >= min_size:
            cut = best[1]
            return [text[:cut].rstrip(), text[cut:].lstrip()], two_size
    return _wrap(text, bold, min_size, max_width, max_lines), min_size


# --- QR ---------------------------------------------------------------------------------------------------

Matrix = tuple[tuple[bool, ...], ...]


@functools.lru_cache(maxsize=512)
def _qr_matrix(url: str) -> Matrix:
    """The QR module matrix for ``url``, quiet zone included (error correction M: survives ~15% damage, such as a
    crease or a raindrop, while keeping modules large)."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    qr.add_data(url)
    try:
        qr.make(fit=True)
    except (DataOverflowError, ValueError) as exc:  # qrcode reports "version 41" as a ValueError
        raise ValueError(f"URL too long for a QR code ({len(url)} characters)") from exc
    return tuple(tuple(bool(m) for m in row) for row in qr.get_matrix())


def _dark_runs(matrix: Matrix) -> Iterator[tuple[int, int, int]]:
    """(row, first column, length) of each horizontal run of dark modules: fewer, larger rectangles."""
    for r, row in enumerate(matrix):
        c = 0
        n = len(row)
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                yield r, start, c - start
            else:
                c += 1


# --- layout -----------------------------------------------------------------------------------------------

Align = Literal["left", "center", "right"]


@dataclass(frozen=True)
class _Text:
    """A line of logical text; (x, y) is the baseline anchor in points from the bottom-left of the page."""

    text: str
    x: float
    y: float
    size: float
    bold: bool = False
    align: Align = "center"
    gray: float = 0.0


@dataclass(frozen=True)
class _QR:
    """A QR symbol with its quiet zone, as a square of side ``size`` whose bottom-left corner is (x, y)."""

    matrix: Matrix
    x: float
    y: float
    size: float


@dataclass(frozen=True)
class _Line:
    """A straight rule (the sign's footer rule, the tag sheet's dashed cut lines), in points."""

    x1: float
    y1: float
    x2: float
    y2: float
    width: float = 0.5
    gray: float = 0.0
    dash: tuple[float, ...] = ()


_Op = _Text | _QR | _Line

SIGN_MARGIN = 14 * mm
SIGN_QR_MAX = 160 * mm


def _page_size(page: str) -> tuple[float, float]:
    """Resolve a page-size name (case-insensitive); an unknown one is a caller error, not a silent A4."""
    size = PAGE_SIZES.get(page.strip().lower()) if isinstance(page, str) else None
    if size is None:
        raise ValueError(f"unknown page size {page!r}; expected one of {', '.join(sorted(PAGE_SIZES))}")
    return float(size[0]), float(size[1])


def _join(*parts: str, sep: str = " · ") -> str:
    return sep.join(p for p in parts if p)


def _sign_ops(stall: SignStall, event: SignEvent, width: float, height: float) -> list[_Op]:
    """Lay out one sign, top to bottom: name, stall number and location, store tag, QR, prompt, event footer.

    The QR takes all the space the text leaves (up to 16 cm with its quiet zone), since being scannable from a
    distance is the point of the sign.
    """
    ops: list[_Op] = []
    cx = width / 2
    content = width - 2 * SIGN_MARGIN
    y = height - SIGN_MARGIN

    name = _clean(stall.name) or "—"
    lines, size = _fit_block(name, True, content, 64, 30, 2)
    for line in lines:
        y -= size * 0.95
        ops.append(_Text(line, cx, y, size, bold=True))
        y -= size * 0.2
    number = _clean(stall.number)
    info = _join(f"Stall {number}" if number else "", _clean(stall.location))
    if info:
        text, size = _fit_line(info, False, content, 22, 11)
        y -= size * 1.35
        ops.append(_Text(text, cx, y, size))
    tag = _clean(stall.store_tag)
    if tag:
        text, size = _fit_line(tag, True, content, 24, 11)
        y -= size * 1.4
        ops.append(_Text(text, cx, y, size, bold=True, gray=0.25))
    qr_top = y - 4 * mm

    footer_rule = SIGN_MARGIN + 13 * mm
    footer = _join(_clean(event.name), _clean(event.hashtag), sep="  ·  ")
    if footer:
        text, size = _fit_line(footer, False, content, 14, 8)
        ops.append(_Text(text, cx, SIGN_MARGIN + 5 * mm, size, gray=0.2))
    ops.append(_Line(SIGN_MARGIN, footer_rule, width - SIGN_MARGIN, footer_rule, width=0.8, gray=0.5))
    text, size = _fit_line(SCAN_PROMPT, False, content, 18, 10)
    prompt_y = footer_rule + 9 * mm
    ops.append(_Text(text, cx, prompt_y, size))
    qr_bottom = prompt_y + size + 2 * mm

    matrix = _qr_matrix(stall.url)
    qr_size = max(0.0, min(content, SIGN_QR_MAX, qr_top - qr_bottom))
    ops.append(_QR(matrix, cx - qr_size / 2, qr_bottom + (qr_top - qr_bottom - qr_size) / 2, qr_size))
    return ops


TAG_MARGIN = 7 * mm
TAG_PAD = 3 * mm


def _tag_grid(width: float, height: float) -> tuple[float, float]:
    """Cell width and height of the price-tag grid on a page."""
    return (width - 2 * TAG_MARGIN) / TAG_COLUMNS, (height - 2 * TAG_MARGIN) / TAG_ROWS


def _tag_ops(tag: PriceTag, footer: str, x0: float, y0: float, cw: float, ch: float) -> list[_Op]:
    """One price tag in the cell at (x0, y0): title (up to two lines) and price on the left, QR on the right.

    The QR fills the cell height (its white quiet zone doubles as the cell's padding), which keeps the printed
    symbol itself about 2.5 cm or more for typical item URLs; text never enters the quiet zone.
    """
    qr_size = min(ch - 0.6 * mm, cw * 0.55)
    qr_x = x0 + cw - qr_size - 0.3 * mm
    ops: list[_Op] = [_QR(_qr_matrix(tag.url), qr_x, y0 + (ch - qr_size) / 2, qr_size)]
    left = x0 + TAG_PAD
    text_w = qr_x - left
    y = y0 + ch - TAG_PAD
    title = _clean(tag.title)
    if title:
        # An Arabic/Hebrew title reads from the right edge of the text area, like any RTL paragraph.
        rtl = _is_rtl(title)
        for line in _wrap(title, True, 9, text_w, 2):
            y -= 9
            ops.append(_Text(line, qr_x if rtl else left, y, 9, bold=True, align="right" if rtl else "left"))
            y -= 2
    price = _clean(tag.price_text)
    if price:
        text, size = _fit_line(price, True, text_w, 17, 8)
        y -= size + 3
        ops.append(_Text(text, left, y, size, bold=True, align="left"))
    if footer:
        text, size = _fit_line(footer, False, text_w, 6.5, 5)
        ops.append(_Text(text, left, y0 + TAG_PAD, size, align="left", gray=0.35))
    return ops


def _tag_pages(tags: Sequence[PriceTag], event: SignEvent, width: float, height: float) -> Iterator[list[_Op]]:
    """Sheets of `TAG_COLUMNS` x `TAG_ROWS` tags, filled row by row from the top, with dashed cut lines."""
    cw, ch = _tag_grid(width, height)
    per_page = TAG_COLUMNS * TAG_ROWS
    footer = _clean(event.hashtag) or _clean(event.name)
    for start in range(0, len(tags), per_page):
        ops: list[_Op] = []
        for i, tag in enumerate(tags[start : start + per_page]):
            row, col = divmod(i, TAG_COLUMNS)
            x0 = TAG_MARGIN + col * cw
            y0 = height - TAG_MARGIN - (row + 1) * ch
            ops.extend(_tag_ops(tag, footer, x0, y0, cw, ch))
        top, bottom = height - TAG_MARGIN, TAG_MARGIN
        for col in range(TAG_COLUMNS + 1):
            x = TAG_MARGIN + col * cw
            ops.append(_Line(x, bottom, x, top, width=0.4, gray=0.6, dash=(3.0, 2.0)))
        for row in range(TAG_ROWS + 1):
            y = bottom + row * ch
            ops.append(_Line(TAG_MARGIN, y, width - TAG_MARGIN, y, width=0.4, gray=0.6, dash=(3.0, 2.0)))
        yield ops


def _notice_ops(message: str, width: float, height: float) -> list[_Op]:
    """A single page saying there is nothing to print: clearer than an empty or blank PDF."""
    return [_Text(message, width / 2, height / 2, 18)]


# --- PDF rendering ----------------------------------------------------------------------------------------


def _pdf_text(c: canvas.Canvas, op: _Text) -> None:
    runs = _runs(_visual(op.text), _chain(op.bold))
    total = sum(float(pdfmetrics.stringWidth(s, name, op.size)) for name, s in runs)
    x = op.x - (total / 2 if op.align == "center" else total if op.align == "right" else 0.0)
    c.setFillGray(op.gray)
    for name, s in runs:
        c.setFont(name, op.size)
        c.drawString(x, op.y, s)
        x += float(pdfmetrics.stringWidth(s, name, op.size))


def _pdf_qr(c: canvas.Canvas, op: _QR) -> None:
    n = len(op.matrix)
    if n == 0 or op.size <= 0:
        return
    module = op.size / n
    c.saveState()
    # Module coordinates: origin at the symbol's top-left, one unit per module, rows going down. The path is
    # then plain integers ("x y w h re"), written directly: compact, exact, and much faster than ReportLab's
    # per-rectangle float formatting (which dominated build time for hundreds of signs).
    c.transform(module, 0, 0, -module, op.x, op.y + op.size)
    c.setFillGray(1.0)
    c.rect(0, 0, n, n, stroke=0, fill=1)
    c.setFillGray(0.0)
    c.addLiteral(" ".join(f"{col} {row} {length} 1 re" for row, col, length in _dark_runs(op.matrix)) + " f")
    c.restoreState()


def _pdf_line(c: canvas.Canvas, op: _Line) -> None:
    c.setStrokeGray(op.gray)
    c.setLineWidth(op.width)
    c.setDash(list(op.dash) if op.dash else [])
    c.line(op.x1, op.y1, op.x2, op.y2)


def _render_pdf(pages: Iterable[list[_Op]], pagesize: tuple[float, float], title: str) -> bytes:
    """Draw each page's operations; ``invariant`` fixes timestamps and IDs so output is reproducible."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=pagesize, invariant=1, pageCompression=1)
    c.setTitle(title)
    c.setAuthor("Souk")
    c.setCreator("Souk")
    for ops in pages:
        for op in ops:
            if isinstance(op, _Text):
                _pdf_text(c, op)
            elif isinstance(op, _QR):
                _pdf_qr(c, op)
            else:
                _pdf_line(c, op)
        c.showPage()
    c.save()
    return buf.getvalue()


def stall_signs_pdf(stalls: Sequence[SignStall], event: SignEvent, page: str = "a4") -> bytes:
    """All stalls' signs, one per page, in stall order, on ``page`` paper ("a4" or "letter").

    Raises ValueError for an unknown page size or a URL too long for a QR code. With no stalls the PDF has a
    single page saying so.
    """
    width, height = _page_size(page)
    if stalls:
        pages: Iterable[list[_Op]] = (_sign_ops(s, event, width, height) for s in stalls)
    else:
        pages = [_notice_ops("No stalls to print yet.", width, height)]
    return _render_pdf(pages, (width, height), _join(_clean(event.name), "stall signs", sep=" — "))


def price_tags_pdf(tags: Sequence[PriceTag], event: SignEvent, page: str = "a4") -> bytes:
    """Sheets of `TAG_COLUMNS` x `TAG_ROWS` price tags with cut lines, as many pages as needed.

    Raises ValueError for an unknown page size or a URL too long for a QR code. With no tags the PDF has a single
    page saying so.
    """
    width, height = _page_size(page)
    pages: Iterable[list[_Op]] = (
        _tag_pages(tags, event, width, height) if tags else [_notice_ops("No price tags to print.", width, height)]
    )
    return _render_pdf(pages, (width, height), _join(_clean(event.name), "price tags", sep=" — "))


# --- SVG rendering ----------------------------------------------------------------------------------------


def _esc(text: str) -> str:
    """XML-escape text and attribute values (quotes too, so the same helper is safe in attributes)."""
    return html.escape(text, quote=True)


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _svg_gray(gray: float) -> str:
    """A CSS colour for a PDF gray level (0 black .. 1 white)."""
    return "#" + f"{round(max(0.0, min(1.0, gray)) * 255):02x}" * 3


def _svg_text(op: _Text, height: float) -> str:
    """An SVG text element. The browser does Arabic joining and bidi itself, so the logical text is emitted; the
    base direction is set explicitly (what ``dir=auto`` would pick) because SVG has no ``dir`` attribute."""
    rtl = _is_rtl(op.text)
    anchor = {"center": "middle", "left": "end" if rtl else "start", "right": "start" if rtl else "end"}[op.align]
    fill = _svg_gray(op.gray)
    attrs = [
        f'x="{_num(op.x)}"',
        f'y="{_num(height - op.y)}"',
        f'font-size="{_num(op.size)}"',
        f'text-anchor="{anchor}"',
        f'fill="{fill}"',
    ]
    if op.bold:
        attrs.append('font-weight="bold"')
    attrs.append(f'direction="{"rtl" if rtl else "ltr"}" unicode-bidi="embed"')
    return f"<text {' '.join(attrs)}>{_esc(op.text)}</text>"


def _svg_qr(op: _QR, height: float) -> str:
    """The QR as one path in module units, scaled into place; ``crispEdges`` keeps module edges sharp."""
    n = len(op.matrix)
    if n == 0 or op.size <= 0:
        return ""
    d = "".join(f"M{col} {row}h{length}v1h-{length}z" for row, col, length in _dark_runs(op.matrix))
    top = height - op.y - op.size
    scale = op.size / n
    return (
        f'<g transform="translate({_num(op.x)} {_num(top)}) scale({scale:.5f})">'
        f'<rect width="{n}" height="{n}" fill="#fff"/>'
        f'<path d="{d}" fill="#000" shape-rendering="crispEdges"/></g>'
    )


def _svg_line(op: _Line, height: float) -> str:
    gray = _svg_gray(op.gray)
    dash = f' stroke-dasharray="{" ".join(_num(d) for d in op.dash)}"' if op.dash else ""
    return (
        f'<line x1="{_num(op.x1)}" y1="{_num(height - op.y1)}" x2="{_num(op.x2)}" y2="{_num(height - op.y2)}" '
        f'stroke="{gray}" stroke-width="{_num(op.width)}"{dash}/>'
    )


def stall_sign_svg(stall: SignStall, event: SignEvent) -> str:
    """One A4-proportioned sign as a standalone SVG document (no XML declaration, so it can also be inlined in
    HTML). Same layout as the PDF; all text is XML-escaped; the QR is vector. Raises ValueError if the URL is too
    long for a QR code."""
    width, height = _page_size("a4")
    body: list[str] = []
    for op in _sign_ops(stall, event, width, height):
        if isinstance(op, _Text):
            body.append(_svg_text(op, height))
        elif isinstance(op, _QR):
            body.append(_svg_qr(op, height))
        else:
            body.append(_svg_line(op, height))
    label = _esc(_join(_clean(stall.name), f"Stall {_clean(stall.number)}" if _clean(stall.number) else ""))
    font = _esc(SVG_FONT_FAMILY)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_num(width)} {_num(height)}" '
        f'width="210mm" height="297mm" role="img" aria-label="{label}" font-family="{font}">'
        f"<title>{label}</title>"
        f'<rect width="100%" height="100%" fill="#fff"/>' + "".join(body) + "</svg>"
    )
