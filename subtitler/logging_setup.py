"""Logging to stderr and to a rotating file in the data dir (data/logs/subtitler.log)."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
LOG_FILE = "subtitler.log"
LOG_MAX_BYTES = 10 * 1024 * 1024
LOG_BACKUPS = 5


# Access lines (uvicorn.access) of the web page's own polling are dropped unless the
# `log_polling_requests` setting asks for them: successful reads (GET/HEAD below 400) of /api/*,
# /health and the page's files. Writes, errors and other callers (/asr, /status) are always
# logged; the Logs page's own reads (/api/logs) never are, so a filter never matches itself.
POLLED_PREFIXES = ("/api/", "/health", "/assets/", "/favicon")
NEVER_LOGGED = ("/api/logs",)


class QuietPolling(logging.Filter):
    def __init__(self) -> None:
        super().__init__("uvicorn.access")
        self.log_polling = False

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not isinstance(args, tuple) or len(args) < 5:
            return True
        method, full_path, status = str(args[1]), str(args[2]), args[4]
        path = full_path.split("?", 1)[0]
        if path.startswith(NEVER_LOGGED):
            return False
        if self.log_polling or method not in ("GET", "HEAD"):
            return True
        failed = isinstance(status, int) and status >= 400
        return failed or not (path.startswith(POLLED_PREFIXES) or path == "/")


QUIET_POLLING = QuietPolling()


def quiet_polling(*, log_polling: bool = False) -> None:
    """Install the access-line filter (once) and set whether polling reads are logged."""
    access = logging.getLogger("uvicorn.access")
    if QUIET_POLLING not in access.filters:
        access.addFilter(QUIET_POLLING)
    QUIET_POLLING.log_polling = bool(log_polling)


def configure_logging(level: str, logs_dir: Path | None) -> None:
    quiet_polling()
    root = logging.getLogger()
    root.setLevel(level.upper())
    for handler in list(root.handlers):
        root.removeHandler(handler)
    console = logging.StreamHandler()
    console.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(console)
    if logs_dir is not None:
        ensure_file_logging(logs_dir)


def ensure_file_logging(logs_dir: Path) -> logging.Handler:
    """The root logger's rotating file handler for `logs_dir` (added once; the Logs page reads
    the file). Returns the handler so an in-process daemon can remove it when it stops."""
    root = logging.getLogger()
    target = (logs_dir / LOG_FILE).resolve()
    for handler in root.handlers:
        if isinstance(handler, logging.handlers.RotatingFileHandler) and (
            Path(handler.baseFilename) == target
        ):
            return handler
    logs_dir.mkdir(parents=True, exist_ok=True)
    file_handler = logging.handlers.RotatingFileHandler(
        target, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
    )
    file_handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(file_handler)
    return file_handler
