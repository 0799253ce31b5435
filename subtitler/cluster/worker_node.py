"""`subtitler worker`: a node that only runs workers on the shared PostgreSQL queue.

No scanner, no web UI: a small HTTP app with /health, the Workers API (so other nodes can remove
its workers) and Bazarr's /asr and /detect-language (run by its own workers; a full node without
workers sends Bazarr's requests here). It answers /health 503 until the database is reachable,
retrying with backoff, and again whenever its heartbeat fails; its jobs keep their leases only
while its heartbeat reaches the database, so nothing is lost if it never comes back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from subtitler.cluster.identity import NodeIdInUse
from subtitler.cluster.pg import backoff
from subtitler.config import Config
from subtitler.daemon import Daemon
from subtitler.db.migrate import migrate
from subtitler.system.stopping import STOP_TOTAL, StopDeadline, finished

logger = logging.getLogger(__name__)


class WorkerNodeNotReady(Exception):
    pass


class WorkerNode(Daemon):
    """A Daemon that starts only the database, settings, the pool and its cluster membership."""

    role = "worker"

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.ready = False
        self.last_error: str | None = None
        self._boot: asyncio.Task[None] | None = None
        self.on_fatal: Callable[[], None] | None = None  # the CLI stops the server (exit 2)

    async def start(self) -> None:
        if self.started:
            return
        self.config.ensure_dirs()
        self.bus.bind_loop(asyncio.get_running_loop())
        self.started = self._needs_stop = True
        self._boot = asyncio.create_task(self._connect(), name="worker-node-boot")

    async def _connect(self) -> None:
        attempt = 0
        while True:
            try:
                await self._start_once()
                return
            except asyncio.CancelledError:
                raise
            except NodeIdInUse as exc:  # not something a retry mends
                self.fatal = self.last_error = str(exc)
                logger.error("%s", exc)
                if self.on_fatal is not None:
                    self.on_fatal()
                return
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                delay = backoff(attempt)
                attempt += 1
                logger.warning("database not ready (%s); retrying in %.0f s", exc, delay)
                await asyncio.sleep(delay)

    async def _start_once(self) -> None:
        await self.db.ping()
        assert self.cluster is not None
        await self.cluster.identity.claim()  # before recovery: it requeues this id's jobs
        await migrate(self.db, sqlite_file=None)
        await self.settings.init_defaults()
        requeued, failed = await self.queue.recover_orphans()
        if requeued or failed:
            logger.warning("recovered this node's jobs: %d requeued, %d failed", requeued, failed)
        assert self.cluster is not None
        await self.asr.recover()  # this node's uploads of a previous run lost their clients
        self._clean_spool()
        await self.asr.start()
        await self.cluster.start()
        await self.cpu.start()
        await self.pool.start(start_workers=self.config.start_workers)
        self._started_monotonic = time.monotonic()
        self.ready, self.last_error = True, None
        logger.info(
            "subtitler worker node %s ready (mappings: %s)",
            self.config.node_id,
            ", ".join(f"{m['queue']}={m['local']}" for m in self.pool.paths.describe()) or "none",
        )

    async def _stop(self) -> None:
        """Like Daemon's: every part within its share of STOP_TOTAL, named when cancelled."""
        deadline = StopDeadline(STOP_TOTAL)
        boot, self._boot = self._boot, None
        if boot is not None and not boot.done():
            boot.cancel()
            await deadline.run("the worker node's start", finished(boot), 2.0, keep=5.0)
        # whatever the start got to (each of these is a no-op when it had not started)
        assert self.cluster is not None
        await self._stop_pool(deadline, keep=3.0)
        # after the pool: requeues go out before the events stop
        await deadline.run("the cluster service", self.cluster.stop(), 3.0, keep=1.5)
        await deadline.run("the ASR service", self.asr.stop(), 0.5, keep=1.0)
        await deadline.run("the CPU sampler", self.cpu.stop(), 0.5, keep=1.0)
        await self._close_database(deadline)
        self.started = self.ready = self._needs_stop = False
        if deadline.late:
            logger.warning("subtitler worker node stopped; cancelled at the deadline: %s",
                           ", ".join(deadline.late))  # fmt: skip
        else:
            logger.info("subtitler worker node stopped")

    async def health(self) -> dict[str, Any]:
        if not self.ready:
            raise WorkerNodeNotReady(self.last_error or "starting")
        assert self.cluster is not None
        if not self.cluster.healthy:
            raise WorkerNodeNotReady(self.cluster.last_error or "heartbeat failing")
        await self.db.ping()
        return {
            "status": "healthy",
            "role": "worker",
            "node_id": self.config.node_id,
            "database": "connected",
            "workers": self.worker_stats()["total_workers"],
            "mappings": self.pool.paths.describe(),
        }
