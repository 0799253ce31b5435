"""A hung test ends the run fast and says where it hung: pytest-timeout's thread method dumps
every thread's stack; these hooks (imported by tests/conftest.py) print the pending asyncio
tasks first, with the line each one waits on, since an idle event loop shows no useful stack."""

from __future__ import annotations

import asyncio
import io
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


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: Any) -> bool | None:
    if settings.method != "thread":
        return None  # pytest-timeout's own (signal) timer
    timer = threading.Timer(settings.timeout, _on_timeout, (item, settings))
    timer.name = f"subtitler-timeout {item.nodeid}"
    timer.daemon = True
    item.cancel_timeout = timer.cancel  # type: ignore[attr-defined]  # read by pytest-timeout
    timer.start()
    return True
