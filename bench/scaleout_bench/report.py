"""The tables bench_scaleout.py prints: one column per configuration, ratios to one process,
and the index build times."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from harness.stats import counts, percentile
from writes_bench.config import CHAT, EDIT, SALE

from scaleout_bench.index_build import Build
from scaleout_bench.load import Window


@dataclass(frozen=True)
class Run:
    """One configuration: how many processes, in which form, what it measured (or why not);
    `window` pools all rounds."""

    processes: int
    form: str  # "workers" | "processes"
    how: str
    window: Window | None
    refused: str = ""
    catch_up_seconds: list[float] = field(default_factory=list)  # per round: until every node's index caught up
    errors: Counter[str] = field(default_factory=Counter)  # exception lines of the servers' logs

    @property
    def short(self) -> str:
        if self.processes == 1:
            return "1 process"
        return f"{self.processes} workers" if self.form == "workers" else f"{self.processes} serve procs"


def ms(values: list[float], q: int) -> str:
    return f"{percentile(values, q) * 1000:.0f}" if values else "-"


def ratio(value: float, base: float) -> str:
    return f"×{value / base:.2f}" if base > 0 else "-"


def op_cell(op: str) -> Callable[[Window], str]:
    return lambda w: f"{ms(w.writes.latencies[op], 50)}/{ms(w.writes.latencies[op], 99)}"


def cpu_per_request(w: Window) -> str:
    """CPU of the servers and of PostgreSQL's backends per request answered in the window (writes
    and searches alike): unlike the rates, this barely depends on what else the machine runs."""
    requests = w.writes.requests_in_window + w.searches.in_window
    return f"{(w.server_cpu + w.backend_cpu) / requests * 1000:.1f}" if requests else "-"


def report_load(runs: list[Run]) -> None:
    measured = [r for r in runs if r.window is not None]
    if not measured:
        print("\nno load window was measured")
        return
    base = next((r for r in measured if r.processes == 1), measured[0])
    assert base.window is not None
    b = base.window
    b99 = percentile(b.searches.latencies, 99) if b.searches.latencies else float("nan")
    width = 17

    def row(name: str, cell: Callable[[Window], str]) -> None:
        print(f"  {name:<46}" + "".join(f"{cell(r.window):>{width}}" for r in measured if r.window is not None))

    counts_said = ", ".join(str(n) for n in sorted({r.processes for r in measured}))
    print(f"\n== Writes and search with {counts_said} processes (PostgreSQL + Redis, one machine), rounds pooled")
    print(f"  {'configuration':<46}" + "".join(f"{r.short:>{width}}" for r in measured))
    row("write clients + search clients", lambda w: f"{w.clients}+{w.search_clients}")
    row("acknowledged writes/s", lambda w: f"{w.writes_per_second:,.0f}")
    row("  ratio to 1 process", lambda w: ratio(w.writes_per_second, b.writes_per_second))
    if any(len(r.window.rounds) > 1 for r in measured if r.window is not None):
        row("  writes/s of each round", lambda w: "/".join(f"{r:,.0f}" for r in w.rounds))
    row("search p50 ms", lambda w: ms(w.searches.latencies, 50))
    row("search p99 ms", lambda w: ms(w.searches.latencies, 99))
    row(
        "  p99 ratio to 1 process (below 1 is faster)",
        lambda w: ratio(percentile(w.searches.latencies, 99), b99) if w.searches.latencies else "-",
    )
    row("searches/s", lambda w: f"{w.searches_per_second:,.0f}")
    row("  ratio to 1 process", lambda w: ratio(w.searches_per_second, b.searches_per_second))
    row("searches with no hit", lambda w: f"{w.searches.empty}/{len(w.searches.latencies)}")
    for op in (CHAT, EDIT, SALE):
        row(f"{op} p50/p99 ms", op_cell(op))
    row(
        "non-2xx + errors (writes, searches)",
        lambda w: f"{sum(w.writes.failures.values())}, {sum(w.searches.failures.values())}",
    )
    row("server CPU (% of the machine's cores)", lambda w: f"{w.share_of_machine(w.server_cpu) * 100:.0f}")
    row("PostgreSQL backends' CPU (% of cores)", lambda w: f"{w.share_of_machine(w.backend_cpu) * 100:.0f}")
    row("CPU ms (servers + PostgreSQL) per request", cpu_per_request)
    row("this load generator's CPU (% of cores)", lambda w: f"{w.share_of_machine(w.client_cpu) * 100:.0f}")
    row("messages accepted / frames at vendor sockets", lambda w: f"{w.writes.messages}/{w.message_frames}")
    row("waits for a rested visitor device", lambda w: f"{w.pool_waits}")
    row("load average (1 min) at window start", lambda w: w.load)
    for r in runs:
        print(f"  {r.short}: {r.how}")
        if r.refused:
            print(f"    {r.refused}")
        if r.catch_up_seconds:
            took = ", ".join(f"{s:.1f}" for s in r.catch_up_seconds)
            print(f"    every node's index caught up with the log (s after the servers answered, per round): {took}")
        if r.errors:
            print(f"    tracebacks in the server logs: {counts(r.errors, ' ×', 'none')}")
        if r.window is not None and (r.window.writes.failures or r.window.searches.failures):
            print(
                f"    failures: writes {counts(r.window.writes.failures, ' ×', 'none')}; "
                f"searches {counts(r.window.searches.failures, ' ×', 'none')}"
            )


def report_builds(builds: list[Build]) -> None:
    print("\n== A new node's search index, built from PostgreSQL")
    print(f"  {'how':<14}{'live items':>12}{'wall s':>10}{'CPU s':>10}{'items/s':>10}   note")
    for b in builds:
        wall = f"{b.seconds:.1f}" if b.seconds is not None else "-"
        cpu = f"{b.cpu_seconds:.1f}" if b.cpu_seconds is not None else "-"
        rate = f"{b.items / b.seconds:,.0f}" if b.seconds else "-"
        print(f"  {b.what:<14}{b.items:>12,}{wall:>10}{cpu:>10}{rate:>10}   {b.note}")
