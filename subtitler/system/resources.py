"""CPU, memory and GPU readings. CPU usage is sampled by a background task so a request never
blocks; GPUs come from NVML and an absent driver means an empty list, never an error."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import Any

import psutil

from subtitler.errors import NotFound

logger = logging.getLogger(__name__)

CPU_SAMPLE_SECONDS = 1.0


class CpuSampler:
    """Keeps the latest whole-machine CPU percent, measured over CPU_SAMPLE_SECONDS."""

    def __init__(self) -> None:
        self.usage_percent = 0.0
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def start(self) -> None:
        psutil.cpu_percent(interval=None)  # prime: the first reading is measured from here
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="cpu-sampler")

    async def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), CPU_SAMPLE_SECONDS)
            self.usage_percent = float(psutil.cpu_percent(interval=None))

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None


def cpu_info(sampler: CpuSampler) -> dict[str, Any]:
    freq = None
    with contextlib.suppress(Exception):
        reading = psutil.cpu_freq()
        freq = round(reading.current, 1) if reading else None
    return {
        "usage_percent": round(sampler.usage_percent, 1),
        "count_logical": psutil.cpu_count(logical=True) or 0,
        "count_physical": psutil.cpu_count(logical=False) or 0,
        "frequency_mhz": freq,
    }


def memory_info() -> dict[str, Any]:
    mem = psutil.virtual_memory()
    gib = 1024**3
    return {
        "total_gb": round(mem.total / gib, 2),
        "used_gb": round((mem.total - mem.available) / gib, 2),
        "free_gb": round(mem.available / gib, 2),
        "usage_percent": round(mem.percent, 1),
    }


class Nvml:
    """NVML through nvidia-ml-py, initialised once. No driver → no GPUs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: bool | None = None
        self.unavailable_reason: str | None = None

    def _init(self) -> bool:
        with self._lock:
            if self._ready is None:
                try:
                    import pynvml

                    pynvml.nvmlInit()
                    self._ready = True
                except Exception as exc:  # no library, no driver, no device
                    self._ready = False
                    self.unavailable_reason = str(exc) or type(exc).__name__
                    logger.info("no NVIDIA GPU readings: %s", self.unavailable_reason)
            return self._ready

    def gpus(self) -> list[dict[str, Any]]:
        if not self._init():
            return []
        import pynvml

        out = []
        try:
            count = pynvml.nvmlDeviceGetCount()
        except Exception:
            logger.exception("NVML device count failed")
            return []
        for index in range(count):
            try:
                out.append(self._read(pynvml, index))
            except Exception:
                logger.exception("NVML reading of GPU %s failed", index)
        return out

    def gpu(self, device_id: int) -> dict[str, Any]:
        for gpu in self.gpus():
            if gpu["id"] == device_id:
                return gpu
        raise NotFound(f"GPU {device_id} not found", code="gpu_not_found")

    def process_memory_mb(self, pid: int) -> int | None:
        """VRAM held by one process (summed over devices), or None without NVML."""
        if not self._init():
            return None
        import pynvml

        total = 0
        found = False
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            with contextlib.suppress(Exception):
                for proc in pynvml.nvmlDeviceGetComputeRunningProcesses(handle):
                    if proc.pid == pid and proc.usedGpuMemory:
                        total += proc.usedGpuMemory
                        found = True
        return total // (1024 * 1024) if found else None

    @staticmethod
    def _read(pynvml: Any, index: int) -> dict[str, Any]:
        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        name = pynvml.nvmlDeviceGetName(handle)
        if isinstance(name, bytes):
            name = name.decode()
        mem = pynvml.nvmlDeviceGetMemoryInfo(handle)
        util = None
        with contextlib.suppress(Exception):
            util = int(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu)
        mib = 1024 * 1024
        return {
            "id": index,
            "name": name,
            "memory_total_mb": int(mem.total // mib),
            "memory_used_mb": int(mem.used // mib),
            "memory_free_mb": int(mem.free // mib),
            "utilization_percent": util,
        }
