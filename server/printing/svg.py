"""A stall sign as SVG: the organizer's on-screen preview, laid out exactly like the printed PDF.

All text is XML-escaped and the QR is vector. The browser does Arabic joining and bidi itself, so SVG text is the
logical text with its base direction set; fonts are a CSS stack, picked per glyph by the browser.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from server.printing.fonts import SVG_FONT_FAMILY
from server.printing.layout import QR, Line, SignEvent, SignStall, Text, join, page_size, sign_page
from server.printing.qr import svg_path
from server.printing.shaping import clean, is_rtl, typeset


def _esc(text: str) -> str:
    """XML-escape text and attribute values (quotes too, so the same helper is safe in attributes)."""
    return html.escape(text, quote=True)


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _gray(gray: float) -> str:
    """A CSS colour for a PDF gray level (0 black .. 1 white)."""
    return "#" + f"{round(max(0.0, min(1.0, gray)) * 255):02x}" * 3


def _text(op: Text, height: float) -> str:
    """An SVG text element. The base direction is set explicitly (what ``dir=auto`` would pick) because SVG has
    no ``dir`` attribute."""
    rtl = is_rtl(op.text)
    anchor = {"center": "middle", "left": "end" if rtl else "start", "right": "start" if rtl else "end"}[op.align]
    attrs = [
        f'x="{_num(op.x)}"',
        f'y="{_num(height - op.y)}"',
        f'font-size="{_num(op.size)}"',
        f'text-anchor="{anchor}"',
        f'fill="{_gray(op.gray)}"',
    ]
    if op.bold:
        attrs.append('font-weight="bold"')
    attrs.append(f'direction="{"rtl" if rtl else "ltr"}" unicode-bidi="embed"')
    return f"<text {' '.join(attrs)}>{_esc(op.text)}</text>"


def _qr(op: QR, height: float) -> str:
    """The QR as one path in module units, scaled into place; ``crispEdges`` keeps module edges sharp."""
    n = len(op.matrix)
    if n == 0 or op.size <= 0:
        return ""
    top = height - op.y - op.size
    scale = op.size / n
    return (
        f'<g transform="translate({_num(op.x)} {_num(top)}) scale({scale:.5f})">'
        f'<rect width="{n}" height="{n}" fill="#fff"/>'
        f'<path d="{svg_path(op.matrix)}" fill="#000" shape-rendering="crispEdges"/></g>'
    )


def _line(op: Line, height: float) -> str:
    dash = f' stroke-dasharray="{" ".join(_num(d) for d in op.dash)}"' if op.dash else ""
    return (
        f'<line x1="{_num(op.x1)}" y1="{_num(height - op.y1)}" x2="{_num(op.x2)}" y2="{_num(height - op.y2)}" '
        f'stroke="{_gray(op.gray)}" stroke-width="{_num(op.width)}"{dash}/>'
    )


def stall_sign_svg(stall: SignStall, event: SignEvent, *, font_dirs: Sequence[Path] = ()) -> str:
    """One A4-proportioned sign as a standalone SVG document (no XML declaration, so it can also be inlined in
    HTML). Same layout as the PDF (``font_dirs`` as there: text is measured with the printing fonts). Raises
    ValueError if the URL is too long for a QR code."""
    width, height = page_size("a4")
    body: list[str] = []
    for op in sign_page(typeset(font_dirs), stall, event, width, height):
        if isinstance(op, Text):
            body.append(_text(op, height))
        elif isinstance(op, QR):
            body.append(_qr(op, height))
        else:
            body.append(_line(op, height))
    label = _esc(join(clean(stall.name), f"Stall {clean(stall.number)}" if clean(stall.number) else ""))
    font = _esc(SVG_FONT_FAMILY)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_num(width)} {_num(height)}" '
        f'width="210mm" height="297mm" role="img" aria-label="{label}" font-family="{font}">'
        f"<title>{label}</title>"
        f'<rect width="100%" height="100%" fill="#fff"/>' + "".join(body) + "</svg>"
    )
