"""Finding TrueType fonts on this machine for printable signs.

Stall names come from all over the world (Arabic, Japanese, accented Latin…) and the PDF engine's built-in
Helvetica only covers Western European text, so signs need real font files. We look in a short, fixed list of
places where Debian packages put fonts rather than asking fontconfig: the server runs in a slim container where
fontconfig may be absent, and a fixed list keeps the output reproducible from one machine to the next.

Only TrueType-outline files are listed: ReportLab cannot embed CFF-flavoured OpenType (e.g. Noto CJK's .ttc),
so those are deliberately left out.

Debian packages that provide the fonts below (install in the image for full coverage):

- ``fonts-dejavu-core``: DejaVu Sans (Latin, Greek, Cyrillic, Arabic, Hebrew, Armenian, Georgian…).
- ``fonts-droid-fallback``: Droid Sans Fallback (Chinese, Japanese, Korean; ~7 MB, TrueType).
- optional ``fonts-noto-core``, ``fonts-ipafont-gothic``, ``fonts-wqy-zenhei``, ``fonts-liberation2``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

FONT_ROOTS: tuple[Path, ...] = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
)
"""Where Debian (and a locally copied font) lives. The operator's ``font_dirs`` setting (``SOUK_FONT_DIRS``) is
searched first, so a font can be dropped in without rebuilding the image."""


@dataclass(frozen=True)
class FontFace:
    """One usable font family: a regular file and (when present) a bold one.

    ``key`` is a short ASCII identifier used to register the font with the PDF engine; ``family`` is the name a
    browser knows it by (used in SVG ``font-family``); ``subfont`` selects a face inside a ``.ttc`` collection.
    """

    key: str
    family: str
    regular: Path
    bold: Path | None
    subfont: int = 0


@dataclass(frozen=True)
class _Candidate:
    key: str
    family: str
    regular: tuple[str, ...]
    bold: tuple[str, ...]
    subfont: int = 0


# Order matters: the first face that has a glyph for a character draws it. Broad Latin/Arabic coverage first,
# CJK fallbacks last (their Latin glyphs are poorer or missing).
_CANDIDATES: tuple[_Candidate, ...] = (
    _Candidate(
        "DejaVuSans",
        "DejaVu Sans",
        ("truetype/dejavu/DejaVuSans.ttf",),
        ("truetype/dejavu/DejaVuSans-Bold.ttf",),
    ),
    _Candidate(
        "NotoSans",
        "Noto Sans",
        ("truetype/noto/NotoSans-Regular.ttf",),
        ("truetype/noto/NotoSans-Bold.ttf",),
    ),
    _Candidate(
        "NotoSansArabic",
        "Noto Sans Arabic",
        ("truetype/noto/NotoSansArabic-Regular.ttf",),
        ("truetype/noto/NotoSansArabic-Bold.ttf",),
    ),
    _Candidate(
        "LiberationSans",
        "Liberation Sans",
        ("truetype/liberation2/LiberationSans-Regular.ttf", "truetype/liberation/LiberationSans-Regular.ttf"),
        ("truetype/liberation2/LiberationSans-Bold.ttf", "truetype/liberation/LiberationSans-Bold.ttf"),
    ),
    _Candidate(
        "IPAGothic",
        "IPAGothic",
        ("opentype/ipafont-gothic/ipag.ttf", "truetype/ipafont-gothic/ipag.ttf"),
        (),
    ),
    _Candidate(
        "DroidSansFallback",
        "Droid Sans Fallback",
        ("truetype/droid/DroidSansFallbackFull.ttf", "truetype/droid/DroidSansFallback.ttf"),
        (),
    ),
    _Candidate(
        "WenQuanYiZenHei",
        "WenQuanYi Zen Hei",
        ("truetype/wqy/wqy-zenhei.ttc",),
        (),
    ),
)

SVG_FONT_FAMILY = (
    "'DejaVu Sans', 'Noto Sans', 'Noto Sans Arabic', 'Noto Sans CJK JP', 'IPAGothic', "
    "'Droid Sans Fallback', 'WenQuanYi Zen Hei', sans-serif"
)
"""A CSS font stack for SVG text: the browser picks per glyph, so list the same families as the PDF path plus
the CJK fonts browsers commonly have."""


def font_roots(extra: Sequence[Path] = ()) -> tuple[Path, ...]:
    """The directories to search: the operator's ``extra`` ones first (the ``font_dirs`` setting), then the
    standard ones."""
    return tuple(extra) + FONT_ROOTS


def _first_existing(roots: Sequence[Path], relatives: Sequence[str]) -> Path | None:
    """The first file found, trying each relative path under each root, and the bare file name directly in the
    root (so a font copied flat into a ``font_dirs`` folder is found too)."""
    for rel in relatives:
        for root in roots:
            for path in (root / rel, root / Path(rel).name):
                if path.is_file():
                    return path
    return None


def find_fonts(roots: Sequence[Path] | None = None) -> list[FontFace]:
    """All known font faces present under ``roots`` (default: the standard `FONT_ROOTS`), in fallback order.

    May return an empty list (a bare container): callers must then fall back to the PDF built-in fonts.
    """
    search = tuple(roots) if roots is not None else font_roots()
    found: list[FontFace] = []
    for cand in _CANDIDATES:
        regular = _first_existing(search, cand.regular)
        if regular is None:
            continue
        bold = _first_existing(search, cand.bold) if cand.bold else None
        found.append(FontFace(cand.key, cand.family, regular, bold, cand.subfont))
    return found
