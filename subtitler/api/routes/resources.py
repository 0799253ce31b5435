"""System Resources API: /api/system."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Path

from subtitler.api.deps import get_daemon
from subtitler.api.schemas import CpuOut, GpuOut, MemoryOut, ResourcesOut
from subtitler.daemon import Daemon
from subtitler.system.resources import cpu_info, memory_info

router = APIRouter(prefix="/api/system", tags=["system resources"])


@router.get("/resources", response_model=ResourcesOut)
async def resources(daemon: Daemon = Depends(get_daemon)) -> ResourcesOut:
    gpus = await asyncio.to_thread(daemon.nvml.gpus)
    return ResourcesOut(
        cpu=CpuOut(**cpu_info(daemon.cpu)),
        memory=MemoryOut(**memory_info()),
        gpus=[GpuOut(**gpu) for gpu in gpus],
    )


@router.get("/cpu", response_model=CpuOut)
async def cpu(daemon: Daemon = Depends(get_daemon)) -> CpuOut:
    return CpuOut(**cpu_info(daemon.cpu))


@router.get("/memory", response_model=MemoryOut)
async def memory() -> MemoryOut:
    return MemoryOut(**memory_info())


@router.get("/gpus", response_model=list[GpuOut])
async def gpus(daemon: Daemon = Depends(get_daemon)) -> list[GpuOut]:
    return [GpuOut(**gpu) for gpu in await asyncio.to_thread(daemon.nvml.gpus)]


@router.get("/gpu/{device_id}", response_model=GpuOut)
async def gpu(device_id: int = Path(ge=0, le=1024), daemon: Daemon = Depends(get_daemon)) -> GpuOut:
    return GpuOut(**await asyncio.to_thread(daemon.nvml.gpu, device_id))
