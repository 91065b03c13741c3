"""Liveness for load balancers and the Docker health check: answers only if the database does.

It also names the market-wide background jobs this node runs right now (`jobs`, see
`server/cluster_jobs.py`), so an operator can see which node sends the Web Pushes, and how far
this process's search index has followed the log (`search`, see `search/machine.py`).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from server.tables import LogHead


@get("/api/health", tags=["health"])
async def health(request: Request[Any, Any, Any]) -> dict[str, object]:
    head = await LogHead.select(LogHead.seq).where(LogHead.id == 1).first()
    jobs = getattr(request.app.state, "cluster_jobs", None)
    search = getattr(request.app.state, "search", None)
    return {
        "status": "ok",
        "log_seq": int(head["seq"]) if head else 0,
        "jobs": jobs.running if jobs else [],
        "search": await search.status() if search else {},
    }
