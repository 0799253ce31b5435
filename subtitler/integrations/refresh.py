"""After a subtitle is written: ask the connected media servers to pick it up, with our paths
mapped back to theirs. Outcomes go to the job's log and the delivery log; a failure never fails
the job (it is already completed)."""

from __future__ import annotations

import logging
from typing import Any

from subtitler.db.models import Job
from subtitler.integrations.deliveries import DeliveryLog
from subtitler.integrations.paths import pick_view, their_views
from subtitler.integrations.servers import Server, ServerError
from subtitler.jobs.queue import JobQueue

logger = logging.getLogger(__name__)


class MediaRefresher:
    def __init__(self, *, settings: Any, queue: JobQueue, log: DeliveryLog) -> None:
        self._settings = settings
        self._queue = queue
        self._log = log

    async def after_subtitle(self, job: Job) -> int:
        """Refresh every connected server named in `media_server_refresh`; how many succeeded."""
        if not job.output_path:
            return 0
        views = their_views([job.file_path, job.output_path],
                            self._settings.get("path_mappings") or [])  # fmt: skip
        done = 0
        for name in self._settings.get("media_server_refresh") or []:
            server = Server.from_settings(name, self._settings)
            if server is None:
                continue
            try:
                # Which name does this server know the folder by, if it holds it at all?
                roots = [p for lib in await server.libraries() for p in lib["paths"]]
                view = pick_view(views, roots)
                if view is None:
                    logger.debug("%s holds no library with %s", name, job.file_path)
                    continue
                video, subtitle = view
                asked = await server.refresh(video=video, subtitle=subtitle)
            except ServerError as exc:
                await self._queue.log(job.id, f"media refresh failed: {exc.detail}",
                                      level="warning")  # fmt: skip
                await self._log.record(direction="out", channel=name, event="refresh",
                                       status="failed", target=server.url, detail=exc.detail,
                                       attempts=1, job_ids=[job.id])  # fmt: skip
                continue
            except Exception:  # a refresh must never break the notifier loop
                logger.exception("refresh of %s failed", name)
                continue
            done += 1
            await self._queue.log(job.id, f"asked {asked}")
            await self._log.record(direction="out", channel=name, event="refresh",
                                   status="delivered", target=server.url, detail=asked,
                                   attempts=1, job_ids=[job.id])  # fmt: skip
        return done
