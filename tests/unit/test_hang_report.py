"""A hung test fails within its timeout and says where it hung: every thread's stack and the
pending asyncio tasks (tests/hangs.py on top of pytest-timeout). With the signal method (the
project's) the run goes on to the next test; with the thread method it ends."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("pytest_timeout")

ROOT = Path(__file__).resolve().parents[2]

HANGS = """
import asyncio
import socket


def test_waits_forever() -> None:
    async def main() -> None:
        await asyncio.create_task(asyncio.Event().wait(), name="the-stuck-stop")

    asyncio.run(main())


def test_blocks_in_a_socket_read() -> None:
    left, right = socket.socketpair()
    with left, right:
        left.recv(1)  # nobody ever sends


def test_after_the_hangs() -> None:
    assert True
"""


BLOCKED = """
import signal
import time


def test_never_lets_the_signal_in() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    time.sleep(600)
"""


def run_pytest(test_file: Path, *options: str) -> tuple[subprocess.CompletedProcess[str], str]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(test_file), "-c", "/dev/null", "-p", "tests.hangs",
         *options, "-q", "-p", "no:cacheprovider", "--rootdir", str(test_file.parent)],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
        env={**os.environ, "SUBTITLER_TIMEOUT_BACKSTOP": "3"},
    )  # fmt: skip
    return done, done.stdout + done.stderr


def test_a_hung_test_ends_the_run_with_its_tasks_and_threads(tmp_path: Path) -> None:
    test_file = tmp_path / "test_hangs.py"
    test_file.write_text(HANGS)
    started = time.monotonic()
    done, out = run_pytest(test_file, "--timeout", "2", "--timeout-method", "thread")
    assert done.returncode != 0, out
    assert "1 passed" not in out, out  # the run ended at the first hang
    assert time.monotonic() - started < 200
    assert "pending asyncio task(s)" in out and "the-stuck-stop" in out, out
    assert "Stack of MainThread" in out, out  # every thread's stack
    assert "test_hangs.py" in out and "in main" in out, out  # the line the task waits on


def test_with_the_signal_method_a_hung_test_fails_alone_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    test_file = tmp_path / "test_hangs.py"
    test_file.write_text(HANGS)
    started = time.monotonic()
    done, out = run_pytest(test_file, "--timeout", "2", "--timeout-method", "signal")
    assert done.returncode == 1, out
    assert "2 failed, 1 passed" in out, out  # both hangs failed, the test after them ran
    assert time.monotonic() - started < 120
    assert "the-stuck-stop" in out and "Timeout (>2.0s)" in out, out
    assert "recv" in out, out  # the blocked socket read is named


def test_a_hang_the_signal_cannot_break_ends_the_run_at_the_backstop(tmp_path: Path) -> None:
    test_file = tmp_path / "test_blocked.py"
    test_file.write_text(BLOCKED)
    started = time.monotonic()
    done, out = run_pytest(test_file, "--timeout", "2", "--timeout-method", "signal")
    assert done.returncode != 0, out
    assert time.monotonic() - started < 120  # 2 s + a 3 s backstop, not the test's 600 s sleep
    assert "Stack of MainThread" in out and "time.sleep(600)" in out, out
