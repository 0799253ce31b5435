"""Automatic retries of transient failures: which error codes are transient, and the backoff.

A provider that did not answer, a network share that went away, a full disk: these may be gone
in a minute, so the job goes back to the queue with a not-before time (exponential backoff,
settings `job_auto_retry_max` and `job_auto_retry_backoff_seconds`). Anything else (no speech, a
user's subtitle in the way, a broken file) fails at once: retrying would only fail again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

TRANSIENT_CODES = frozenset(
    {
        "disk_full",
        "media_unavailable",  # the file's folder is gone too: an unmounted share
        "io_error",
        "network_error",
        "provider_unavailable",
        "provider_error",
        "translation_provider_unavailable",
    }
)
MAX_BACKOFF_SECONDS = 3600.0


class RetryPolicy:
    def __init__(self, setting: Callable[[str], Any]) -> None:
        self._setting = setting

    @staticmethod
    def is_transient(error_code: str) -> bool:
        return error_code in TRANSIENT_CODES

    def delay(self, retries_done: int) -> float | None:
        """Seconds before the next automatic try, None when the retries are used up."""
        limit = int(self._setting("job_auto_retry_max") or 0)
        if retries_done >= limit:
            return None
        base = float(self._setting("job_auto_retry_backoff_seconds") or 0)
        return min(MAX_BACKOFF_SECONDS, base * (2**retries_done))


def retry_message(error_code: str, error: str, delay: float) -> str:
    return f"transient failure ({error_code}): {error}; retrying automatically in {delay:.0f} s"
