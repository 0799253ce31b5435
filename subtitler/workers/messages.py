"""What the supervisor and a worker process say to each other over their pipe.

Each message is a `(kind, payload)` tuple of plain data, so it pickles cheaply and never carries a
database object: worker processes never open the database.
"""

from __future__ import annotations

from typing import Any

# supervisor -> worker
RUN = "run"  # payload: {"job": job dict, "settings": settings snapshot, "models_dir": str}
CANCEL = "cancel"  # payload: job id
STOP = "stop"  # payload: None
REPLY = "reply"  # payload: {"request_id", ...}: the answer to a worker's request

# worker -> supervisor
READY = "ready"  # payload: {"pid": int}
PROGRESS = "progress"  # payload: {"job_id", "progress", "stage", "eta_seconds", "fields"}
LOG = "log"  # payload: {"job_id", "level", "message"}
DONE = "done"  # payload: {"job_id", "result": fields to store}
FAILED = "failed"  # payload: {"job_id", "error", "error_code", "fields"}
CANCELLED = "cancelled"  # payload: {"job_id"}
CACHE_GET = "cache_get"  # payload: {"job_id", "request_id", "key", "texts"} -> REPLY {"found"}
WRITING = "writing"  # payload: {"job_id", "request_id", "path", "sha256", "language"} -> REPLY
# (sent before the subtitle is renamed into place; the REPLY says its intent is recorded)
CACHE_PUT = "cache_put"  # payload: {"job_id", "key", "pairs": [[text, translation], ...]}

Message = tuple[str, Any]
