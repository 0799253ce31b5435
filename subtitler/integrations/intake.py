"""Inbound webhooks: parse, look item ids up, map paths (theirs -> ours), then the same
analyse -> rules -> queue path as the watcher, so rules, dedup and "never overwrite" apply.

Playback triggers run at `webhook_playback_priority` (a job already queued for the file is
raised to it). Every delivery lands in the delivery log with what became of it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import update

from subtitler.db import Database
from subtitler.db.models import Job
from subtitler.errors import Forbidden
from subtitler.events import EventBus
from subtitler.integrations.deliveries import DeliveryLog
from subtitler.integrations.parsers import (
    IGNORED,
    PARSERS,
    PLAYBACK,
    TEST,
    Inbound,
    MalformedWebhook,
    decode_body,
)
from subtitler.integrations.paths import to_ours
from subtitler.integrations.servers import Server, ServerError
from subtitler.jobs.queue import JobQueue
from subtitler.jobs.states import JobStatus
from subtitler.rules.engine import UnknownLanguagePolicy
from subtitler.rules.service import RulesService
from subtitler.scanner.cache import ProbeFailure
from subtitler.scanner.library import MediaLibrary
from subtitler.scanner.planner import job_fields, plan
from subtitler.security.paths import allowed_path

logger = logging.getLogger(__name__)

# Who can turn a sender's item id into a path (first one connected wins).
LOOKUP_SERVERS = {"jellyfin": ("jellyfin",), "emby": ("emby",), "plex": ("plex",),
                  "tautulli": ("plex", "tautulli")}  # fmt: skip
GoneHandler = Callable[[str, str, bool], Awaitable[int]]  # (path, reason, is_folder) -> cancelled


class Intake:
    def __init__(
        self, *, db: Database, settings: Any, bus: EventBus, queue: JobQueue,
        rules: RulesService, library: MediaLibrary, log: DeliveryLog,
        on_gone: GoneHandler | None = None,
    ) -> None:  # fmt: skip
        self._db, self._settings, self._bus, self._queue = db, settings, bus, queue
        self._rules, self._library, self._log = rules, library, log
        self._on_gone = on_gone

    async def receive(self, *, sender: str, content_type: str, raw: bytes) -> dict[str, Any]:
        if not self._settings.get(f"webhook_{sender}_enabled"):
            await self._record(sender, "", "refused", "switched off")
            raise Forbidden(
                f"The {sender} webhook is switched off (setting webhook_{sender}_enabled)",
                code="webhook_disabled",
            )
        try:
            inbound = PARSERS[sender](decode_body(content_type, raw))
        except MalformedWebhook as exc:
            await self._record(sender, "", "malformed", exc.detail)
            raise
        if inbound.kind == TEST:
            await self._record(sender, inbound.event, "ok", "test answered")
            return {"status": "ok", "event": inbound.event, "message": "subtitler is listening"}
        if inbound.kind == PLAYBACK and not self._settings.get("webhook_playback_enabled"):
            inbound = Inbound.ignored(
                inbound.event, "playback triggers are switched off (webhook_playback_enabled)"
            )
        if inbound.kind == IGNORED:
            return await self._ignored(sender, inbound.event, inbound.reason or "ignored")
        paths = list(inbound.paths)
        if inbound.item_ids:
            looked_up = await self._lookup(sender, inbound)
            if isinstance(looked_up, str):
                return await self._ignored(sender, inbound.event, looked_up)
            paths = looked_up
        await self._forget(sender, inbound)
        files = [await self._one(sender, inbound, path) for path in paths]
        job_ids = [j for f in files for j in f["job_ids"]]
        created = [j for f in files for j in f["created"]]
        status = "queued" if created else ("duplicate" if job_ids else IGNORED)
        reason = "; ".join(f["reason"] for f in files if f["reason"]) or None
        await self._record(sender, inbound.event, status, reason, target=", ".join(paths),
                           job_ids=job_ids)  # fmt: skip
        answer: dict[str, Any] = {"status": status, "event": inbound.event, "files": files,
                                  "job_ids": job_ids}  # fmt: skip
        if reason:
            answer["reason"] = reason
        return answer

    async def _forget(self, sender: str, inbound: Inbound) -> None:
        """Cancel queued jobs of files the sender replaced (upgrade) or renamed away, as the
        watcher would if it saw them go (network shares: it does not)."""
        mappings = self._settings.get("path_mappings") or []
        for theirs in inbound.gone:
            ours = to_ours(theirs, mappings)
            if ours is not None and self._on_gone is not None:
                await self._on_gone(ours, f"{inbound.event.lower()} by {sender}", False)

    async def _ignored(self, sender: str, event: str, reason: str) -> dict[str, Any]:
        await self._record(sender, event, IGNORED, reason)
        return {"status": IGNORED, "event": event, "reason": reason}

    async def _record(
        self, sender: str, event: str, status: str, detail: str | None, *,
        target: str | None = None, job_ids: list[str] | None = None,
    ) -> None:  # fmt: skip
        await self._log.record(direction="in", channel=sender, event=event, status=status,
                               detail=detail, target=target, job_ids=job_ids or [])  # fmt: skip

    async def _lookup(self, sender: str, inbound: Inbound) -> list[str] | str:
        """Paths of the payload's item ids through that server's API (a reason when we can't)."""
        names = LOOKUP_SERVERS[sender]
        connected = [s for s in (Server.from_settings(n, self._settings) for n in names) if s]
        server = connected[0] if connected else None
        name = server.name if server else names[0]
        if server is None:
            return (
                f"{sender} sent item {', '.join(inbound.item_ids)} without a path; set {name}_url "
                f"and {name}_api_key so subtitler can look it up"
            )
        paths: list[str] = []
        try:
            for item_id in inbound.item_ids:
                paths += await server.item_paths(item_id)
        except ServerError as exc:
            await self._record(sender, inbound.event, "error", f"look-up failed: {exc.detail}")
            raise
        return paths or f"{name} knows no file for item {', '.join(inbound.item_ids)}"

    async def _one(self, sender: str, inbound: Inbound, theirs: str) -> dict[str, Any]:
        out: dict[str, Any] = {"their_path": theirs, "path": None, "job_ids": [], "created": [],
                               "reason": None}  # fmt: skip
        ours = to_ours(theirs, self._settings.get("path_mappings") or [])
        if ours is None:
            out["reason"] = f"{theirs} is outside every path mapping (path_mappings)"
            return out
        out["path"] = ours
        allowed = await asyncio.to_thread(allowed_path, ours, self._settings.get)
        if allowed is None:  # `..`, a symlink out, or no library folder set at all
            out["reason"] = f"{ours} is outside the library folders (library_paths)"
            return out
        out["path"] = ours = allowed
        if not await asyncio.to_thread(Path(ours).is_file):
            out["reason"] = f"file not found: {ours} (check path_mappings)"
            return out
        rules = await self._rules.list_rules(enabled_only=True)
        if not rules:
            out["reason"] = "no enabled rule: add one on the Rules page"
            return out
        info = await self._library.media_one(ours)
        if isinstance(info, ProbeFailure):
            out["reason"] = f"not usable media: {info.detail}"
            return out
        history = await self._library.history(paths=[ours])
        if history.forget_stale([info]):  # an upgrade that kept the name: plan afresh
            logger.info("%s changed since subtitler wrote its subtitle: rules apply again", ours)
        policy = UnknownLanguagePolicy.from_settings(self._settings)
        requests, matched, already = await asyncio.to_thread(
            partial(plan, detected=history.detected), rules, [info], history.produced, policy
        )
        if not requests:
            out["reason"] = (
                "no rule matched" if not matched
                else "subtitler already wrote its subtitle" if already
                else "the rules need no new subtitle (one exists)"
            )  # fmt: skip
            return out
        playback = inbound.kind == PLAYBACK
        boost = int(self._settings.get("webhook_playback_priority"))
        pending: list[tuple[dict[str, Any], str | None]] = []
        for req in requests:
            fields = job_fields(req, self._settings, channel="webhook")
            fields["options"]["trigger"] = f"webhook:{sender}:{inbound.event}"
            if playback:
                fields["priority"] = max(int(fields["priority"]), boost)
            pending.append((fields, history.holds(req.dedup_key, mtime_ns=info.mtime_ns)))
        created, _ = await self._queue.enqueue_many([f for f, why in pending if why is None])
        out["created"] = [job.id for job in created]
        out["job_ids"] = list(out["created"])
        reasons = []
        for fields, why in pending:
            job = await self._queue.find_active(file_path=ours, target_lang=fields["target_lang"],
                                                task=fields["transcribe_or_translate"])  # fmt: skip
            if job is None:
                reasons.append("a previous job for this file failed or was cancelled"
                               if why == "ended" else "not queued")  # fmt: skip
                continue
            if job.id in out["created"]:
                continue
            out["job_ids"].append(job.id)
            reasons.append(f"already {job.status} as job {job.id}")
            if playback and job.status == JobStatus.QUEUED:
                await self._raise_priority(job.id, boost, sender)
        if reasons:
            out["reason"] = "; ".join(reasons)
        if created:
            logger.info("%s webhook queued %d job(s) for %s", sender, len(created), ours)
        return out

    async def _raise_priority(self, job_id: str, priority: int, sender: str) -> None:
        async with self._db.write() as session:
            raised = await session.scalar(
                update(Job)
                .where(Job.id == job_id, Job.status == JobStatus.QUEUED, Job.priority < priority)
                .values(priority=priority)
                .returning(Job.id)
            )
        if raised:
            await self._queue.log(job_id, f"priority raised to {priority}: playback on {sender}")
            self._bus.publish("job_updated", {"id": job_id, "priority": priority})
