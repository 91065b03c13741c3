"""Printable PDFs: every stall's sign, one a page, and sheets of price tags, drawn with ReportLab.

QR codes are vector rectangles (runs of dark modules filled as one path), not embedded bitmaps: crisp at any
printer resolution, and the PDF stays small. Output is deterministic (ReportLab's ``invariant`` mode): the same
input gives the same bytes, so signs can be cached and compared. Building is CPU work: call these in a thread.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped, unused-ignore]
from reportlab.pdfgen import canvas  # type: ignore[import-untyped, unused-ignore]

from server.printing.layout import (
    QR,
    Line,
    Page,
    PriceTag,
    SignEvent,
    SignStall,
    Text,
    join,
    notice_page,
    page_size,
    sign_page,
    tag_pages,
)
from server.printing.qr import dark_runs
from server.printing.shaping import Typeset, clean, typeset


def _pdf_text(c: canvas.Canvas, fonts: Typeset, op: Text) -> None:
    runs = fonts.runs(op.text, op.bold)
    total = sum(float(pdfmetrics.stringWidth(s, name, op.size)) for name, s in runs)
    x = op.x - (total / 2 if op.align == "center" else total if op.align == "right" else 0.0)
    c.setFillGray(op.gray)
    for name, s in runs:
        c.setFont(name, op.size)
        c.drawString(x, op.y, s)
        x += float(pdfmetrics.stringWidth(s, name, op.size))


def _pdf_qr(c: canvas.Canvas, op: QR) -> None:
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
    c.addLiteral(" ".join(f"{col} {row} {length} 1 re" for row, col, length in dark_runs(op.matrix)) + " f")
    c.restoreState()


def _pdf_line(c: canvas.Canvas, op: Line) -> None:
    c.setStrokeGray(op.gray)
    c.setLineWidth(op.width)
    c.setDash(list(op.dash) if op.dash else [])
    c.line(op.x1, op.y1, op.x2, op.y2)


def _render(fonts: Typeset, pages: Iterable[Page], pagesize: tuple[float, float], title: str) -> bytes:
    """Draw each page's operations; ``invariant`` fixes timestamps and IDs so output is reproducible."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=pagesize, invariant=1, pageCompression=1)
    c.setTitle(title)
    c.setAuthor("Souk")
    c.setCreator("Souk")
    for ops in pages:
        for op in ops:
            if isinstance(op, Text):
                _pdf_text(c, fonts, op)
            elif isinstance(op, QR):
                _pdf_qr(c, op)
            else:
                _pdf_line(c, op)
        c.showPage()
    c.save()
    return buf.getvalue()


def stall_signs_pdf(
    stalls: Sequence[SignStall], event: SignEvent, page: str = "a4", *, font_dirs: Sequence[Path] = ()
) -> bytes:
    """All stalls' signs, one per page, in stall order, on ``page`` paper ("a4" or "letter").

    ``font_dirs`` is the operator's font setting (searched before the standard places). Raises ValueError for an
    unknown page size or a URL too long for a QR code. With no stalls the PDF has a single page saying so.
    """
    width, height = page_size(page)
    fonts = typeset(font_dirs)
    if stalls:
        pages: Iterable[Page] = (sign_page(fonts, s, event, width, height) for s in stalls)
    else:
        pages = [notice_page("No stalls to print yet.", width, height)]
    return _render(fonts, pages, (width, height), join(clean(event.name), "stall signs", sep=" — "))


def price_tags_pdf(
    tags: Sequence[PriceTag], event: SignEvent, page: str = "a4", *, font_dirs: Sequence[Path] = ()
) -> bytes:
    """Sheets of `TAG_COLUMNS` x `TAG_ROWS` price tags with cut lines, as many pages as needed.

    Raises ValueError for an unknown page size or a URL too long for a QR code. With no tags the PDF has a single
    page saying so.
    """
    width, height = page_size(page)
    fonts = typeset(font_dirs)
    pages: Iterable[Page] = (
        tag_pages(fonts, tags, event, width, height)
        if tags
        else [notice_page("No price tags to print.", width, height)]
    )
    return _render(fonts, pages, (width, height), join(clean(event.name), "price tags", sep=" — "))
