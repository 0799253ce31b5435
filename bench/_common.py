"""What every bench shares: its argument parser (with `--quick`), the machine it ran on, progress
lines on stderr and the one JSON object it prints last.

A bench is `bench/<name>.py` run as a script: it builds its parser with `parser(__doc__)`, adds
its own options, applies its smallest sizes when `args.quick` is set (CI runs every bench that
way: tests/test_benches.py) and ends with `sys.exit(emit(report))`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# when the bench started (this module is imported first thing): its JSON says how busy the
# machine was at both ends of the run, and how long the run took
STARTED = time.monotonic()
LOAD_AT_START = _load()

QUICK_HELP = (
    "the smallest run, well under a minute (CI: it completes and prints its JSON; its figures "
    "mean nothing)"
)


def parser(doc: str | None) -> argparse.ArgumentParser:
    """The bench's parser: its docstring's first line as description, and `--quick`
    (`--smoke` is the old spelling of the same flag)."""
    first = (doc or "").strip().splitlines()
    made = argparse.ArgumentParser(
        description=first[0] if first else None,
        epilog="\n".join(first[1:]).strip() or None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    made.add_argument("--quick", "--smoke", dest="quick", action="store_true", help=QUICK_HELP)
    return made


def say(message: str) -> None:
    """A progress line on stderr (stdout carries the JSON only)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def cpu_model() -> str | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or None


def memory_gib() -> float | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    return None


def machine() -> dict[str, Any]:
    """The machine a figure was measured on: `nproc`, RAM, CPU model, and how busy it was."""
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        nproc = os.cpu_count() or 1
    return {
        "nproc": nproc,
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "memory_gib": memory_gib(),
        "loadavg": _load(),  # 1, 5, 15 minutes, when the report was made
        "loadavg_at_start": LOAD_AT_START,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def emit(report: dict[str, Any], *, bench: str | None = None) -> int:
    """Print the report as the bench's one JSON object (stdout), with when, where and how it was
    run; the exit status: 1 when the report carries an "error", else 0."""
    name = bench or Path(sys.argv[0]).stem
    head: dict[str, Any] = {
        "bench": name,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([f"bench/{name}.py", *sys.argv[1:]]),
        "run_seconds": round(time.monotonic() - STARTED, 1),
    }
    extra = report.pop("machine", None)
    full = {**head, "machine": (extra or {}) | machine(), **report}  # the load at the end
    print(json.dumps(full, indent=2), flush=True)
    return 1 if full.get("error") else 0
