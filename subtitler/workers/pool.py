"""The worker pool: adds, removes and supervises worker processes, and wakes them for new jobs.

Pool size comes from settings at start; changes made through the API are written back to
settings, so they survive a restart. The size is the most processes that run: a worker without a
job for `worker_idle_stop_seconds` stops its process ("sleeping") and starts it for the next job.
With that stop set, the daemon's launch starts its workers asleep too: no worker process runs
until there is work. A pool started by hand (Workers page, wizard, POST /api/workers) starts
awake, since whoever started it is about to use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any

import psutil

from subtitler.cluster.paths import PathMapper
from subtitler.errors import BadRequest, NotFound
from subtitler.events import EventBus
from subtitler.jobs.queue import JobQueue
from subtitler.jobs.results import JobResults
from subtitler.security.limits import check_worker_count, worker_cap
from subtitler.settings import REGISTRY, SettingsService
from subtitler.subtitles.registry import WrittenSubtitles
from subtitler.system.resources import Nvml
from subtitler.workers.supervised import SLEEPING, SupervisedWorker, WorkerSpec

logger = logging.getLogger(__name__)


def auto_cpu_workers() -> int:
    """One worker per core, at most one per 2 GB of RAM, at most 4 (see worker_cpu_count)."""
    cores = psutil.cpu_count(logical=False) or os.cpu_count() or 1
    ram_gb = psutil.virtual_memory().total / 1024**3
    return max(1, min(cores, int(ram_gb // 2), 4))


def cpu_threads_per_worker(cpu_workers: int) -> int:
    """Split the cores between the CPU workers (a lone worker gets them all)."""
    return max(1, (os.cpu_count() or 1) // max(1, cpu_workers))


class WorkerPool:
    def __init__(
        self,
        *,
        queue: JobQueue,
        settings: SettingsService,
        bus: EventBus,
        nvml: Nvml,
        models_dir: str,
        log_level: str,
        written: WrittenSubtitles,
        results: JobResults | None = None,
    ) -> None:
        self._queue = queue
        self._settings = settings
        self._bus = bus
        self._nvml = nvml
        self._models_dir = models_dir
        self._log_level = log_level
        self._written = written
        self._results = results
        self.workers: dict[str, SupervisedWorker] = {}
        self._crashed_jobs: dict[str, int] = {}
        self._listener: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.paths = PathMapper()  # this node's SUBTITLER_PATH_MAPPINGS (subtitler.cluster)
        self.node_info: dict[str, str] = {}  # node_id and host, added to every worker described
        # Node-scoped counts (SUBTITLER_CPU_WORKERS / _GPU_WORKERS) win over the shared settings,
        # and such a node does not write its counts back into them.
        self.count_overrides: tuple[int | None, int | None] = (None, None)

    @property
    def is_running(self) -> bool:
        return any(w.state.status not in ("stopped", "error") for w in self.workers.values())

    # --- lifecycle --------------------------------------------------------------------------
    async def start(self, *, start_workers: bool = True) -> None:
        """Start the event listener and (unless told not to) the workers the settings ask for."""
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="pool-events")
        if not start_workers:
            return
        cpu_env, gpu_env = self.count_overrides
        cpu = int(self._settings.get("worker_cpu_count") if cpu_env is None else cpu_env)
        if cpu < 0:
            cpu = auto_cpu_workers()
        gpu = int(self._settings.get("worker_gpu_count") if gpu_env is None else gpu_env)
        if gpu < 0:
            gpu = len(await asyncio.to_thread(self._nvml.gpus))
        cap = worker_cap(self._settings.get)
        if cpu + gpu > cap:
            logger.warning("%d workers configured; starting %d (max_workers)", cpu + gpu, cap)
            gpu = min(gpu, cap)
            cpu = cap - gpu
        await self._start_workers(cpu=cpu, gpu=gpu, asleep=self._idle_stop_seconds() > 0)

    async def shutdown(self, *, timeout: float) -> None:
        """Daemon stop: running jobs go back to the queue (settings are left as they are)."""
        await asyncio.gather(*(w.stop(timeout=timeout) for w in self.workers.values()))
        self.workers.clear()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None

    def kill_processes(self) -> int:
        """The stop's last resort when shutdown() ran past its deadline: kill every worker
        process still alive (their jobs' leases or recovery requeue them). Returns how many."""
        killed = 0
        for worker in self.workers.values():
            proc = getattr(worker, "_proc", None)
            if proc is not None and proc.is_alive():
                proc.kill()
                killed += 1
        return killed

    # --- the Workers API ------------------------------------------------------------------
    async def add(self, *, worker_type: str, device_id: int | None) -> SupervisedWorker:
        async with self._lock:
            check_worker_count(len(self.workers) + 1, self._settings.get)
            worker = await self._add(worker_type=worker_type, device_id=device_id)
            await self._write_counts()
        return worker

    async def remove(self, worker_id: str, *, timeout: float) -> None:
        async with self._lock:
            worker = self.get(worker_id)
            await worker.stop(timeout=timeout)
            self.workers.pop(worker_id, None)
            await self._write_counts()
        self._bus.publish("worker_removed", {"worker_id": worker_id} | self.node_info)

    async def start_pool(self, *, cpu: int, gpu: int) -> None:
        if cpu < 0 or gpu < 0:
            raise BadRequest("worker counts must be >= 0", code="invalid_worker_count")
        check_worker_count(cpu + gpu, self._settings.get)
        async with self._lock:
            await self._start_workers(cpu=cpu, gpu=gpu)
            await self._write_counts()

    async def stop_pool(self, *, timeout: float) -> None:
        async with self._lock:
            await asyncio.gather(*(w.stop(timeout=timeout) for w in self.workers.values()))
            self.workers.clear()
            await self._write_counts()

    def get(self, worker_id: str) -> SupervisedWorker:
        worker = self.workers.get(worker_id)
        if worker is None:
            raise NotFound(f"Worker {worker_id} not found", code="worker_not_found")
        return worker

    def list(self) -> list[dict[str, Any]]:
        return [w.describe() | self.node_info for w in self.workers.values()]

    def stats(self) -> dict[str, Any]:
        described = self.list()
        statuses = [w["status"] for w in described]
        return {
            "total_workers": len(described),
            "cpu_workers": sum(1 for w in described if w["worker_type"] == "cpu"),
            "gpu_workers": sum(1 for w in described if w["worker_type"] == "gpu"),
            "idle_workers": statuses.count("idle"),
            "busy_workers": statuses.count("busy"),
            "stopped_workers": statuses.count("stopped") + statuses.count("stopping"),
            "error_workers": statuses.count("error"),
            "starting_workers": statuses.count("starting"),
            "sleeping_workers": statuses.count(SLEEPING),
            "total_jobs_completed": sum(w["jobs_completed"] for w in described),
            "total_jobs_failed": sum(w["jobs_failed"] for w in described),
            "uptime_seconds": max((w["uptime_seconds"] for w in described), default=0.0),
            "is_running": self.is_running,
        }

    # --- internals ------------------------------------------------------------------------
    def _idle_stop_seconds(self) -> float:
        """worker_idle_stop_seconds as it is now (0: worker processes never stop)."""
        return float(self._settings.get("worker_idle_stop_seconds") or 0)

    async def _start_workers(self, *, cpu: int, gpu: int, asleep: bool = False) -> None:
        have_cpu = sum(1 for w in self.workers.values() if w.spec.worker_type == "cpu")
        have_gpu = sum(1 for w in self.workers.values() if w.spec.worker_type == "gpu")
        for _ in range(max(0, cpu - have_cpu)):
            await self._add(worker_type="cpu", device_id=None, asleep=asleep)
        gpus = await asyncio.to_thread(self._nvml.gpus) if gpu > have_gpu else []
        for n in range(max(0, gpu - have_gpu)):
            if not gpus:
                logger.warning("%d GPU workers asked for, but no GPU is visible", gpu)
                break
            await self._add(worker_type="gpu", device_id=gpus[n % len(gpus)]["id"], asleep=asleep)

    async def _add(
        self, *, worker_type: str, device_id: int | None, asleep: bool = False
    ) -> SupervisedWorker:
        if worker_type not in ("cpu", "gpu"):
            raise BadRequest(
                f"worker_type must be 'cpu' or 'gpu', got {worker_type!r}", code="invalid_worker"
            )
        if worker_type == "gpu":
            if device_id is None:
                raise BadRequest("device_id is required for a GPU worker", code="missing_device")
            gpus = await asyncio.to_thread(self._nvml.gpus)
            if not gpus:
                why = self._nvml.unavailable_reason or "no device"
                raise BadRequest(f"No GPU available ({why})", code="no_gpu")
            if device_id not in {g["id"] for g in gpus}:
                raise BadRequest(
                    f"GPU {device_id} does not exist; devices: "
                    + ", ".join(str(g["id"]) for g in gpus),
                    code="unknown_device",
                )
        elif device_id is not None:
            raise BadRequest("device_id is only for GPU workers", code="invalid_worker")
        worker_id = self._next_id(worker_type)
        worker = SupervisedWorker(
            WorkerSpec(worker_id=worker_id, worker_type=worker_type, device_id=device_id),
            queue=self._queue,
            snapshot=self._settings_snapshot,
            log_level=self._log_level,
            crashed_jobs=self._crashed_jobs,
            written=self._written,
            vram_probe=self._nvml.process_memory_mb,
            publish=lambda kind, data: self._bus.publish(kind, data | self.node_info),
            results=self._results,
            paths=self.paths,
            idle_stop=self._idle_stop_seconds,
            asleep=asleep,
        )
        self.workers[worker_id] = worker
        worker.start()
        self._bus.publish("worker_added", worker.describe() | self.node_info)
        return worker

    def _next_id(self, worker_type: str) -> str:
        n = 0
        while f"worker-{worker_type}-{n}" in self.workers:
            n += 1
        return f"worker-{worker_type}-{n}"

    async def _write_counts(self) -> None:
        if self.count_overrides != (None, None):
            return
        cpu = sum(1 for w in self.workers.values() if w.spec.worker_type == "cpu")
        gpu = sum(1 for w in self.workers.values() if w.spec.worker_type == "gpu")
        await self._settings.bulk_update({"worker_cpu_count": cpu, "worker_gpu_count": gpu})

    def _settings_snapshot(self) -> dict[str, Any]:
        snapshot = {key: self._settings.get(key) for key in REGISTRY if key != "api_key"}
        snapshot["__models_dir__"] = self._models_dir
        cpu_workers = sum(1 for w in self.workers.values() if w.spec.worker_type == "cpu")
        snapshot["__cpu_threads__"] = cpu_threads_per_worker(cpu_workers)
        return snapshot

    async def _listen(self) -> None:
        sub = self._bus.subscribe({"job_created", "job_updated"})
        try:
            while True:
                event = await sub.get()
                if event is None:
                    continue
                status = event.data.get("status")
                if event.type == "job_created" or status == "queued":
                    for worker in self.workers.values():
                        worker.wake()
                elif status == "cancelled":
                    for worker in self.workers.values():
                        worker.cancel_job(str(event.data.get("id")))
        finally:
            sub.close()
