"""The table bench_writes.py prints per configuration."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from harness.stats import counts, percentile

from writes_bench.config import CHAT, OPERATIONS
from writes_bench.level import LevelResult


def statuses(counter: Counter[str]) -> str:
    return counts(counter, " ×", "none")


@dataclass(frozen=True)
class ConfigResult:
    label: str
    raw_label: str
    raw_rate: float
    levels: list[LevelResult]
    chat: LevelResult
    postgres: bool


def p50_p99(latencies: list[float]) -> str:
    return f"{percentile(latencies, 50) * 1000:.0f}/{percentile(latencies, 99) * 1000:.0f}"


def latency_cell(op: str) -> Callable[[LevelResult], str]:
    return lambda r: p50_p99(r.tally.latencies[op])


def report(result: ConfigResult) -> None:
    levels = result.levels
    width = 16

    def row(name: str, cell: Callable[[LevelResult], str]) -> None:
        print(f"  {name:<44}" + "".join(f"{cell(r):>{width}}" for r in levels))

    print(f"\n== {result.label}")
    row("concurrent clients", lambda r: f"{r.clients}")
    row("acknowledged writes/s", lambda r: f"{r.writes_per_second:,.0f}")
    row("requests/s (answered, any status)", lambda r: f"{r.requests_per_second:,.0f}")
    for op in OPERATIONS:
        row(f"{op} p50/p99 ms", latency_cell(op))
    row("non-2xx answers and errors", lambda r: f"{sum(r.tally.failures.values())}")
    row("push mutations rejected", lambda r: f"{r.tally.rejected}")
    row("server CPU ms per write", lambda r: f"{r.cpu_ms_per_write(r.server_cpu):.2f}")
    if result.postgres:
        row("PostgreSQL backends' CPU ms per write", lambda r: f"{r.cpu_ms_per_write(r.backend_cpu):.2f}")
    row("server RSS MB (sum of processes)", lambda r: f"{sum(r.rss_mb):.0f}")
    row("this client's CPU (% of a core)", lambda r: f"{r.client_cpu * 100:.0f}")
    row(f"writes/s ÷ {result.raw_label}", lambda r: f"{r.writes_per_second / result.raw_rate:.3f}")
    row("last in-flight answer after window (s)", lambda r: f"{r.drain_seconds:.2f}")
    row("messages accepted / frames at vendor sockets", lambda r: f"{r.tally.messages}/{r.message_frames}")
    row("waits for a rested visitor device", lambda r: f"{r.pool_waits}")
    row("load average (1 min) at level start", lambda r: r.load)
    for r in levels:
        if r.tally.failures:
            print(f"  non-2xx at {r.clients} clients: {counts(r.tally.failures, ' ×', 'none')}")
    chat = result.chat
    print(
        f"  chat only, {chat.clients} clients, {chat.seconds:g} s: {chat.writes_per_second:,.0f} accepted messages/s, "
        f"p50/p99 {p50_p99(chat.tally.latencies[CHAT])} ms, "
        f"server CPU {chat.cpu_ms_per_write(chat.server_cpu):.2f} ms per accepted message"
        + (f" (+ {chat.cpu_ms_per_write(chat.backend_cpu):.2f} ms in PostgreSQL backends)" if result.postgres else "")
        + f", non-2xx: {counts(chat.tally.failures, ' ×', 'none')}, load {chat.load}"
    )
