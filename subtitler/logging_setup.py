"""Logging to stderr and to a rotating file in the data dir (data/logs/subtitler.log)."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
LOG_FILE = "subtitler.log"
LOG_MAX_BYTES = 10 * 1024 * 1024
LOG_BACKUPS = 5


def configure_logging(level: str, logs_dir: Path | None) -> None:
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
