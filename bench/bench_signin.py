"""What a burst of password sign-ins does to everyone else on the server.

Run: .venv/bin/python bench/bench_signin.py [--signins 40]

At 9 am every vendor signs in at once. Argon2id spends tens of milliseconds of CPU per password
check on purpose; this measures whether that stalls the other requests of the same worker. A
`souk serve` process on an empty database; a client pings `GET /api/health` every 20 ms:

1. baseline: 3 s of pings with nothing else going on;
2. during `--signins` concurrent wrong-password sign-ins (unknown emails are checked against a
   dummy hash too, so no accounts are needed).

Prints the ping latencies (p50, p95, max) of both and the sign-ins' wall time. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from harness.process import migrate_folder, souk_serve
from harness.stats import ranked


async def pings_while(http: httpx.AsyncClient, work: asyncio.Future[None]) -> list[float]:
    """Ping latencies (ms) until `work` is done."""
    latencies: list[float] = []
    while not work.done():
        started = time.perf_counter()
        await http.get("/api/health")
        latencies.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.02)
    return latencies


def describe(name: str, latencies: list[float]) -> str:
    return (
        f"{name:<22} n={len(latencies):>4}  p50 {statistics.median(latencies):7.1f} ms  "
        f"p95 {ranked(latencies, 0.95):7.1f} ms  max {max(latencies):7.1f} ms"
    )


async def run(folder: Path, signins: int) -> None:
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    with souk_serve(folder, folder / "serve.log") as server:
        async with httpx.AsyncClient(base_url=server.base, timeout=120) as http:
            idle = asyncio.ensure_future(asyncio.sleep(3))
            baseline = await pings_while(http, idle)

            async def burst() -> None:
                body = {"password": "not-the-password"}
                await asyncio.gather(
                    *(http.post("/api/auth/login", json={**body, "email": f"v{n}@example.org"}) for n in range(signins))
                )

            started = time.perf_counter()
            work = asyncio.ensure_future(burst())
            during = await pings_while(http, work)
            elapsed = time.perf_counter() - started
    print(describe("health, idle", baseline))
    print(describe(f"health, {signins} sign-ins", during))
    print(f"{signins} concurrent sign-ins took {elapsed:.2f} s ({elapsed / signins * 1000:.0f} ms each on average)")
    print(f"p50 ratio during/idle: {statistics.median(during) / statistics.median(baseline):.1f}x")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signins", type=int, default=40)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="souk-bench-signin-"))
    migrate_folder(folder)
    asyncio.run(run(folder, args.signins))


if __name__ == "__main__":
    main()
