"""Builds the services and runs their lifecycle: start() in dependency order, stop() in reverse.

Recover before serving: migrations, default settings, the API key and orphaned jobs are handled in
start(), which runs before the HTTP server binds its port.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import shutil
import signal
import socket
import time
from typing import Any

from subtitler import __version__
from subtitler.asr.service import AsrService
from subtitler.cluster.identity import NodeIdInUse
from subtitler.cluster.paths import PathMapper
from subtitler.cluster.service import ClusterService
from subtitler.config import Config
from subtitler.db import Database
from subtitler.db.migrate import migrate
from subtitler.events import EventBus
from subtitler.history import SubtitleHistory
from subtitler.integrations import IntegrationsService
from subtitler.jobs import JobQueue, JobService
from subtitler.jobs import metrics as job_metrics
from subtitler.jobs.control import JobControl
from subtitler.jobs.idempotency import IdempotencyStore
from subtitler.jobs.listing import JobListing
from subtitler.jobs.results import JobResults
from subtitler.jobs.retries import RetryPolicy
from subtitler.library import LibraryIndex, LibraryService
from subtitler.logging_setup import ensure_file_logging, quiet_polling
from subtitler.media.probe_processes import ProbeProcesses
from subtitler.modelstore.service import ModelsService
from subtitler.rules.service import RulesService
from subtitler.scanner.library import MediaLibrary
from subtitler.scanner.service import ScannerService
from subtitler.security.datalock import DataDirLock
from subtitler.security.dbfile import preflight
from subtitler.security.health import HealthMonitor
from subtitler.settings import SettingsService
from subtitler.setup import SetupService
from subtitler.subtitles.registry import WrittenSubtitles
from subtitler.system.resources import CpuSampler, Nvml
from subtitler.system.stopping import STOP_TOTAL, StopDeadline, finished
from subtitler.system.tasks import SystemTasks
from subtitler.tokens import TokenService
from subtitler.workers.pool import WorkerPool

logger = logging.getLogger(__name__)

POOL_STOP_TIMEOUT = 3.0  # seconds a running job gets at shutdown before it is requeued
POOL_KILL_RESERVE = 3.0  # then: the process asked to exit (2 s), killed, its job requeued


class DaemonStopped(Exception):
    """start() was interrupted by stop()."""


class Daemon:
    role = "full"  # or "worker" (subtitler.cluster.worker_node)

    def __init__(self, config: Config) -> None:
        self.config = config
        self.version = __version__
        self.bus = EventBus()
        self.bus.add_hook(job_metrics.on_event)  # scan durations, ASR requests (/metrics)
        self.db = Database(config.effective_database_url)
        self.settings = SettingsService(self.db, self.bus)
        self.queue = JobQueue(self.db, self.bus, node_id=config.node_id)
        self.queue.retry_policy = RetryPolicy(self.settings.get)
        self.probes = ProbeProcesses()  # every probe the daemon makes: PyAV stays out of it
        self.jobs = JobService(
            self.queue, self.settings, WrittenSubtitles(self.db), probes=self.probes
        )
        self.results = JobResults(self.db)
        self.tokens = TokenService(self.db)
        self.idempotency = IdempotencyStore(self.db)
        self.listing = JobListing(self.queue, self.bus)
        self.control = JobControl(self.queue)
        self.library = MediaLibrary(self.db, self.settings, self.probes)
        self.rules = RulesService(self.db, self.settings, self.library)
        self.scanner = ScannerService(
            db=self.db,
            settings=self.settings,
            bus=self.bus,
            queue=self.queue,
            rules=self.rules,
            library=self.library,
            index=LibraryIndex(self.db),
        )
        self.library_service = LibraryService(db=self.db, jobs=self.jobs, settings=self.settings)
        self.history = SubtitleHistory(self.db)
        self.models = ModelsService(config.models_dir, self.settings, self.bus)
        self.tasks = SystemTasks(self)
        self._log_handler: logging.Handler | None = None
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
            results=self.results,
        )
        self.setup.pool, self.setup.scanner = self.pool, self.scanner
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
        self.asr.paths = self.pool.paths
        self.lock = DataDirLock(config.data_dir)
        self.monitor = HealthMonitor(
            data_dir=config.data_dir, db_file=config.db_path, settings=self.settings.get
        )
        self.integrations = IntegrationsService(
            db=self.db, settings=self.settings, bus=self.bus, queue=self.queue,
            rules=self.rules, library=self.library, on_gone=self.scanner.file_gone,
        )  # fmt: skip
        self.stop_event = asyncio.Event()
        self.started = False
        self.fatal: str | None = None  # why start refused (the CLI exits 2 with it)
        self._needs_stop = False
        self._starting: asyncio.Future[None] | None = None
        self._stopping: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started_monotonic: float | None = None

    @property
    def uptime_seconds(self) -> float:
        if self._started_monotonic is None:
            return 0.0
        return round(time.monotonic() - self._started_monotonic, 1)

    async def start(self) -> None:
        """Start everything; a stop() meanwhile cancels the start (DaemonStopped) and stops
        what had started."""
        if self.started:
            return
        if self._starting is not None:  # a second caller waits for the first start
            await asyncio.shield(self._starting)
            return
        task = self._starting = asyncio.ensure_future(self._start())
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if task.cancelled() and not (current is not None and current.cancelling()):
                raise DaemonStopped("stopped while starting") from None
            raise
        finally:
            if task.done():
                self._starting = None

    def interrupt_start(self) -> None:
        """From a signal handler (SIGTERM while start() waits on a database that does not
        answer): cancel the start; the lifespan then stops what had started."""
        task, loop = self._starting, self._loop
        if task is not None and loop is not None and not task.done():
            loop.call_soon_threadsafe(task.cancel)

    async def _start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.config.ensure_dirs()
        self.lock.acquire()  # DataDirBusy before anything is touched: one daemon per data dir
        try:
            if self.config.db_path is not None:
                await asyncio.to_thread(preflight, self.config.db_path)  # DatabaseUnusable
        except BaseException:
            self.lock.release()
            raise
        self._needs_stop = True  # from here on, stop() has something to undo
        self._log_handler = ensure_file_logging(self.config.logs_dir)  # the Logs page reads it
        self.bus.bind_loop(asyncio.get_running_loop())
        if self.cluster is not None:
            try:  # before recovery touches the queue: another live node may own this id's jobs
                await self.cluster.identity.claim()
            except NodeIdInUse as exc:
                self.fatal = str(exc)
                raise
        backup = await migrate(self.db, sqlite_file=self.config.db_path)
        if backup:
            logger.info("database backup before migration: %s", backup)
        created = await self.settings.init_defaults()
        if created:
            logger.info("initialised %d default settings", created)
        await self.settings.ensure_api_key()
        await self.tokens.load(api_key=self.settings.get("api_key"))  # the key: first admin token
        self.settings.on_change(["api_key"], self.tokens.on_api_key_changed)
        quiet_polling(log_polling=bool(self.settings.get("log_polling_requests")))
        self.settings.on_change(
            ["log_polling_requests"], lambda _key, value: quiet_polling(log_polling=bool(value))
        )
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
        await self.integrations.start()  # before the scanner: scan events reach webhooks
        if self.cluster is None:
            await self.scanner.start()  # scheduler and watcher as the settings say
        else:
            await self.cluster.start()  # the scanner runs on the node holding its duty
            self.scanner.follow_jobs()  # the Library follows the jobs on every full node
        await self.monitor.start()  # periodic integrity_check and backups for /health
        self._watch_sighup()
        gc.freeze()  # start-up objects live forever: keep them out of every later GC pass
        logger.info("subtitler %s ready (node %s)", self.version, self.config.node_id)

    async def stop(self) -> None:
        """Stop everything within STOP_TOTAL seconds (Docker gives 10 before SIGKILL, uvicorn's
        close of open connections comes first): each component gets a share; one that has not
        stopped by then is cancelled and named in the log, and the database connections it
        held are terminated. Safe to call twice, during start(), and with the database down."""
        if self._stopping is not None:  # a second caller waits for the same stop
            await asyncio.shield(self._stopping)
            return
        if not self._needs_stop and self._starting is None:
            return
        task = self._stopping = asyncio.ensure_future(self._stop())
        try:
            await asyncio.shield(task)
        finally:
            if task.done():
                self._stopping = None

    async def _stop(self) -> None:
        deadline = StopDeadline(STOP_TOTAL)
        self.stop_event.set()
        self._unwatch_sighup()
        starting = self._starting
        if starting is not None and not starting.done():
            starting.cancel()
            await deadline.run("the daemon's start", finished(starting), 2.0, keep=5.0)
        await deadline.run("the health monitor", self.monitor.stop(), 0.5, keep=4.5)
        if self.cluster is not None:
            await deadline.run("the cluster service", self.cluster.stop(), 3.0, keep=4.0)
        await deadline.run("the scanner", self.scanner.stop(), 1.0, keep=3.5)
        self.probes.close()  # never waits: a child stuck on a file is killed
        await deadline.run("the integrations", self.integrations.stop(), 1.0, keep=3.0)
        await deadline.run("model downloads", self.models.stop(), 1.0, keep=3.0)
        await self._stop_pool(deadline, keep=1.5)
        await deadline.run("the ASR service", self.asr.stop(), 0.5, keep=1.0)
        await deadline.run("the CPU sampler", self.cpu.stop(), 0.5, keep=1.0)
        await deadline.run("the token store", self.tokens.flush(), 0.5, keep=1.0)  # a last use
        await self._close_database(deadline)
        self.started = self._needs_stop = False
        self.lock.release()
        if deadline.late:
            logger.warning("subtitler stopped; cancelled at the deadline: %s",
                           ", ".join(deadline.late))  # fmt: skip
        else:
            logger.info("subtitler stopped")
        if self._log_handler is not None:
            logging.getLogger().removeHandler(self._log_handler)
            self._log_handler.close()
            self._log_handler = None

    async def _stop_pool(self, deadline: StopDeadline, *, keep: float) -> None:
        """A running job gets POOL_STOP_TIMEOUT (less when others took their time) to finish
        before it is requeued; worker processes still there at the pool's deadline are killed."""
        share = deadline.share(POOL_STOP_TIMEOUT + POOL_KILL_RESERVE, keep=keep)
        grace = max(0.1, share - POOL_KILL_RESERVE)
        if not await deadline.run("the worker pool", self.pool.shutdown(timeout=grace), share):
            killed = self.pool.kill_processes()
            if killed:
                logger.warning("killed %d worker process(es) left at the deadline", killed)

    async def _close_database(self, deadline: StopDeadline) -> None:
        if deadline.late:  # a part left behind may hold a connection: unblock it
            count = self.db.terminate()
            if count:
                logger.warning("terminated %d database connection(s) of late parts", count)
        await self.db.dispose(timeout=deadline.share(2.0))
        left = self.db.terminate()  # still held by a part cancelled inside its own stop
        if left:
            logger.warning("terminated %d database connection(s) still held at the end", left)

    def _watch_sighup(self) -> None:
        """SIGHUP re-reads settings from the database (`subtitler api-key --regenerate`)."""
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(
                signal.SIGHUP, lambda: asyncio.ensure_future(self._reload_settings())
            )

    def _unwatch_sighup(self) -> None:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)

    async def _reload_settings(self) -> None:
        await self.settings.reload()
        # `subtitler api-key --regenerate` wrote a new key: the default admin token follows it
        await self.tokens.load(api_key=self.settings.get("api_key"))
        logger.info("settings re-read from the database (SIGHUP)")

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
        problems = self.monitor.problems()
        report: dict[str, Any] = {
            "status": "degraded" if problems else "healthy",
            "database": "connected",
            "workers": self.worker_stats()["total_workers"],
            "queue_size": stats["queued"],
        }
        if problems:
            report["problems"] = problems
        return report
