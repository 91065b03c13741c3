"""The machine and its processes, from /proc: load average, CPU time, RSS, open files, limits.

Standard library only: `bench_photo_memory.py`'s measuring child imports it.
"""

from __future__ import annotations

import contextlib
import os
import resource
from collections.abc import Sequence
from pathlib import Path


def load_average() -> str:
    """The load average, said with the number of CPUs (the machine may be shared)."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min, {os.cpu_count()} CPUs)"


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (uvicorn's workers, if any), from /proc."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{current}/task"):
                todo += [int(c) for c in Path(f"/proc/{current}/task/{task}/children").read_text().split()]
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_of(pids: Sequence[int]) -> dict[int, float]:
    return {pid: cpu_seconds(pid) for pid in pids}


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two snapshots; a process born in between counts whole."""
    return sum(max(0.0, spent - before.get(pid, 0.0)) for pid, spent in after.items())


def memory(pid: int | str = "self") -> dict[str, int]:
    """VmRSS and VmHWM (the peak) of a process (this one by default), in bytes; {} if it is gone."""
    fields = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) * 1024
    return fields


def rss_mb(pid: int) -> float:
    return memory(pid).get("VmRSS", 0) / 1024 / 1024


def reset_peak(pid: int | str = "self") -> bool:
    """Reset a process's RSS high-water mark (VmHWM); False if /proc refuses."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def raise_fd_limit(needed: int) -> str:
    """Raise this process's open-file limit to `needed` (the hard limit at most); what was done."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return f"open-file limit {soft} (hard {hard}): enough for the {needed} wanted"
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < needed:
        return f"open-file limit raised {soft} → {target} (hard limit {hard}); {needed} wanted, expect failures"
    return f"open-file limit raised {soft} → {target} (hard {hard})"
