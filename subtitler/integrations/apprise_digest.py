"""Human notifications through Apprise (Discord, Telegram, ntfy, email, ...), with a digest:
the first event after a quiet spell is sent at once; events in the next `apprise_digest_seconds`
are gathered into one message, so a failing library does not send 500 messages."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from subtitler.integrations.deliveries import DeliveryLog

logger = logging.getLogger(__name__)

DIGEST_LINES = 20


def _notify(urls: list[str], title: str, body: str, failure: bool) -> tuple[bool, int]:
    import apprise  # heavy: loaded on the first message, in a thread

    app = apprise.Apprise()
    added = sum(1 for url in urls if app.add(url))
    if not added:
        return False, 0
    kind = apprise.NotifyType.FAILURE if failure else apprise.NotifyType.INFO
    return bool(app.notify(title=title, body=body, notify_type=kind)), added


class AppriseDigest:
    def __init__(self, *, settings: Any, log: DeliveryLog) -> None:
        self._settings = settings
        self._log = log
        self._window_end = 0.0
        self._pending: list[tuple[str, bool]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)

    async def add(self, line: str, *, failure: bool) -> None:
        if not self._settings.get("apprise_urls"):
            return
        now = time.monotonic()
        if now >= self._window_end and not self._pending:
            self._window_end = now + float(self._settings.get("apprise_digest_seconds"))
            await self.send("subtitler: " + line, line, failure=failure, event="notify")
            return
        self._pending.append((line, failure))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(max(0.0, self._window_end - time.monotonic()))
        pending, self._pending = self._pending, []
        if not pending:
            return
        self._window_end = time.monotonic() + float(self._settings.get("apprise_digest_seconds"))
        failures = sum(1 for _, failed in pending if failed)
        title = f"subtitler: {len(pending)} more event(s), {failures} failure(s)"
        lines = [line for line, _ in pending[:DIGEST_LINES]]
        if len(pending) > DIGEST_LINES:
            lines.append(f"... and {len(pending) - DIGEST_LINES} more (see the dashboard)")
        await self.send(title, "\n".join(lines), failure=failures > 0, event="digest")

    async def send(self, title: str, body: str, *, failure: bool, event: str) -> dict[str, Any]:
        urls = [str(u) for u in self._settings.get("apprise_urls") or []]
        ok, added = await asyncio.to_thread(_notify, urls, title, body, failure)
        detail = None if ok else (
            "no valid Apprise URL" if not added else "Apprise could not deliver (see the log)"
        )  # fmt: skip
        row_id = await self._log.record(
            direction="out", channel="apprise", event=event,
            status="delivered" if ok else "failed", attempts=1,
            target=f"{added} Apprise URL(s)", detail=detail or title,
        )  # fmt: skip
        return await self._log.get(row_id) or {"id": row_id}
