"""The worker cap: `max_workers`, 0 meaning twice the CPU cores (400 above it)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from subtitler.errors import BadRequest


def worker_cap(settings: Callable[[str], Any]) -> int:
    configured = int(settings("max_workers") or 0)
    return configured if configured > 0 else 2 * (os.cpu_count() or 1)


def check_worker_count(total: int, settings: Callable[[str], Any]) -> None:
    cap = worker_cap(settings)
    if total > cap:
        raise BadRequest(
            f"at most {cap} workers may run at once (max_workers; 0 means twice the CPU "
            f"cores); {total} asked for",
            code="too_many_workers",
        )
