"""Jobs: states and transitions, the queue (the only code that changes a job's state), and the
service the API and the scanner call."""

from subtitler.jobs.queue import JobQueue
from subtitler.jobs.service import JobService

__all__ = ["JobQueue", "JobService"]
