"""Printable stall signs and price tags (server.printing), checked the way a printer and a phone would see them.

Every PDF page is rasterised by PDFium (pypdfium2) and every SVG by Chromium, then decoded by zxing-cpp: none of
these share code with the generator, so a QR that decodes here is a QR that scans. Glyph coverage is checked
with FreeType (via Pillow) against the fonts PDFium reports for each character, so "renders, not empty boxes" is
verified independently too. Plain pytest: no database fixtures.
"""

from __future__ import annotations

import ctypes
import io
import shutil
import time
import unicodedata
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
import pytest
import zxingcpp
from PIL import Image, ImageFont

from server.printing.fonts import FONT_ROOTS, find_fonts
from server.printing.layout import PAGE_SIZES, SCAN_PROMPT, PriceTag, SignEvent, SignStall
from server.printing.pdf import price_tags_pdf, stall_signs_pdf
from server.printing.shaping import uncovered_characters
from server.printing.svg import stall_sign_svg
from tests.browser import CHROMIUM, CHROMIUM_ARGS

EVENT = SignEvent("Ripe Market — January", "#RipeMarketJan")

# Paper sizes in points, from their definitions (not from the module under test).
A4_PT = (210 / 25.4 * 72, 297 / 25.4 * 72)
LETTER_PT = (8.5 * 72, 11 * 72)
EXPECTED_SIZE = {"a4": A4_PT, "letter": LETTER_PT}

NAMES = [
    "عسل الجبل",
    "緑の庭",
    "Café Lumière",
    "Mabel's Honey",
    "Ελληνικό Μέλι",
    "Пасека Ивана",
    "Crêpes & Galettes <Chez Zoë>",
    "Bäckerei Müller-Lüdenscheidt und Söhne: Brot, Brötchen, Kuchen und Torten",
    "مخبز الياسمين",
    "さくら和菓子店",
    "Ñandú Empanadas",
    "Łódź Pierogi",
]


def _code(i: int) -> str:
    """A deterministic 8-character stall code, like the app's."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    n = i * 7919 + 123456
    out = ""
    for _ in range(8):
        n, r = divmod(n, len(alphabet))
        out += alphabet[r]
    return out


def _stalls(count: int) -> list[SignStall]:
    return [
        SignStall(
            name=NAMES[i % len(NAMES)],
            number=f"{'ABCDEFG'[i // 12]}{i % 12 + 1}",
            location=f"Row {'ABCDEFG'[i // 12]}, by the fountain",
            store_tag=f"#Stall{i}",
            url=f"https://market.example.org/s/{_code(i)}",
        )
        for i in range(count)
    ]


def _render(page: pdfium.PdfPage, dpi: int) -> Image.Image:
    image: Image.Image = page.render(scale=dpi / 72).to_pil()
    return image


def _decode(image: Image.Image) -> list[zxingcpp.Barcode]:
    return list(zxingcpp.read_barcodes(image))


def _symbol_mm(barcode: zxingcpp.Barcode, dpi: int) -> float:
    """Printed width of the QR symbol (finder pattern to finder pattern, no quiet zone) in millimetres."""
    pos = barcode.position
    return float(abs(pos.top_right.x - pos.top_left.x)) / dpi * 25.4


def _page_text(page: pdfium.PdfPage) -> str:
    return unicodedata.normalize("NFKC", page.get_textpage().get_text_range())


# --- all stalls' signs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_every_sign_page_decodes_to_its_stall_url(paper: str) -> None:
    stalls = _stalls(84)
    doc = pdfium.PdfDocument(stall_signs_pdf(stalls, EVENT, paper))
    assert len(doc) == 84
    dpi = 100
    for page, stall in zip(doc, stalls, strict=True):
        width, height = page.get_size()
        assert width == pytest.approx(EXPECTED_SIZE[paper][0], abs=0.5)
        assert height == pytest.approx(EXPECTED_SIZE[paper][1], abs=0.5)
        codes = _decode(_render(page, dpi))
        assert [c.text for c in codes] == [stall.url], stall
        assert _symbol_mm(codes[0], dpi) >= 90, "sign QR must be >= 9 cm to scan from 1-2 m"
        text = _page_text(page)
        assert f"Stall {stall.number}" in text
        assert stall.store_tag in text and SCAN_PROMPT in text and EVENT.hashtag in text


@pytest.mark.parametrize("name", ["عسل الجبل", "緑の庭", "Café Lumière", "Ελληνικό Μέλι", "さくら和菓子店"])
def test_stall_names_are_printed_with_real_glyphs(name: str) -> None:
    """The PDF's text layer carries the name, and every character of it is drawn with a font that has a glyph
    for it (checked with FreeType), so it does not print as empty boxes."""
    missing = uncovered_characters(name)
    if missing:
        pytest.skip(f"no font on this machine covers {sorted(missing)} (install fonts-droid-fallback)")
    stall = SignStall(name, "C3", "Row C", "#Shop", "https://market.example.org/s/abcdefgh")
    page = pdfium.PdfDocument(stall_signs_pdf([stall], EVENT))[0]
    assert unicodedata.normalize("NFKC", name) in _page_text(page)
    drawn = _chars_with_fonts(page)
    for ch in set(name) - {" "}:
        fonts = {font for c, font in drawn if c == ch}
        assert fonts, f"{ch!r} not in the PDF text layer"
        for font in fonts:
            assert _font_has_glyph(font, ch), f"{ch!r} drawn with {font}, which has no glyph for it"


def _chars_with_fonts(page: pdfium.PdfPage) -> list[tuple[str, str]]:
    """(character, PostScript font name) for each character PDFium finds on the page."""
    textpage = page.get_textpage()
    out = []
    for i in range(textpage.count_chars()):
        buf = ctypes.create_string_buffer(256)
        flags = ctypes.c_int()
        pdfium_raw.FPDFText_GetFontInfo(textpage.raw, i, buf, 256, ctypes.byref(flags))
        ch = chr(pdfium_raw.FPDFText_GetUnicode(textpage.raw, i))
        out.append((ch, buf.value.decode("latin-1").split("+")[-1]))
    return out


@cache
def _font_files() -> dict[str, Path]:
    """PostScript name -> file for the TrueType fonts on this machine (read from each file's name table)."""
    from reportlab.pdfbase.ttfonts import TTFontFile

    files: dict[str, Path] = {}
    for root in FONT_ROOTS:
        for path in sorted(root.rglob("*.ttf")) if root.is_dir() else []:
            try:
                files.setdefault(TTFontFile(str(path)).name.decode("latin-1"), path)
            except Exception:
                continue
    return files


def _font_has_glyph(ps_name: str, ch: str) -> bool:
    """FreeType's view: a character without a glyph renders as the font's .notdef glyph (same as a private-use
    code point no font defines)."""
    path = _font_files().get(ps_name)
    assert path is not None, f"PDF uses font {ps_name!r}, not found on this machine"
    font = ImageFont.truetype(str(path), 48, layout_engine=ImageFont.Layout.BASIC)
    glyph, notdef = font.getmask(ch), font.getmask("\U0010fffd")
    return bool(glyph.size != notdef.size or bytes(glyph) != bytes(notdef))


def test_characters_no_font_has_print_without_crashing() -> None:
    name = "𓀀𓀁 Hieroglyph Stall"
    assert uncovered_characters(name) == {"𓀀", "𓀁"}
    stall = SignStall(name, "Z9", "Back row", "#Glyphs", "https://market.example.org/s/zzzzzzzz")
    page = pdfium.PdfDocument(stall_signs_pdf([stall], EVENT))[0]
    assert [c.text for c in _decode(_render(page, 100))] == [stall.url]
    assert "Stall Z9" in _page_text(page)


def test_long_and_hostile_text_stays_on_the_page() -> None:
    """Very long fields are shrunk/truncated, not drawn off the page; control characters are dropped."""
    stall = SignStall(
        "Stall\x00name " + "very " * 60 + "long",
        "A1",
        "Row A " * 40,
        "#" + "x" * 200,
        "https://market.example.org/s/abcdefgh",
    )
    page = pdfium.PdfDocument(stall_signs_pdf([stall], SignEvent("E" * 300, "#" + "h" * 300)))[0]
    width, _ = page.get_size()
    textpage = page.get_textpage()
    for i in range(textpage.count_chars()):
        left, _bottom, right, _top = textpage.get_charbox(i)
        assert left >= 0 and right <= width, (i, textpage.get_text_range(i, 1))
    assert "\x00" not in textpage.get_text_range()
    assert [c.text for c in _decode(_render(page, 100))] == [stall.url]


def test_pdf_is_deterministic_and_empty_input_gives_a_notice_page() -> None:
    stalls = _stalls(5)
    assert stall_signs_pdf(stalls, EVENT) == stall_signs_pdf(stalls, EVENT)
    for pdf in (stall_signs_pdf([], EVENT), price_tags_pdf([], EVENT, "letter")):
        doc = pdfium.PdfDocument(pdf)
        assert len(doc) == 1 and "print" in _page_text(doc[0])


def test_unknown_page_size_is_rejected() -> None:
    assert set(PAGE_SIZES) == {"a4", "letter"}
    for bad in ("a5", "", "legal"):
        with pytest.raises(ValueError, match="page size"):
            stall_signs_pdf(_stalls(1), EVENT, bad)
        with pytest.raises(ValueError, match="page size"):
            price_tags_pdf([PriceTag("Jam", "£4", "https://market.example.org/i/1")], EVENT, bad)
    assert stall_signs_pdf(_stalls(1), EVENT, "A4")  # case-insensitive


def test_url_too_long_for_a_qr_is_a_value_error() -> None:
    stall = SignStall("X", "1", "", "", "https://market.example.org/" + "a" * 5000)
    with pytest.raises(ValueError, match="too long"):
        stall_signs_pdf([stall], EVENT)


def test_300_signs_build_quickly() -> None:
    stalls = _stalls(84) * 3 + _stalls(48)
    start = time.perf_counter()
    pdf = stall_signs_pdf(stalls, EVENT)
    elapsed = time.perf_counter() - start
    assert len(pdfium.PdfDocument(pdf)) == 300
    assert elapsed < 30, f"300 signs took {elapsed:.1f}s"


# --- price tags -------------------------------------------------------------------------------------------

TITLES = [
    "Wildflower honey 340g",
    "عسل السدر الجبلي الفاخر",
    "抹茶ロールケーキ",
    "Confiture de fraises à l'ancienne, pot en verre consigné, édition limitée",
    'Jam <b>&amp;</b> "quotes"',
    "X",
]


def _tags(count: int) -> list[PriceTag]:
    return [
        PriceTag(
            TITLES[i % len(TITLES)],
            f"£{i}.50" if i % 2 else f"{i},234.00 GBP",
            f"https://market.example.org/i/{_code(1000 + i)}",
        )
        for i in range(count)
    ]


@pytest.mark.parametrize(("paper", "count", "pages"), [("a4", 50, 3), ("letter", 24, 1), ("letter", 25, 2)])
def test_price_tag_sheets_decode_to_their_urls(paper: str, count: int, pages: int) -> None:
    tags = _tags(count)
    doc = pdfium.PdfDocument(price_tags_pdf(tags, EVENT, paper))
    assert len(doc) == pages
    dpi = 150
    for index, page in enumerate(doc):
        assert page.get_size()[0] == pytest.approx(EXPECTED_SIZE[paper][0], abs=0.5)
        expected = tags[index * 24 : (index + 1) * 24]
        codes = _decode(_render(page, dpi))
        assert sorted(c.text for c in codes) == sorted(t.url for t in expected)
        assert min(_symbol_mm(c, dpi) for c in codes) >= 25, "tag QR must be >= 2.5 cm"
        text = _page_text(page)
        for tag in expected:
            assert tag.price_text in text


# --- SVG sign ---------------------------------------------------------------------------------------------

SVG_NS = "{http://www.w3.org/2000/svg}"


def test_svg_sign_is_escaped_well_formed_xml() -> None:
    hostile = 'Mabel\'s "Best" <script>alert(1)</script> & Co'
    svg = stall_sign_svg(
        SignStall(hostile, "A12", "Row A <b>", "#Mabel&Co", "https://market.example.org/s/k3m9x2ab"), EVENT
    )
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    assert "<script" not in svg and "&lt;script&gt;" in svg and "&amp; Co" in svg and "<b>" not in svg
    title = root.find(f"{SVG_NS}title")
    assert title is not None and (title.text or "").startswith(hostile)  # the full name, round-tripped
    texts = [t.text or "" for t in root.iter(f"{SVG_NS}text")]
    # The printed heading may be wrapped and truncated to fit, but starts with the name, unmangled.
    assert "".join(texts).replace(" ", "").startswith(hostile.replace(" ", "")[:30])
    assert any("Stall A12" in t for t in texts) and any(SCAN_PROMPT in t for t in texts)


def test_svg_sign_marks_rtl_names() -> None:
    root = ET.fromstring(stall_sign_svg(_stalls(1)[0], EVENT))
    name = next(t for t in root.iter(f"{SVG_NS}text") if t.text == "عسل الجبل")
    assert name.get("direction") == "rtl"
    latin = next(t for t in root.iter(f"{SVG_NS}text") if (t.text or "").startswith("Stall"))
    assert latin.get("direction") == "ltr"


@pytest.mark.parametrize("name", ["عسل الجبل", 'Café <Lumière> & "Co"'])
def test_svg_sign_qr_decodes_in_chromium(name: str) -> None:
    from playwright.sync_api import sync_playwright

    url = "https://market.example.org/s/k3m9x2ab"
    svg = stall_sign_svg(SignStall(name, "A12", "Row A, by the fountain", "#MabelsHoney", url), EVENT)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 800, "height": 1130})
            page.set_content(f"<body style='margin:0;background:#fff'>{svg}</body>")
            assert page.eval_on_selector_all("script", "s => s.length") == 0
            shot = page.screenshot(full_page=True)
        finally:
            browser.close()
    image = Image.open(io.BytesIO(shot))
    codes = _decode(image)
    assert [c.text for c in codes] == [url]
    # 210 mm renders as ~794 CSS px: the symbol must be >= 9 cm of that.
    assert _symbol_mm(codes[0], 96) >= 90


# --- font discovery ---------------------------------------------------------------------------------------


def test_find_fonts_searches_given_roots(tmp_path: Path) -> None:
    assert find_fonts([tmp_path]) == []
    system = find_fonts()
    if not system:
        pytest.skip("no fonts installed (install fonts-dejavu-core)")
    shutil.copy(system[0].regular, tmp_path / system[0].regular.name)
    found = find_fonts([tmp_path])
    assert [f.key for f in found] == [system[0].key]
    assert found[0].regular.parent == tmp_path
