"""Signed outbound webhooks (user-defined URLs and per-job `callback_url`), retried with
backoff, each delivery and its attempts in the delivery log.

Body: `{"event": ..., "sent_at": ..., "data": {...}}`, signed per `signing.py`. The first attempt
is awaited (so "send test" can answer with its outcome); retries continue in the background.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from subtitler import __version__
from subtitler.db.models import utcnow
from subtitler.integrations.deliveries import DeliveryLog
from subtitler.integrations.signing import HEADER, signature
from subtitler.security.outbound import GuardedTransport, resolved_problem

logger = logging.getLogger(__name__)

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def safe_target(url: str) -> str:
    """The URL without credentials or query (tokens live there), for logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class SignedSender:
    def __init__(self, *, settings: Any, log: DeliveryLog) -> None:
        self._settings = settings
        self._log = log
        self._tasks: set[asyncio.Task[None]] = set()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def send(
        self, *, channel: str, url: str, event: str, data: dict[str, Any],
        job_ids: list[str] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Deliver now; on failure keep retrying in the background. The log row after try 1."""
        if channel == "callback" and not self._settings.get("callback_allow_loopback"):
            problem = await asyncio.to_thread(resolved_problem, url, loopback=False)
            if problem is not None:  # set by an API client: never this machine's services
                return await self._refused(channel=channel, url=url, event=event,
                                           job_ids=job_ids, problem=problem)  # fmt: skip
        body = json.dumps(
            {"event": event, "sent_at": datetime.now(UTC).isoformat(), "data": data},
            separators=(",", ":"), ensure_ascii=False, default=str,
        ).encode()  # fmt: skip
        row_id = await self._log.record(direction="out", channel=channel, event=event,
                                        status="sending", target=safe_target(url),
                                        job_ids=job_ids or [], url=url,
                                        body=body.decode())  # fmt: skip
        if await self._attempt(row_id, url, event, body, attempt=1) is False:
            self._spawn(row_id, url, event, body, done=1, wait=self._backoff(1))
        return await self._log.get(row_id) or {"id": row_id}

    async def _refused(
        self, *, channel: str, url: str, event: str, job_ids: list[str] | None, problem: str
    ) -> dict[str, Any]:
        row_id = await self._log.record(direction="out", channel=channel, event=event,
                                        status="sending", target=safe_target(url),
                                        job_ids=job_ids or [], url=None, body=None)  # fmt: skip
        detail = f"refused: {problem} (callback_allow_loopback is off)"
        await self._log.update(
            row_id, status="failed", attempts=0, detail=detail, next_attempt_at=None
        )
        logger.warning("callback to %s refused: %s", safe_target(url), problem)
        return await self._log.get(row_id) or {"id": row_id}

    async def resume(self) -> int:
        """Continue the deliveries a stopped daemon left pending (their rows hold url + body)."""
        rows = await self._log.pending()
        now = utcnow()
        for row in rows:
            wait = (row.next_attempt_at - now).total_seconds() if row.next_attempt_at else 0.0
            self._spawn(row.id, str(row.url), row.event, str(row.body).encode(),
                        done=row.attempts, wait=max(0.0, wait))  # fmt: skip
        if rows:
            logger.info("resuming %d pending webhook deliveries", len(rows))
        return len(rows)

    def _spawn(self, row_id: int, url: str, event: str, body: bytes, *, done: int,
               wait: float) -> None:  # fmt: skip
        task = asyncio.get_running_loop().create_task(
            self._retry(row_id, url, event, body, done=done, wait=wait)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _retry(
        self, row_id: int, url: str, event: str, body: bytes, *, done: int, wait: float
    ) -> None:
        retries = int(self._settings.get("notify_retries"))
        for attempt in range(done + 1, retries + 2):
            await asyncio.sleep(wait)
            if await self._attempt(row_id, url, event, body, attempt=attempt) is not False:
                return
            wait = self._backoff(attempt)
        if done + 1 > retries + 1:  # resumed with no attempts left
            await self._log.update(row_id, status="failed", url=None, body=None,
                                   detail="no retries left after a restart")  # fmt: skip

    def _backoff(self, done: int) -> float:
        """Wait after `done` failed attempts: base, 2 x base, 4 x base, ..."""
        return float(self._settings.get("notify_retry_seconds")) * 2 ** (done - 1)

    async def _attempt(
        self, row_id: int, url: str, event: str, body: bytes, *, attempt: int
    ) -> bool:
        secret = str(self._settings.get("notify_signing_secret") or "")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"subtitler/{__version__}",
            "X-Subtitler-Event": event,
            "X-Subtitler-Delivery": str(row_id),
            HEADER: signature(secret, body),
        }
        error: str | None = None
        try:
            async with httpx.AsyncClient(
                timeout=TIMEOUT, follow_redirects=False, transport=GuardedTransport()
            ) as http:
                response = await http.post(url, content=body, headers=headers)
            if response.status_code >= 300:
                error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if error is None:
            await self._log.update(row_id, status="delivered", attempts=attempt, detail=None,
                                   next_attempt_at=None, url=None, body=None)  # fmt: skip
            return True
        retries = int(self._settings.get("notify_retries"))
        if attempt <= retries:
            wait = self._backoff(attempt)
            await self._log.update(
                row_id, status="retrying", attempts=attempt,
                detail=f"attempt {attempt} failed: {error}; next in {wait:g} s",
                next_attempt_at=utcnow() + timedelta(seconds=wait),
            )  # fmt: skip
        else:
            await self._log.update(row_id, status="failed", attempts=attempt,
                                   detail=f"attempt {attempt} failed: {error}; giving up",
                                   next_attempt_at=None, url=None, body=None)  # fmt: skip
            logger.warning("%s delivery %d to %s failed for good: %s", event, row_id,
                           safe_target(url), error)  # fmt: skip
        return False


async def wait_idle(sender: SignedSender, timeout: float) -> None:
    """Tests and shutdown: wait for background retries to finish."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(
            asyncio.gather(*list(sender._tasks), return_exceptions=True), timeout
        )
