"""A node of the cluster: its row in `nodes`, its heartbeat (which renews its jobs' leases), its
duties (scanner on full nodes; lease reaping on any) and the event bridge.

Only built on PostgreSQL: the single-node SQLite daemon runs exactly as before without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from subtitler import __version__
from subtitler.cluster import leases
from subtitler.cluster.duties import DutyLock
from subtitler.cluster.identity import NodeIdentity
from subtitler.cluster.notify import EventBridge
from subtitler.cluster.paths import PathMapper
from subtitler.cluster.pg import backoff
from subtitler.db import Database
from subtitler.db.models import Job, Setting, utcnow
from subtitler.db.models_cluster import Node
from subtitler.errors import BadRequest, NotFound, SubtitlerError
from subtitler.events import EventBus
from subtitler.jobs.queue import JobQueue
from subtitler.jobs.states import JobStatus
from subtitler.settings import SettingsService
from subtitler.system.resources import Nvml
from subtitler.system.stopping import stop_within

logger = logging.getLogger(__name__)

LEASE_KEY = "cluster_lease_seconds"
DEFAULT_LEASE = 60.0
STOP_TIMEOUT = 2.5  # heartbeat, duties and event listener, stopped side by side
FORGET_AFTER = timedelta(days=7)  # a node silent this long leaves the Nodes list
# A worker that takes (or will take) jobs; a sleeping one starts its process for the next job.
LIVE_WORKER = frozenset({"starting", "idle", "busy", "sleeping"})


class NodeUnreachable(SubtitlerError):
    status = 502
    code = "node_unreachable"


class ClusterService:
    def __init__(
        self,
        *,
        url: str,
        node_id: str,
        node_url: str,
        role: str,
        db: Database,
        bus: EventBus,
        queue: JobQueue,
        nvml: Nvml,
        paths: PathMapper,
        local_workers: Callable[[], list[dict[str, Any]]],
        settings: SettingsService,
        scanner: Any | None = None,
    ) -> None:
        self.node_id = node_id
        self.node_url = node_url
        self.role = role
        self.host = socket.gethostname()
        self._db = db
        self._bus = bus
        self._queue = queue
        self._nvml = nvml
        self._paths = paths
        self._local_workers = local_workers
        self._scanner = scanner
        self.lease_seconds = DEFAULT_LEASE
        self.healthy = False
        self.last_error: str | None = None
        self._settings = settings
        self.identity = NodeIdentity(url=url, node_id=node_id, db=db)  # claimed before start
        self._refreshes: set[asyncio.Task[None]] = set()
        self.events = EventBridge(
            url=url, bus=bus, node_id=node_id, on_remote_setting=self._remote_setting
        )
        self.duties: dict[str, DutyLock] = {
            "leases": DutyLock("leases", url=url, interval=self.duty_interval)
        }
        if scanner is not None:
            self.duties["scanner"] = DutyLock(
                "scanner", url=url, interval=self.duty_interval,
                on_acquire=scanner.control.start, on_lose=scanner.control.stop,
            )  # fmt: skip
        self._task: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        self._devices: list[dict[str, Any]] = []
        queue.lease_seconds = self.lease_seconds
        queue.local_only = True
        queue.path_prefixes = paths.queue_prefixes()

    def _remote_setting(self, key: str) -> None:
        task = asyncio.get_running_loop().create_task(self._settings.refresh([key]))
        self._refreshes.add(task)
        task.add_done_callback(self._refreshes.discard)

    def duty_interval(self) -> float:
        """How often a node tries a free duty: a quarter lease, so takeover fits in one lease."""
        return max(0.5, self.lease_seconds / 4)

    # --- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        gpus = await asyncio.to_thread(self._nvml.gpus)
        self._devices = [{"type": "cpu", "cores": os.cpu_count() or 1}] + [
            {"type": "gpu", "id": g.get("id"), "name": g.get("name"),
             "memory_total_mb": g.get("memory_total_mb")} for g in gpus
        ]  # fmt: skip
        await self.beat()
        self.events.start()
        for duty in self.duties.values():
            duty.start()
        self._closing.clear()
        self._task = asyncio.create_task(self._heartbeat_loop(), name="cluster-heartbeat")

    async def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Heartbeat, duties and the event listener stop together, each within `timeout` (a
        beat stuck on a database that does not answer is cancelled and named in the log)."""
        task, self._task = self._task, None
        self._closing.set()  # a beat under way may finish (its transaction whole), else cancelled
        parts: list[Awaitable[object]] = []
        if task is not None:
            parts.append(stop_within("the cluster heartbeat", task, timeout))
        part = timeout / 2  # a duty's loop, then its on_lose, each get half
        parts += [duty.stop(part) for duty in self.duties.values()]
        parts.append(self.events.stop(timeout))
        await asyncio.gather(*parts)
        await stop_within("the node id lock", self.identity.release(), timeout)

    # --- heartbeat --------------------------------------------------------------------------
    async def beat(self) -> None:
        """One heartbeat: read the lease setting, upsert our row, renew our jobs' leases, and
        (holding the lease duty) requeue other nodes' expired jobs."""
        async with self._db.read() as session:
            raw = await session.scalar(select(Setting.value).where(Setting.key == LEASE_KEY))
        with contextlib.suppress(TypeError, ValueError):
            self.lease_seconds = max(3.0, float(raw)) if raw is not None else DEFAULT_LEASE
        self._queue.lease_seconds = self.lease_seconds
        now = utcnow()
        row = {
            "id": self.node_id, "host": self.host, "version": __version__, "role": self.role,
            "url": self.node_url, "devices": self._devices, "workers": self._local_workers(),
            "duties": sorted(n for n, d in self.duties.items() if d.held),
            "mappings": self._paths.describe(), "last_heartbeat": now,
        }  # fmt: skip
        stmt = pg_insert(Node).values(**row, started_at=now)
        stmt = stmt.on_conflict_do_update(index_elements=[Node.id], set_=row)
        async with self._db.write() as session:
            await session.execute(stmt)
        await leases.renew(db=self._db, node_id=self.node_id, now=now,
                           lease_seconds=self.lease_seconds)  # fmt: skip
        if self.duties["leases"].held:
            await leases.reap(db=self._db, bus=self._bus, now=now)
            async with self._db.write() as session:
                await session.execute(delete(Node).where(Node.last_heartbeat < now - FORGET_AFTER))
        self.healthy, self.last_error = True, None

    async def _heartbeat_loop(self) -> None:
        attempt = 0
        while not self._closing.is_set():
            try:
                # never slower than a quarter lease, failing or not: a node back from an outage
                # renews its leases before they run out (a job claimed meanwhile included)
                pause = (
                    min(self.duty_interval(), backoff(attempt)) if attempt else self.duty_interval()
                )
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(pause):
                        await self._closing.wait()
                if self._closing.is_set():
                    return
                async with asyncio.timeout(max(3.0, self.lease_seconds)):  # a hung beat fails
                    await self.beat()
                attempt = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                attempt += 1
                self.healthy, self.last_error = False, f"{type(exc).__name__}: {exc}"
                logger.warning("node heartbeat failed (attempt %d): %s", attempt, exc)

    # --- reads for the API ------------------------------------------------------------------
    async def nodes(self) -> list[dict[str, Any]]:
        async with self._db.read() as session:
            rows = (await session.scalars(select(Node).order_by(Node.id))).all()
            running = dict(
                (
                    await session.execute(
                        select(Job.node_id, func.count())
                        .where(Job.status == JobStatus.PROCESSING)
                        .group_by(Job.node_id)
                    )
                ).all()
            )
        now = utcnow()
        out = []
        for node in rows:
            age = max(0.0, (now - node.last_heartbeat).total_seconds())
            out.append({
                "node_id": node.id, "host": node.host, "version": node.version,
                "role": node.role, "url": node.url, "devices": node.devices,
                "duties": node.duties, "mappings": node.mappings,
                "heartbeat_age_seconds": round(age, 1),
                "online": age <= self.lease_seconds, "is_self": node.id == self.node_id,
                "jobs_running": int(running.get(node.id, 0)),
                "workers": len(node.workers or []), "started_at": node.started_at,
            })  # fmt: skip
        return out

    async def peers_with_workers(self) -> list[dict[str, Any]]:
        """Other online nodes with an address and a live worker (starting, idle, busy or
        sleeping: a sleeping one starts its process for the next job), the most idle first,
        then the most asleep (free, but a start away): where a request this node cannot run
        may go."""
        cutoff = utcnow() - timedelta(seconds=self.lease_seconds)
        async with self._db.read() as session:
            rows = (await session.scalars(select(Node).where(
                Node.id != self.node_id, Node.last_heartbeat >= cutoff, Node.url.is_not(None),
            ))).all()  # fmt: skip
        out = []
        for node in rows:
            live = [w for w in node.workers or [] if w.get("status") in LIVE_WORKER]
            if live and node.url:
                idle = sum(1 for w in live if w.get("status") == "idle")
                asleep = sum(1 for w in live if w.get("status") == "sleeping")
                out.append({"node_id": node.id, "host": node.host, "url": node.url,
                            "workers": len(live), "idle": idle, "sleeping": asleep})  # fmt: skip
        return sorted(out, key=lambda n: (-n["idle"], -n["sleeping"], -n["workers"], n["node_id"]))

    async def workers(self) -> list[dict[str, Any]]:
        """This node's workers live, plus every other online node's from its last heartbeat."""
        out = list(self._local_workers())
        for node in await self.nodes():
            if node["is_self"] or not node["online"]:
                continue
            async with self._db.read() as session:
                row = await session.get(Node, node["node_id"])
            for worker in (row.workers if row else []) or []:
                out.append({**worker, "node_id": node["node_id"], "host": node["host"]})
        return out

    async def remove_remote_worker(
        self, *, node_id: str, worker_id: str, timeout: float, api_key: str | None
    ) -> None:
        """Removing another node's worker goes through that node's own Workers API."""
        async with self._db.read() as session:
            node = await session.get(Node, node_id)
        if node is None:
            raise NotFound(f"Node {node_id} not found", code="node_not_found")
        if not node.url:
            raise BadRequest(f"Node {node_id} has no address", code="node_unreachable")
        headers = {"X-Api-Key": api_key} if api_key else {}
        try:
            async with httpx.AsyncClient(timeout=timeout + 10) as client:
                resp = await client.delete(
                    f"{node.url}/api/workers/{worker_id}",
                    params={"timeout": timeout}, headers=headers,
                )  # fmt: skip
        except httpx.HTTPError as exc:
            raise NodeUnreachable(f"Node {node_id} at {node.url} did not answer: {exc}") from None
        if resp.status_code == 404:
            raise NotFound(f"Worker {worker_id} not found on node {node_id}",
                           code="worker_not_found")  # fmt: skip
        if resp.status_code >= 400:
            raise NodeUnreachable(f"Node {node_id} refused: {resp.status_code} {resp.text[:200]}")
