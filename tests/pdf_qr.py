"""Reading QR codes back out of PDFs the way a phone would see a printout: rasterised by PDFium,
decoded by zxing-cpp (neither shares code with the PDF generator)."""

from __future__ import annotations

import pypdfium2 as pdfium
import zxingcpp


def qr_texts_per_page(pdf: bytes, dpi: int = 100) -> list[list[str]]:
    document = pdfium.PdfDocument(pdf)
    try:
        return [
            sorted(code.text for code in zxingcpp.read_barcodes(page.render(scale=dpi / 72).to_pil()))
            for page in document
        ]
    finally:
        document.close()
