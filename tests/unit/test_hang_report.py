"""A hung test ends the run within its timeout and says where it hung: every thread's stack and
the pending asyncio tasks (tests/hangs.py on top of pytest-timeout's thread method)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("pytest_timeout")

ROOT = Path(__file__).resolve().parents[2]

HANGS = """
import asyncio


def test_waits_forever() -> None:
    async def main() -> None:
        await asyncio.create_task(asyncio.Event().wait(), name="the-stuck-stop")

    asyncio.run(main())
"""


def test_a_hung_test_ends_the_run_with_its_tasks_and_threads(tmp_path: Path) -> None:
    test_file = tmp_path / "test_hangs.py"
    test_file.write_text(HANGS)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(test_file), "-c", "/dev/null", "-p", "tests.hangs",
         "--timeout", "2", "--timeout-method", "thread", "-q", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert time.monotonic() - started < 200
    assert "pending asyncio task(s)" in out and "the-stuck-stop" in out, out
    assert "Stack of MainThread" in out, out  # every thread's stack
    assert "test_hangs.py" in out and "in main" in out, out  # the line the task waits on
