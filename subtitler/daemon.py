"""Builds the services and runs their lifecycle: start() in dependency order, stop() in reverse.

Recover before serving: migrations, default settings, the API key and orphaned jobs are handled in
start(), which runs before the HTTP server binds its port.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import shutil
import socket
import time
from typing import Any

from subtitler import __version__
from subtitler.asr.service import AsrService
from subtitler.cluster.paths import PathMapper
from subtitler.cluster.service import ClusterService
from subtitler.config import Config
from subtitler.db import Database
from subtitler.db.migrate import migrate
from subtitler.events import EventBus
from subtitler.jobs import JobQueue, JobService
from subtitler.jobs.listing import JobListing
from subtitler.rules.service import RulesService
from subtitler.scanner.library import MediaLibrary
from subtitler.scanner.service import ScannerService
from subtitler.settings import SettingsService
from subtitler.setup import SetupService
from subtitler.subtitles.registry import WrittenSubtitles
from subtitler.system.resources import CpuSampler, Nvml
from subtitler.workers.pool import WorkerPool

logger = logging.getLogger(__name__)

POOL_STOP_TIMEOUT = 5.0  # seconds a running job gets at shutdown before it is requeued


class Daemon:
    role = "full"  # or "worker" (subtitler.cluster.worker_node)

    def __init__(self, config: Config) -> None:
        self.config = config
        self.version = __version__
        self.bus = EventBus()
        self.db = Database(config.effective_database_url)
        self.settings = SettingsService(self.db, self.bus)
        self.queue = JobQueue(self.db, self.bus, node_id=config.node_id)
        self.jobs = JobService(self.queue, self.settings)
        self.listing = JobListing(self.queue, self.bus)
        self.library = MediaLibrary(self.db, self.settings)
        self.rules = RulesService(self.db, self.settings, self.library)
        self.scanner = ScannerService(
            db=self.db,
            settings=self.settings,
            bus=self.bus,
            queue=self.queue,
            rules=self.rules,
            library=self.library,
        )
        self.setup = SetupService(
            self.db, self.settings, rules=self.rules, host=config.host, port=config.port
        )
        self.cpu = CpuSampler()
        self.nvml = Nvml()
        self.pool = WorkerPool(
            queue=self.queue,
            settings=self.settings,
            bus=self.bus,
            nvml=self.nvml,
            models_dir=str(config.models_dir.resolve()),
            log_level=config.log_level,
            written=WrittenSubtitles(self.db),
        )
        self.pool.paths = PathMapper.from_config(config.path_mappings)
        self.pool.node_info = {"node_id": config.node_id, "host": socket.gethostname()}
        self.pool.count_overrides = (config.cpu_workers, config.gpu_workers)
        self.cluster = self._cluster(role=self.role) if config.is_postgres else None
        self.asr = AsrService(
            db=self.db,
            queue=self.queue,
            settings=self.settings,
            bus=self.bus,
            spool_dir=config.spool_dir,
            results_dir=config.data_dir / "asr",
        )
        self.stop_event = asyncio.Event()
        self.started = False
        self._started_monotonic: float | None = None

    @property
    def uptime_seconds(self) -> float:
        if self._started_monotonic is None:
            return 0.0
        return round(time.monotonic() - self._started_monotonic, 1)

    async def start(self) -> None:
        if self.started:
            return
        self.config.ensure_dirs()
        self.bus.bind_loop(asyncio.get_running_loop())
        backup = await migrate(self.db, sqlite_file=self.config.db_path)
        if backup:
            logger.info("database backup before migration: %s", backup)
        created = await self.settings.init_defaults()
        if created:
            logger.info("initialised %d default settings", created)
        await self.settings.ensure_api_key()
        requeued, failed = await self.queue.recover_orphans()
        if requeued or failed:
            logger.warning(
                "recovered jobs left processing: %d requeued, %d failed (interrupted too often)",
                requeued,
                failed,
            )
        await self.asr.recover()  # before the spool is emptied: its jobs lose their audio
        self._clean_spool()
        await self.asr.start()
        await self.cpu.start()
        await self.pool.start(start_workers=self.config.start_workers)
        self.stop_event.clear()
        self._started_monotonic = time.monotonic()
        self.started = True
        if self.cluster is None:
            await self.scanner.start()  # scheduler and watcher as the settings say
        else:
            await self.cluster.start()  # the scanner runs on the node holding its duty
        gc.freeze()  # start-up objects live forever: keep them out of every later GC pass
        logger.info("subtitler %s ready (node %s)", self.version, self.config.node_id)

    async def stop(self) -> None:
        if not self.started:
            return
        self.stop_event.set()
        if self.cluster is not None:
            await self.cluster.stop()
        await self.scanner.stop()
        await self.pool.shutdown(timeout=POOL_STOP_TIMEOUT)
        await self.asr.stop()
        await self.cpu.stop()
        await self.db.dispose()
        self.started = False
        logger.info("subtitler stopped")

    def _cluster(self, *, role: str) -> ClusterService:
        return ClusterService(
            url=self.config.effective_database_url, node_id=self.config.node_id,
            node_url=self.config.node_url, role=role, db=self.db, bus=self.bus,
            queue=self.queue, nvml=self.nvml, paths=self.pool.paths,
            local_workers=self.pool.list, settings=self.settings,
            scanner=self.scanner if role == "full" else None,
        )  # fmt: skip

    def _clean_spool(self) -> None:
        """Spool files belong to requests of a previous run; nobody will read them again."""
        spool = self.config.spool_dir
        if not spool.is_dir():
            return
        for child in spool.iterdir():
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)

    def worker_stats(self) -> dict[str, Any]:
        return self.pool.stats()

    def scanner_status(self) -> dict[str, Any]:
        return self.scanner.status()

    async def status(self) -> dict[str, Any]:
        return {
            "system": {
                "status": "running",
                "version": self.version,
                "node_id": self.config.node_id,
                "uptime_seconds": self.uptime_seconds,
            },
            "workers": self.worker_stats(),
            "queue": await self.queue.stats(),
            "scanner": self.scanner_status(),
        }

    async def health(self) -> dict[str, Any]:
        await self.db.ping()
        stats = await self.queue.stats()
        return {
            "status": "healthy",
            "database": "connected",
            "workers": self.worker_stats()["total_workers"],
            "queue_size": stats["queued"],
        }
