"""`subtitler worker`: a node that only runs workers on the shared PostgreSQL queue.

No scanner, no web UI: a small HTTP app with /health, the Workers API (so other nodes can remove
its workers) and Bazarr's /asr and /detect-language (run by its own workers; a full node without
workers sends Bazarr's requests here). It answers /health 503 until the database is reachable,
retrying with backoff, and again whenever its heartbeat fails; its jobs keep their leases only
while its heartbeat reaches the database, so nothing is lost if it never comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from subtitler.cluster.identity import NodeIdInUse
from subtitler.cluster.pg import backoff
from subtitler.config import Config
from subtitler.daemon import Daemon
from subtitler.db.migrate import migrate

logger = logging.getLogger(__name__)

POOL_STOP_TIMEOUT = 5.0


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
        self.started = True
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

    async def stop(self) -> None:
        if not self.started:
            return
        if self._boot is not None:
            self._boot.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._boot
        if self.ready:
            assert self.cluster is not None
            await self.pool.shutdown(timeout=POOL_STOP_TIMEOUT)
            await self.cluster.stop()  # after the pool: requeues go out before the events stop
            await self.asr.stop()
            await self.cpu.stop()
        if self.cluster is not None:
            await self.cluster.identity.release()
        await self.db.dispose()
        self.started = self.ready = False
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
