"""How long a new node needs before its search index serves the market it joins: `souk reindex`
on an empty data folder (the command an operator runs), and a fresh `souk serve` on an empty
data folder timed from its start until /api/health says its index has caught up with the log."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from harness import ROOT
from harness.machine import cpu_seconds, process_tree
from harness.process import souk_environment, start_souk, stop_souk

from scaleout_bench.logs import check_logs


@dataclass(frozen=True)
class Build:
    what: str  # "souk reindex" | "new node"
    items: int
    seconds: float | None  # None: not measured (see note)
    cpu_seconds: float | None
    note: str = ""


def timed_reindex(data_dir: Path, env: dict[str, str], items: int) -> Build:
    """`souk reindex` in a new process on an empty data folder: wall and CPU time, start to exit
    (interpreter start and migration check included, as an operator would see it)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    before = os.times()
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "reindex"],
        env=souk_environment(data_dir, **env),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - began
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    if done.returncode != 0:
        return Build("souk reindex", items, None, None, f"failed ({done.returncode}): {done.stderr[-500:]}")
    said = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    return Build("souk reindex", items, wall, cpu, said)


def search_state(health: dict[str, Any]) -> tuple[int, int] | None:
    """(indexed_seq, log_seq) from /api/health, None when it does not say (before the
    per-machine search index, health had no "search")."""
    search = health.get("search")
    if not isinstance(search, dict) or "indexed_seq" not in search:
        return None
    return int(search["indexed_seq"]), int(health.get("log_seq", 0))


def timed_new_node(data_dir: Path, log: Path, env: dict[str, str], items: int, limit: float) -> Build:
    """A fresh `souk serve` (one worker) on an empty data folder: seconds from its start until
    /api/health reports indexed_seq >= log_seq (the log head read when it first answered)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    server = start_souk(data_dir, log, {**env, "SOUK_WORKERS": "1"}, wait_seconds=limit)
    answered = time.perf_counter() - began
    try:
        state = search_state(httpx.get(f"{server.base}/api/health", timeout=10).json())
        if state is None:
            return Build("new node", items, None, None, "/api/health does not report search.indexed_seq")
        target = state[1]
        deadline = began + limit
        while state is not None and state[0] < target:
            if time.perf_counter() > deadline:
                return Build("new node", items, None, None, f"not caught up after {limit:.0f} s: {state}")
            time.sleep(0.05)
            state = search_state(httpx.get(f"{server.base}/api/health", timeout=10).json())
        wall = time.perf_counter() - began
        cpu = sum(cpu_seconds(pid) for pid in process_tree(server.process.pid))
        return Build("new node", items, wall, cpu, f"first answered /api/health after {answered:.1f} s")
    finally:
        stop_souk(server)
        check_logs([log], "new node's log")
