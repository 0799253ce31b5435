"""The integrations service: inbound intake, and a bus listener that turns job, scan and worker
events into media-server refreshes, signed webhooks, job callbacks and Apprise messages."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any

from subtitler.db import Database
from subtitler.events import EventBus
from subtitler.events.bus import Event
from subtitler.integrations.apprise_digest import AppriseDigest
from subtitler.integrations.deliveries import DeliveryLog
from subtitler.integrations.intake import GoneHandler, Intake
from subtitler.integrations.notify import SignedSender
from subtitler.integrations.refresh import MediaRefresher
from subtitler.jobs.queue import JobQueue
from subtitler.jobs.schemas import job_payload
from subtitler.jobs.states import FORCED, JobStatus
from subtitler.rules.service import RulesService
from subtitler.scanner.library import MediaLibrary

logger = logging.getLogger(__name__)

TERMINAL: dict[str, str] = {JobStatus.COMPLETED: "job.completed", JobStatus.FAILED: "job.failed",
            JobStatus.CANCELLED: "job.cancelled"}  # fmt: skip
LISTEN = {"job_updated", "scan_finished", "worker_updated"}


class IntegrationsService:
    def __init__(
        self, *, db: Database, settings: Any, bus: EventBus, queue: JobQueue,
        rules: RulesService, library: MediaLibrary, on_gone: GoneHandler | None = None,
    ) -> None:  # fmt: skip
        self._settings, self._bus, self._queue = settings, bus, queue
        self.log = DeliveryLog(db)
        self.intake = Intake(db=db, settings=settings, bus=bus, queue=queue, rules=rules,
                             library=library, log=self.log, on_gone=on_gone)  # fmt: skip
        self.refresher = MediaRefresher(settings=settings, queue=queue, log=self.log)
        self.signed = SignedSender(settings=settings, log=self.log)
        self.apprise = AppriseDigest(settings=settings, log=self.log)
        self._listener: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._worker_errors: dict[str, str | None] = {}

    async def start(self) -> None:
        if not self._settings.get("notify_signing_secret"):
            await self.rotate_secret()
        await self.signed.resume()
        sub = self._bus.subscribe(LISTEN)
        self._listener = asyncio.get_running_loop().create_task(self._listen(sub))

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self.signed.stop()
        await self.apprise.stop()

    async def rotate_secret(self) -> str:
        secret = secrets.token_hex(32)
        await self._settings.update("notify_signing_secret", secret)
        return secret

    async def idle(self, timeout: float = 10.0) -> None:
        """Wait until the events seen so far are handled (tests)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*list(self._handlers), return_exceptions=True),
                                   timeout)  # fmt: skip

    async def _listen(self, sub: Any) -> None:
        try:
            while True:
                event = await sub.get()
                if event is None:
                    continue
                task = asyncio.get_running_loop().create_task(self._handle(event))
                self._handlers.add(task)
                task.add_done_callback(self._handlers.discard)
        finally:
            sub.close()

    async def _handle(self, event: Event) -> None:
        try:
            if event.type == "job_updated" and event.data.get("status") in TERMINAL:
                await self._job_ended(str(event.data["id"]), str(event.data["status"]))
            elif event.type == "scan_finished":
                await self.webhooks("scan.finished", event.data)
            elif event.type == "worker_updated":
                await self._worker(event.data)
        except Exception:
            logger.exception("integrations: handling %s failed", event.type)

    async def _job_ended(self, job_id: str, status: str) -> None:
        """The event's status decides (the row may have moved on, e.g. a quick retry)."""
        name = TERMINAL[status]
        job = await self._queue.get(job_id)
        data = {**job_payload(job), "status": status}
        if status == JobStatus.COMPLETED:
            await self.refresher.after_subtitle(job)
        await self.callback(job, event=name, data=data)
        if name != "job.cancelled":
            await self.webhooks(name, data, job_ids=[job.id])
        if status == JobStatus.FAILED:
            await self.apprise.add(f"failed: {job.file_name} ({job.error_code}: {job.error})",
                                   failure=True)  # fmt: skip
        elif status == JobStatus.COMPLETED and self._settings.get("apprise_on_completed"):
            await self.apprise.add(_completed_line(job), failure=False)

    async def callback(
        self, job: Any, *, event: str, data: dict[str, Any]
    ) -> dict[str, Any] | None:
        """POST the job's terminal state to its own `callback_url` (signed), if it has one.
        Read with getattr: branch `jobs` adds the column."""
        url = getattr(job, "callback_url", None)
        if not url:
            return None
        return await self.signed.send(channel="callback", url=str(url), event=event, data=data,
                                      job_ids=[str(job.id)])  # fmt: skip

    async def _worker(self, data: dict[str, Any]) -> None:
        worker, error = str(data.get("worker_id")), data.get("error")
        was = self._worker_errors.get(worker)
        self._worker_errors[worker] = error if data.get("status") == "error" else None
        if data.get("status") != "error" or error == was:
            return
        await self.webhooks("worker.error", data)
        await self.apprise.add(f"worker {worker} error: {error}", failure=True)

    async def webhooks(
        self, event: str, data: dict[str, Any], *, job_ids: list[str] | None = None,
        only_url: str | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Send `event` to every configured webhook that chose it (or to `only_url`)."""
        sent = []
        for hook in self._settings.get("notify_webhooks") or []:
            url = str(hook.get("url"))
            if only_url is not None and url != only_url:
                continue
            if only_url is None and event not in hook.get("events", [event]):
                continue
            sent.append(await self.signed.send(channel="webhook", url=url, event=event,
                                               data=data, job_ids=job_ids))  # fmt: skip
        return sent


def _completed_line(job: Any) -> str:
    """The Apprise line of a completed job; a forced one says so, or that it found no passage."""
    if getattr(job, "variant", "") == FORCED:
        if not job.output_path:
            return f"no foreign passage in {job.file_name}: no forced subtitle"
        return f"forced subtitle written ({job.forced_passages} passage(s)): {job.output_path}"
    return f"subtitle written: {job.output_path}"
