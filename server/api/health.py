"""Liveness for load balancers and the Docker health check: answers only if the database does."""

from __future__ import annotations

from litestar import get

from server.tables import LogHead


@get("/api/health", tags=["health"])
async def health() -> dict[str, object]:
    head = await LogHead.select(LogHead.seq).where(LogHead.id == 1).first()
    return {"status": "ok", "log_seq": int(head["seq"]) if head else 0}
