"""Jobs: states and transitions, the queue (the only code that changes a job's state), and the
service the API and the scanner call.

JobQueue and JobService load on first use: a worker process imports subtitler.jobs.* modules that
need no database, and must not pay for SQLAlchemy (start-up time and memory of each worker)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from subtitler.jobs.queue import JobQueue
    from subtitler.jobs.service import JobService

__all__ = ["JobQueue", "JobService"]


def __getattr__(name: str) -> Any:
    if name == "JobQueue":
        from subtitler.jobs.queue import JobQueue

        return JobQueue
    if name == "JobService":
        from subtitler.jobs.service import JobService

        return JobService
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
