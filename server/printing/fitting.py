"""Fitting text into a width: shrink to fit, break into lines, and truncate with an ellipsis as a last resort.

All measuring goes through a `Typeset`, so the width is what the PDF will really print (fallback fonts, Arabic
joining and all). Text is logical (reading order) throughout; shaping for display happens when it is drawn.
"""

from __future__ import annotations

from server.printing.shaping import Typeset

_ELLIPSIS = "…"


def truncate(fonts: Typeset, text: str, size: float, bold: bool, max_width: float) -> str:
    """The longest prefix of ``text`` (plus an ellipsis) that fits; truncation is on logical text, so an RTL
    name loses its end and the ellipsis lands on the left, as a reader expects."""
    if fonts.width(text, size, bold) <= max_width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fonts.width(text[:mid].rstrip() + _ELLIPSIS, size, bold) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + _ELLIPSIS


def fit_line(
    fonts: Typeset, text: str, bold: bool, max_width: float, max_size: float, min_size: float
) -> tuple[str, float]:
    """Shrink ``text`` from ``max_size`` down to ``min_size`` to fit one line; truncate if even that is too wide."""
    width = fonts.width(text, max_size, bold)
    if width <= max_width:
        return text, max_size
    size = max_size * max_width / width
    if size >= min_size:
        return text, size
    return truncate(fonts, text, min_size, bold, max_width), min_size


def _break_points(text: str) -> list[int]:
    """Where a line may break: after spaces; in text without spaces (e.g. Japanese), between any characters."""
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    return spaces if spaces else list(range(1, len(text)))


def wrap(fonts: Typeset, text: str, bold: bool, size: float, max_width: float, max_lines: int) -> list[str]:
    """Greedy wrap into at most ``max_lines`` lines at ``size``; the last line is truncated if text remains."""
    lines: list[str] = []
    rest = text
    while rest and len(lines) < max_lines - 1:
        if fonts.width(rest, size, bold) <= max_width:
            break
        fitting = [i for i in _break_points(rest) if fonts.width(rest[:i].rstrip(), size, bold) <= max_width]
        if not fitting:
            break
        cut = fitting[-1]
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        lines.append(truncate(fonts, rest, size, bold, max_width))
    return lines


def fit_block(
    fonts: Typeset, text: str, bold: bool, max_width: float, max_size: float, min_size: float, max_lines: int
) -> tuple[list[str], float]:
    """Fit a heading: one line as large as possible; else two balanced lines; else wrapped and truncated."""
    line, size = fit_line(fonts, text, bold, max_width, max_size, min_size)
    if line == text or max_lines < 2:
        return [line], size
    best: tuple[float, int] | None = None
    for i in _break_points(text):
        widest = max(fonts.width(text[:i].rstrip(), 1.0, bold), fonts.width(text[i:].lstrip(), 1.0, bold))
        if widest > 0 and (best is None or widest < best[0]):
            best = (widest, i)
    if best is not None:
        two_size = min(max_size, max_width / best[0])
        if two_size >= min_size:
            cut = best[1]
            return [text[:cut].rstrip(), text[cut:].lstrip()], two_size
    return wrap(fonts, text, bold, min_size, max_width, max_lines), min_size
