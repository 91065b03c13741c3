"""The one QR maker: stall and item links as a module matrix, an SVG document or a PNG.

Every QR the server draws (printed signs and price tags, the stall's `/s/{code}/qr.svg|png`, the kiosk's large
codes) comes from `qr_matrix`, so they all share one setting: error correction M (survives ~15% damage, such as a
crease or a raindrop, while keeping modules large) and the standard 4-module quiet zone.

Drawing costs several milliseconds and a code is printed or scanned many times, so matrices and rendered images
are kept in small in-memory caches keyed by URL.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator

import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M
from qrcode.exceptions import DataOverflowError

Matrix = tuple[tuple[bool, ...], ...]

QUIET_ZONE = 4
"""Light modules around the symbol: the standard's minimum, which scanners rely on."""


@functools.lru_cache(maxsize=1024)
def qr_matrix(url: str) -> Matrix:
    """The QR module matrix for ``url``, quiet zone included (True is a dark module).

    Raises ValueError for a URL too long for any QR code.
    """
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE)
    qr.add_data(url)
    try:
        qr.make(fit=True)
    except (DataOverflowError, ValueError) as exc:  # qrcode reports "version 41" as a ValueError
        raise ValueError(f"URL too long for a QR code ({len(url)} characters)") from exc
    return tuple(tuple(bool(m) for m in row) for row in qr.get_matrix())


def dark_runs(matrix: Matrix) -> Iterator[tuple[int, int, int]]:
    """(row, first column, length) of each horizontal run of dark modules: fewer, larger rectangles, and no
    hairline seams between adjacent ones in renderers that anti-alias each shape."""
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


def svg_path(matrix: Matrix) -> str:
    """The dark modules as one SVG path in module units (one unit per module, origin top-left)."""
    return "".join(f"M{col} {row}h{length}v1h-{length}z" for row, col, length in dark_runs(matrix))


@functools.lru_cache(maxsize=1024)
def qr_svg(url: str, box_size: int = 10) -> bytes:
    """A standalone SVG document (vector: crisp at any print size), ``box_size`` CSS pixels a module."""
    matrix = qr_matrix(url)
    n = len(matrix)
    side = n * box_size
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" width="{side}" height="{side}">'
        f'<rect width="{n}" height="{n}" fill="#fff"/>'
        f'<path d="{svg_path(matrix)}" fill="#000" shape-rendering="crispEdges"/></svg>'
    ).encode()


@functools.lru_cache(maxsize=1024)
def qr_png(url: str, box_size: int = 10) -> bytes:
    """A black-and-white PNG (for chat and sharing), ``box_size`` pixels a module."""
    matrix = qr_matrix(url)
    n = len(matrix)
    image = Image.new("1", (n, n), 1)
    image.putdata([0 if dark else 1 for row in matrix for dark in row])
    buffer = io.BytesIO()
    image.resize((n * box_size, n * box_size), Image.Resampling.NEAREST).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
