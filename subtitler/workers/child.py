"""The worker process: receives a job over its pipe, runs the pipeline, reports back.

It never opens the database; everything it learns goes to the supervisor as a message. A crash
here (even a native one) only ends this process: the supervisor requeues the job and restarts it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
import traceback
import uuid
from multiprocessing.connection import Connection
from typing import Any

from subtitler.errors import SubtitlerError
from subtitler.translation.pipe_cache import PipeCache
from subtitler.workers import messages as msg

logger = logging.getLogger(__name__)

IDLE_POLL_SECONDS = 5.0
# Transcription yields the CPU to the daemon (API, uploads) and to the media server next door.
WORKER_NICENESS = 10
PR_SET_PDEATHSIG = 1


class Reporter:
    """Progress, log lines and the cancel flag of the running job, over the pipe."""

    def __init__(self, conn: Connection, job_id: str) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self.job_id = job_id
        self.stop_requested = False
        self._cancelled = False
        self._broken = False
        self._parent = os.getppid()
        self.translation_cache = PipeCache(self)

    def _send(self, kind: str, payload: Any) -> None:
        with self._lock:
            if self._broken:
                return
            try:
                self._conn.send((kind, payload))
            except OSError:  # the supervisor went away (or killed us): nobody to tell
                self._broken = True

    def progress(
        self,
        progress: float,
        *,
        stage: str | None = None,
        eta_seconds: float | None = None,
        **fields: Any,
    ) -> None:
        self._send(
            msg.PROGRESS,
            {
                "job_id": self.job_id,
                "progress": progress,
                "stage": stage,
                "eta_seconds": eta_seconds,
                "fields": fields,
            },
        )

    def log(self, message: str, *, level: str = "info") -> None:
        self._send(msg.LOG, {"job_id": self.job_id, "level": level, "message": message})

    def request(self, kind: str, payload: dict[str, Any], *, timeout: float = 30.0) -> Any:
        """Ask the supervisor and wait for its REPLY (None on timeout); a cancel or stop that
        arrives meanwhile is remembered."""
        request_id = uuid.uuid4().hex
        self._send(kind, {**payload, "job_id": self.job_id, "request_id": request_id})
        deadline = time.monotonic() + timeout
        with self._lock:
            while not self._broken:
                left = deadline - time.monotonic()
                if left <= 0 or not self._conn.poll(left):
                    return None
                got, answer = self._conn.recv()
                if got == msg.CANCEL and answer == self.job_id:
                    self._cancelled = True
                elif got == msg.STOP:
                    self._cancelled = self.stop_requested = True
                elif got == msg.REPLY and answer.get("request_id") == request_id:
                    return answer
        return None

    def intend_write(self, path: str, sha256: str, language: str | None) -> None:
        """Before a subtitle is renamed into place: have the supervisor record that this job
        writes it (see subtitler.subtitles.registry). Waits for the record, but not for ever:
        without an answer the file is written anyway, and the DONE records it as before."""
        answer = self.request(
            msg.WRITING, {"path": path, "sha256": sha256, "language": language}, timeout=60.0
        )
        if answer is None:
            logger.warning("job %s: the intent to write %s was not acknowledged", self.job_id, path)

    def cancelled(self) -> bool:
        """Poll the pipe for a cancel (or stop) addressed to this job; cheap, non-blocking."""
        if self._cancelled:
            return True
        if self._broken or os.getppid() != self._parent:  # the daemon is gone: stop, write nothing
            self._cancelled = True
            return True
        with self._lock:
            while self._conn.poll():
                kind, payload = self._conn.recv()
                if kind == msg.CANCEL and payload == self.job_id:
                    self._cancelled = True
                elif kind == msg.STOP:
                    self._cancelled = True
                    self.stop_requested = True
        return self._cancelled


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when the daemon dies (even by SIGKILL), so an orphan
    never finishes a job and writes a file that the restarted daemon does not know about."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the pipe EOF and the ppid check still apply
        logger.debug("PR_SET_PDEATHSIG unavailable")


def worker_main(
    conn: Connection, worker_id: str, device: str, device_index: int, log_level: str
) -> None:
    _die_with_parent()
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the daemon's to handle
    logging.basicConfig(
        level=log_level.upper(), format=f"%(asctime)s %(levelname)-7s {worker_id}: %(message)s"
    )
    from subtitler.workers.pipeline import JobRunner

    runner = JobRunner(worker_id=worker_id, device=device, device_index=device_index)
    conn.send((msg.READY, {"pid": os.getpid()}))
    while True:
        if not conn.poll(IDLE_POLL_SECONDS):
            runner.unload_if_idle()
            continue
        try:
            kind, payload = conn.recv()
        except EOFError:
            return  # the supervisor is gone
        if kind == msg.STOP:
            return
        if kind != msg.RUN:
            continue  # a late cancel for a job that already ended
        job = payload["job"]
        reporter = Reporter(conn, job["id"])
        try:
            result = runner.run(
                job=job,
                settings=payload["settings"],
                models_dir=payload["models_dir"],
                reporter=reporter,
            )
        except SubtitlerError as exc:
            if exc.code == "cancelled":
                conn.send((msg.CANCELLED, {"job_id": job["id"]}))
            else:
                conn.send(
                    (
                        msg.FAILED,
                        {
                            "job_id": job["id"],
                            "error": exc.detail,
                            "error_code": exc.code,
                            "fields": getattr(exc, "fields", {}),
                        },
                    )
                )
        except Exception as exc:
            logger.exception("job %s failed", job["id"])
            reporter.log(traceback.format_exc(limit=8), level="error")
            conn.send(
                (
                    msg.FAILED,
                    {
                        "job_id": job["id"],
                        "error": f"{type(exc).__name__}: {exc}",
                        "error_code": "internal_error",
                        "fields": {},
                    },
                )
            )
        else:
            conn.send((msg.DONE, {"job_id": job["id"], "result": result}))
        if reporter.stop_requested:
            return
