"""Server-sent events: /api/events."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from subtitler.api.deps import get_daemon
from subtitler.daemon import Daemon

router = APIRouter(prefix="/api", tags=["events"])


@router.get("/events", response_class=StreamingResponse)
async def events(
    types: str | None = Query(
        default=None, description="Comma-separated event types to receive (default: all)"
    ),
    daemon: Daemon = Depends(get_daemon),
) -> StreamingResponse:
    wanted = {t.strip() for t in types.split(",") if t.strip()} if types else None
    stream = daemon.bus.stream(heartbeat_seconds=daemon.config.sse_heartbeat_seconds, types=wanted)
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
