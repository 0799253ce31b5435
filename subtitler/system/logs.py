"""The Logs page: the tail of data/logs/subtitler.log parsed into lines, filtered by level and
text, read from a byte offset so the page can follow the file (live tail by polling)."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, BinaryIO

from subtitler.errors import BadRequest, NotFound
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
    return [line for line, _ in _parse(text.encode("utf-8"), 0)]


def _parse(data: bytes, base: int) -> list[tuple[dict[str, Any], int]]:
    """(record, byte offset where it starts) for the records in `data` (read at `base`)."""
    out: list[tuple[dict[str, Any], int]] = []
    pos = base
    for raw in data.split(b"\n"):
        here, pos = pos, pos + len(raw) + 1
        text = raw.decode("utf-8", errors="replace").rstrip("\r")
        match = _LINE.match(text)
        if match:
            out.append((match.groupdict(), here))
        elif out and text:
            out[-1][0]["message"] += "\n" + text
    return out


def tail(
    logs_dir: Path,
    *,
    after: int | None,
    level: str | None,
    q: str | None,
    limit: int,
    before: int | None = None,
) -> dict[str, Any]:
    """Lines since byte `after` (None: the last `limit` lines), or the lines before byte
    `before` (paging back), at `level` or above, containing `q` (server side: the page never
    filters what it was not sent). `offset` is where the next follow-up call continues (0 again
    after a rotation); `start` where the returned lines begin, `more_before` whether earlier
    lines exist (ask again with before=start), `truncated` whether `limit` cut lines here."""
    if level is not None and level.upper() not in LEVELS:
        raise BadRequest(f"level must be one of {', '.join(LEVELS)}", code="invalid_level")
    path = log_path(logs_dir)
    if not path.is_file():
        return {
            "lines": [], "offset": 0, "size": 0, "file": str(path), "start": 0,
            "more_before": False, "truncated": False,
        }  # fmt: skip
    size = path.stat().st_size
    if before is not None:
        end_at = min(before, size)
        start = max(0, end_at - TAIL_BYTES)
    else:
        start = size - TAIL_BYTES if after is None else after
        if start > size:  # the file was rotated since: read the new one from its start
            start = 0
        start = max(0, start)
        end_at = start + MAX_READ
    with path.open("rb") as fh:
        fh.seek(start)
        data = fh.read(max(0, end_at - start))
    end = start + len(data)
    cut = data.rfind(b"\n")  # hand out whole lines only
    if cut >= 0:
        data, end = data[: cut + 1], start + cut + 1
    base = start
    if (after is None or before is not None) and start > 0:  # drop the partial first line
        first = data.find(b"\n")
        data, base = (data[first + 1 :], start + first + 1) if first >= 0 else (b"", end)
    parsed = _parse(data, base)
    if level:
        floor = LEVELS.index(level.upper())
        parsed = [
            (ln, o)
            for ln, o in parsed
            if ln["level"] not in LEVELS or LEVELS.index(ln["level"]) >= floor
        ]
    if q:
        needle = q.lower()
        parsed = [
            (ln, o)
            for ln, o in parsed
            if needle in ln["message"].lower() or needle in ln["logger"].lower()
        ]
    shown = parsed[-limit:]
    first_at = shown[0][1] if shown else base
    return {
        "lines": [ln for ln, _ in shown],
        "offset": end if before is None else size,
        "size": size,
        "file": str(path),
        "start": first_at,
        "more_before": first_at > 0,
        "truncated": len(parsed) > len(shown),
    }


class Snapshot:
    """The log file as it is now: the open file and its size at the request. Serving exactly
    that many bytes from the open file never mismatches Content-Length while the daemon keeps
    writing, and a rotation (a rename) leaves the open file readable."""

    CHUNK = 64 * 1024

    def __init__(self, logs_dir: Path) -> None:
        path = log_path(logs_dir)
        try:
            self._fh: BinaryIO = path.open("rb")
        except FileNotFoundError:
            raise NotFound("No log file yet", code="no_log_file") from None
        self.size = os.fstat(self._fh.fileno()).st_size

    def read(self, n: int) -> bytes:
        return self._fh.read(n)

    def close(self) -> None:
        self._fh.close()

    async def chunks(self) -> AsyncIterator[bytes]:
        left = self.size
        try:
            while left > 0:
                data = await asyncio.to_thread(self.read, min(self.CHUNK, left))
                if not data:  # cut shorter meanwhile (not our rotation): pad, keep the length
                    yield b"\n" * left
                    break
                left -= len(data)
                yield data
        finally:
            self.close()
