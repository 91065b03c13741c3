"""Text for print: cleaning, bidi direction, and shaping onto the machine's fonts.

Text is drawn with TrueType fonts found on the machine (`server.printing.fonts`), choosing per character the first
font that has a glyph, so a Japanese or Arabic name is not printed as empty boxes. Arabic is joined (contextual
letter forms) and reordered for display with ``arabic-reshaper`` and ``python-bidi`` when they are installed;
without them the letters are printed unjoined, in logical order, rather than failing.

`typeset(font_dirs)` gives the `Typeset` for a font setting: the registered faces, how wide a text prints and the
font runs it is drawn in. It is built once per setting (registration with ReportLab is process-global).
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped, unused-ignore]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped, unused-ignore]

from server.printing.fonts import find_fonts, font_roots

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]+")
_SPACES = re.compile(r"\s+")


def clean(text: str) -> str:
    """Printable single-line text: control characters (never valid in XML, meaningless on paper) become spaces,
    runs of whitespace collapse, and the result is NFC so a decomposed "é" measures and renders as one glyph."""
    text = _UNPRINTABLE.sub(" ", unicodedata.normalize("NFC", text))
    return _SPACES.sub(" ", text).strip()


def is_rtl(text: str) -> bool:
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


@dataclass(frozen=True)
class Face:
    """A font registered with ReportLab and the code points it has glyphs for."""

    name: str
    covers: Callable[[int], bool]


@dataclass(frozen=True)
class Typeset:
    """Fallback chains for regular and bold text, plus the display shaper built for them."""

    regular: tuple[Face, ...]
    bold: tuple[Face, ...]
    shape: Callable[[str], str] | None

    def chain(self, bold: bool) -> tuple[Face, ...]:
        return self.bold if bold else self.regular

    def visual(self, text: str) -> str:
        """Display-order, joined text for left-to-right glyph placement (identity for text without RTL runs)."""
        return self.shape(text) if self.shape is not None and _needs_bidi(text) else text

    def runs(self, text: str, bold: bool) -> list[tuple[str, str]]:
        """Split logical ``text`` into display-order (font name, text) runs, picking per character the first font
        with a glyph.

        Spaces, punctuation and marks stay in the current font when it has them, so mixed text is not chopped
        into needlessly many runs. A character no font has goes to the current (or first) font: it prints as that
        font's "missing glyph" box, which is the best that can be done and never an error.
        """
        chain = self.chain(bold)
        runs: list[tuple[str, str]] = []
        current: Face | None = None
        buf: list[str] = []
        for ch in self.visual(text):
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

    def width(self, text: str, size: float, bold: bool) -> float:
        """Printed width in points of logical ``text`` at ``size``."""
        return sum(float(pdfmetrics.stringWidth(s, name, size)) for name, s in self.runs(text, bold))

    def uncovered(self, text: str) -> set[str]:
        """Characters of ``text`` that no font can draw (they would print as boxes)."""
        return {ch for ch in clean(text) if not ch.isspace() and not any(f.covers(ord(ch)) for f in self.regular)}


def _cp1252_covers(code: int) -> bool:
    try:
        chr(code).encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _register(key: str, path: Path, subfont: int) -> Face | None:
    """Register one TrueType file with ReportLab; a file it cannot read (CFF outlines, damaged) is skipped, so a
    bad font on the machine costs coverage, not the whole document. The name carries a digest of the path, so
    two font settings in one process never replace each other's registration."""
    name = f"Souk-{key}-{hashlib.sha256(str(path).encode()).hexdigest()[:8]}"
    try:
        font = TTFont(name, str(path), subfontIndex=subfont)
        pdfmetrics.registerFont(font)
    except Exception:
        return None
    cmap: dict[int, int] = font.face.charToGlyph
    return Face(name, cmap.__contains__)


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


def typeset(font_dirs: Sequence[Path] = ()) -> Typeset:
    """The fonts for printing: ``font_dirs`` (the operator's setting) searched before the standard places."""
    return _typeset(tuple(Path(d) for d in font_dirs))


@functools.cache
def _typeset(font_dirs: tuple[Path, ...]) -> Typeset:
    """Discover and register fonts once per process and setting (registration is global in ReportLab)."""
    regular: list[Face] = []
    bold: list[Face] = []
    for face in find_fonts(font_roots(font_dirs)):
        reg = _register(face.key, face.regular, face.subfont)
        if reg is None:
            continue
        regular.append(reg)
        bold_face = _register(face.key + "-Bold", face.bold, face.subfont) if face.bold else None
        bold.append(bold_face or reg)
    if not regular:
        # A bare machine: the PDF built-ins cover Western European text only; better than nothing.
        regular = [Face("Helvetica", _cp1252_covers)]
        bold = [Face("Helvetica-Bold", _cp1252_covers)]
    faces = regular + bold

    def any_covers(code: int) -> bool:
        return any(f.covers(code) for f in faces)

    return Typeset(tuple(regular), tuple(bold), _load_shaper(any_covers))


def uncovered_characters(text: str, font_dirs: Sequence[Path] = ()) -> set[str]:
    """Characters of ``text`` that no available font can draw (they would print as boxes).

    Lets an admin screen warn before printing, and lets tests check the machine's font setup.
    """
    return typeset(font_dirs).uncovered(text)
