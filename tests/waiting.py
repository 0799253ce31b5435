"""Waiting on conditions, not on the clock: a slow (or busy) machine makes a test slower, never
red. Deadlines are generous; a condition met early returns at once."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

Probe = Callable[[], Any]


async def wait_until(
    probe: Probe, *, timeout: float = 30.0, what: str = "the condition", every: float = 0.05
) -> Any:
    """Await until `probe()` (plain or async) returns something truthy, and return it; fail
    with `what` after `timeout` seconds. The probe runs once more at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(every)


def wait_until_sync(
    probe: Callable[[], T], *, timeout: float = 30.0, what: str = "the condition",
    every: float = 0.05,
) -> T:  # fmt: skip
    """`wait_until` for plain (thread-blocking) tests."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


async def holds_for(
    probe: Callable[[], Awaitable[Any] | Any], *, seconds: float, what: str, every: float = 0.1
) -> None:
    """The opposite check: `probe()` stays truthy for `seconds` (a lease that must not lapse)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = probe()
        if inspect.isawaitable(value):
            value = await value
        if not value:
            raise AssertionError(f"{what} stopped holding")
        await asyncio.sleep(every)
