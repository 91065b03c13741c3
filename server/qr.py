"""QR codes for stall links, as SVG (crisp at any print size) and PNG (for chat and sharing).

Rendering costs several milliseconds, and a sign is printed or scanned many times, so
rendered codes are kept in a small in-memory cache keyed by URL and format.
"""

from __future__ import annotations

import io
from functools import lru_cache

import qrcode
import qrcode.constants
from qrcode.image.svg import SvgPathImage


@lru_cache(maxsize=1024)
def qr_svg(url: str) -> bytes:
    image = qrcode.make(
        url, image_factory=SvgPathImage, box_size=10, border=4, error_correction=qrcode.constants.ERROR_CORRECT_M
    )
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


@lru_cache(maxsize=1024)
def qr_png(url: str, box_size: int = 10) -> bytes:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=4)
    qr.add_data(url)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()
