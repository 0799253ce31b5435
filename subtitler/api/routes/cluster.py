"""Cluster API: /api/cluster/nodes (every node on the shared database)."""

from __future__ import annotations

import os
import socket
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from subtitler.api.deps import get_daemon
from subtitler.daemon import Daemon

router = APIRouter(prefix="/api/cluster", tags=["cluster"])


class NodeOut(BaseModel):
    node_id: str
    host: str
    version: str
    role: str
    url: str | None
    devices: list[dict[str, Any]]
    duties: list[str]
    mappings: list[dict[str, str]]
    heartbeat_age_seconds: float
    online: bool
    is_self: bool
    jobs_running: int
    workers: int
    started_at: datetime | None


@router.get("/nodes", response_model=list[NodeOut])
async def list_nodes(daemon: Daemon = Depends(get_daemon)) -> list[Any]:
    """Every node with its heartbeat age, devices, duties and running jobs. A single SQLite
    daemon lists itself."""
    if daemon.cluster is not None:
        return await daemon.cluster.nodes()
    stats = await daemon.queue.stats()
    return [
        {
            "node_id": daemon.config.node_id, "host": socket.gethostname(),
            "version": daemon.version, "role": "full", "url": None,
            "devices": [{"type": "cpu", "cores": os.cpu_count() or 1}],
            "duties": ["scanner", "leases"], "mappings": daemon.pool.paths.describe(),
            "heartbeat_age_seconds": 0.0, "online": True, "is_self": True,
            "jobs_running": stats.get("processing", 0), "workers": len(daemon.pool.workers),
            "started_at": None,
        }
    ]  # fmt: skip
