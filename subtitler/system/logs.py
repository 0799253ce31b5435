"""The Logs page: the tail of data/logs/subtitler.log parsed into lines, filtered by level and
text, read from a byte offset so the page can follow the file (live tail by polling)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from subtitler.errors import BadRequest
from subtitler.logging_setup import LOG_FILE

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TAIL_BYTES = 512 * 1024  # a first read looks at most this far back
MAX_READ = 2 * 1024 * 1024  # one follow-up read returns at most this much
_LINE = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (?P<level>[A-Z]+)\s+(?P<logger>[\w.]+): "
    r"(?P<message>.*)$"
)


def log_path(logs_dir: Path) -> Path:
    return logs_dir / LOG_FILE


def parse_lines(text: str) -> list[dict[str, Any]]:
    """Lines of the log; a line that does not start a record (a traceback) joins the last."""
    out: list[dict[str, Any]] = []
    for raw in text.splitlines():
        match = _LINE.match(raw)
        if match:
            out.append(match.groupdict())
        elif out:
            out[-1]["message"] += "\n" + raw
    return out


def tail(
    logs_dir: Path,
    *,
    after: int | None,
    level: str | None,
    q: str | None,
    limit: int,
) -> dict[str, Any]:
    """Lines since byte `after` (None: the last `limit` lines), at `level` or above, containing
    `q`; `offset` is where the next call continues (0 again after a rotation)."""
    if level is not None and level.upper() not in LEVELS:
        raise BadRequest(f"level must be one of {', '.join(LEVELS)}", code="invalid_level")
    path = log_path(logs_dir)
    if not path.is_file():
        return {"lines": [], "offset": 0, "size": 0, "file": str(path)}
    size = path.stat().st_size
    start = size - TAIL_BYTES if after is None else after
    if start > size:  # the file was rotated since: read the new one from its start
        start = 0
    start = max(0, start)
    with path.open("rb") as fh:
        fh.seek(start)
        data = fh.read(MAX_READ)
    end = start + len(data)
    cut = data.rfind(b"\n")  # hand out whole lines only
    if cut >= 0:
        data, end = data[: cut + 1], start + cut + 1
    text = data.decode("utf-8", errors="replace")
    if after is None and start > 0:
        text = text.split("\n", 1)[1] if "\n" in text else ""
    lines = parse_lines(text)
    if level:
        floor = LEVELS.index(level.upper())
        lines = [
            ln for ln in lines if ln["level"] not in LEVELS or LEVELS.index(ln["level"]) >= floor
        ]
    if q:
        needle = q.lower()
        lines = [ln for ln in lines if needle in ln["message"].lower() or needle in ln["logger"]]
    return {"lines": lines[-limit:], "offset": end, "size": size, "file": str(path)}
