"""The servers' logs, checked once they stopped: length, and each traceback said by its
exception line (counted), not printed whole: a load run can log the same error many times."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from harness.stats import counts

CHAINED = ("During handling", "The above exception")  # between two tracebacks of one chain


def exceptions(text: str) -> Counter[str]:
    """The exception line ending each traceback of a log, counted."""
    found: Counter[str] = Counter()
    inside = False
    for line in text.splitlines():
        if line.startswith("Traceback"):
            inside = True
        elif inside and line and not line[0].isspace() and not line.startswith(CHAINED):
            found[line[:200]] += 1
            inside = False
    return found


def check_logs(logs: list[Path], label: str) -> Counter[str]:
    """Print one line for a configuration's logs; return their exceptions."""
    found: Counter[str] = Counter()
    lines = 0
    for log in logs:
        text = log.read_text(errors="replace")
        lines += len(text.splitlines())
        found += exceptions(text)
    said = counts(found, " ×", "none")
    print(f"  {label}: {len(logs)} log(s), {lines} lines; tracebacks: {said}")
    return found
