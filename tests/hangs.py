"""A hung test fails fast and says where it hung: pytest-timeout dumps every thread's stack;
these hooks (imported by tests/conftest.py) print the pending asyncio tasks first, with the line
each one waits on, since an idle event loop shows no useful stack. The signal method (the
project's) fails the hung test alone and the run goes on, with the thread method's
dump-and-exit as a backstop; the thread method alone ends the run at the first hang."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import threading
from typing import Any

import pytest
import pytest_timeout


def pending_tasks() -> list[asyncio.Task[Any]]:
    """Every unfinished task of every event loop (asyncio keeps them all in one weak set)."""
    every = getattr(asyncio.tasks, "_all_tasks", None)
    if every is None:
        return []
    for _ in range(3):  # the set may change while another thread reads it
        try:
            return [task for task in list(every) if not task.done()]
        except RuntimeError:
            continue
    return []


def describe_tasks(tasks: list[asyncio.Task[Any]]) -> str:
    out = io.StringIO()
    for task in tasks:
        out.write(f"\n{task!r}\n")
        task.print_stack(limit=12, file=out)
    return out.getvalue()


def _on_timeout(item: pytest.Item, settings: Any) -> None:
    capman = item.config.pluginmanager.getplugin("capturemanager")
    if capman is not None:
        capman.suspend_global_capture(item)  # so what follows reaches the terminal
    terminal = item.config.get_terminal_writer()
    tasks = pending_tasks()
    terminal.sep("+", title=f"Timeout: {len(tasks)} pending asyncio task(s)")
    terminal.write(describe_tasks(tasks) + "\n")
    terminal.flush()
    pytest_timeout.timeout_timer(item, settings)  # every thread's stack, then the run ends


# With the signal method a hung test fails alone and the run goes on; should the signal never
# get through (a hang that does not return to Python), the thread method's dump-and-exit follows
# this many seconds later (SUBTITLER_TIMEOUT_BACKSTOP overrides), so nothing hangs a CI run.
BACKSTOP_SECONDS = float(os.environ.get("SUBTITLER_TIMEOUT_BACKSTOP", "60"))


def _thread_timer(item: pytest.Item, settings: Any, seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, _on_timeout, (item, settings))
    timer.name = f"subtitler-timeout {item.nodeid}"
    timer.daemon = True
    timer.start()
    return timer


def _on_alarm(item: pytest.Item, settings: Any) -> None:
    __tracebackhide__ = True
    terminal = item.config.get_terminal_writer()
    tasks = pending_tasks()
    terminal.sep("+", title=f"Timeout: {len(tasks)} pending asyncio task(s)")
    terminal.write(describe_tasks(tasks) + "\n")
    pytest_timeout.timeout_sigalrm(item, settings)  # every thread's stack, then this test fails


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: Any) -> bool | None:
    if settings.method == "signal" and threading.current_thread() is threading.main_thread():
        backstop = _thread_timer(item, settings, settings.timeout + BACKSTOP_SECONDS)

        def cancel() -> None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            backstop.cancel()

        item.cancel_timeout = cancel  # type: ignore[attr-defined]  # read by pytest-timeout
        signal.signal(signal.SIGALRM, lambda _signum, _frame: _on_alarm(item, settings))
        signal.setitimer(signal.ITIMER_REAL, settings.timeout)
        return True
    timer = _thread_timer(item, settings, settings.timeout)  # the thread method: the run ends
    item.cancel_timeout = timer.cancel  # type: ignore[attr-defined]  # read by pytest-timeout
    return True
