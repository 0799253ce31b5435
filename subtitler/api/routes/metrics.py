"""GET /metrics in the Prometheus text format (outside /api, as scrapers expect)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC
from typing import Any

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import func, select

from subtitler.api.deps import get_daemon
from subtitler.daemon import Daemon
from subtitler.db.models import Job
from subtitler.jobs import metrics

router = APIRouter(tags=["system"])


async def _snapshot(daemon: Daemon) -> dict[str, Any]:
    async with daemon.db.read() as session:
        rows = (
            await session.execute(
                select(Job.status, Job.channel, func.count(Job.id)).group_by(
                    Job.status, Job.channel
                )
            )
        ).all()
        oldest = await session.scalar(
            select(func.min(Job.created_at)).where(Job.status == "queued")
        )
    jobs = {(str(s), str(c)): int(n) for s, c, n in rows}
    workers = Counter((w["worker_type"], w["status"]) for w in daemon.pool.list())
    epoch = oldest.replace(tzinfo=UTC).timestamp() if oldest is not None else None
    return {
        "jobs": jobs,
        "queued": sum(n for (s, _), n in jobs.items() if s == "queued"),
        "oldest_age": metrics.age_seconds(epoch),
        "workers": dict(workers),
    }


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                     "description": "Prometheus text exposition format"}},
)  # fmt: skip
async def prometheus_metrics(daemon: Daemon = Depends(get_daemon)) -> Response:
    body = metrics.render(await _snapshot(daemon))
    return Response(body, media_type=CONTENT_TYPE_LATEST)
