"""Health warnings for the System page: each a code, a level and a sentence for the user."""

from __future__ import annotations

import asyncio
import ctypes.util
import logging
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from subtitler.db.models import Job, JobLogLine, utcnow
from subtitler.jobs.states import JobStatus

logger = logging.getLogger(__name__)

LOW_DISK_BYTES = 2 * 1024**3  # under this much free space a disk is "low"
FALLBACK_WINDOW = timedelta(hours=24)
_CUDA_LIBS = ("cublas", "cudnn")


def _warning(code: str, level: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "level": level, "message": message, **extra}


def disk_warnings(paths: dict[str, str]) -> list[dict[str, Any]]:
    """Low disk on the data folder or a library folder; unreachable library folders."""
    out: list[dict[str, Any]] = []
    for label, path in paths.items():
        if not Path(path).is_dir():
            if label != "data":
                out.append(
                    _warning(
                        "library_unreachable", "error",
                        f"The library folder {path} cannot be reached", path=path,
                    )
                )  # fmt: skip
            continue
        free = shutil.disk_usage(path).free
        if free < LOW_DISK_BYTES:
            out.append(
                _warning(
                    "low_disk", "warning",
                    f"Only {free / 1024**3:.1f} GB free on the disk of {path}",
                    path=path, free_bytes=free,
                )
            )  # fmt: skip
    return out


def cuda_libs_missing() -> list[str]:
    return [
        name
        for name in _CUDA_LIBS
        if ctypes.util.find_library(name) is None and not _in_wheels(name)
    ]


def _in_wheels(name: str) -> bool:
    """The nvidia-*-cu12 wheels put their libraries under site-packages/nvidia/<name>/lib."""
    try:
        import nvidia
    except ImportError:
        return False
    return any((Path(p) / name / "lib").is_dir() for p in getattr(nvidia, "__path__", []))


async def collect_warnings(daemon: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    stats = await daemon.queue.stats()
    workers = daemon.worker_stats()
    active = workers["total_workers"] - workers["stopped_workers"] - workers["error_workers"]
    if stats["queued"] and (not workers["is_running"] or active <= 0):
        out.append(
            _warning(
                "no_workers", "error",
                f"{stats['queued']} job(s) are queued but no worker is running",
                queued=stats["queued"],
            )
        )  # fmt: skip
    if shutil.which("ffmpeg") is None:
        out.append(_warning("ffmpeg_missing", "error", "ffmpeg is not installed or not on PATH"))
    gpus = await asyncio.to_thread(daemon.nvml.gpus)
    if gpus:
        missing = await asyncio.to_thread(cuda_libs_missing)
        if missing:
            out.append(
                _warning(
                    "cuda_libs_missing", "warning",
                    "A GPU is present but the CUDA libraries are missing "
                    f"({', '.join(missing)}); transcription runs on the CPU",
                )
            )  # fmt: skip
    fallback = await _fallback_line(daemon)
    if fallback:
        out.append(_warning("model_fallback", "warning", fallback))
    paths = {"data": str(daemon.config.data_dir)}
    for p in daemon.settings.get("library_paths") or []:
        paths[str(p)] = str(p)
    out.extend(await asyncio.to_thread(disk_warnings, paths))
    out.extend(await _provider_warning(daemon))
    return out


async def _fallback_line(daemon: Any) -> str | None:
    """The latest job-log warning of a fallback (another model or the CPU) in the last day."""
    since = utcnow() - FALLBACK_WINDOW
    async with daemon.db.read() as session:
        line = await session.scalar(
            select(JobLogLine.message)
            .join(Job, Job.id == JobLogLine.job_id)
            .where(
                JobLogLine.level == "warning",
                JobLogLine.created_at >= since,
                JobLogLine.message.ilike("%using%"),
                Job.status != JobStatus.CANCELLED,
            )
            .order_by(JobLogLine.created_at.desc())
            .limit(1)
        )
    return f"A fallback is in use: {line}" if line else None


async def _provider_warning(daemon: Any) -> list[dict[str, Any]]:
    """The configured translation provider (subtitler.translation) cannot be reached."""
    from subtitler.translation.service import TranslationService

    status = await TranslationService(daemon.settings).status()
    if status["provider"] == "none" or status["reachable"]:
        return []
    return [
        _warning(
            "translation_unreachable", "warning",
            f"The translation provider {status['provider']} cannot be reached: {status['detail']}",
        )
    ]  # fmt: skip
