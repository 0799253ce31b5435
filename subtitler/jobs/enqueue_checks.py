"""The pre-check of jobs a scan (or the watcher) is about to queue: one written-subtitle query
for the batch, then the file-system checks off the event loop. A request whose output is in the
way (a user's subtitle, a read-only folder, a full disk) is not queued; the scan counts it."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import select

from subtitler.db import Database
from subtitler.db.models import WrittenSubtitle
from subtitler.jobs.prechecks import PrecheckFailed, precheck

OUTPUT_SETTINGS = (
    "subtitle_format", "subtitle_language_style", "subtitle_provenance_tag",
    "overwrite_existing_subtitles", "min_free_output_disk_mb",
)  # fmt: skip
CHUNK = 500


async def written_by_media(db: Database, media_paths: Sequence[str]) -> dict[str, dict[str, str]]:
    """{media path: {subtitle path: sha256}} of what subtitler wrote for these files."""
    out: dict[str, dict[str, str]] = {}
    unique = sorted(set(media_paths))
    for start in range(0, len(unique), CHUNK):
        chunk = unique[start : start + CHUNK]
        async with db.read() as session:
            rows = await session.execute(
                select(WrittenSubtitle.media_path, WrittenSubtitle.path, WrittenSubtitle.sha256)
                .where(WrittenSubtitle.media_path.in_(chunk))
            )  # fmt: skip
            for media, path, sha in rows.all():
                out.setdefault(str(media), {})[path] = sha or ""
    return out


async def check_rows(
    rows: Sequence[dict[str, Any]], *, db: Database, setting: Callable[[str], Any]
) -> tuple[list[dict[str, Any]], Counter[str]]:
    """(rows that may be queued, refused rows counted by error code)."""
    if not rows:
        return [], Counter()
    settings = {key: setting(key) for key in OUTPUT_SETTINGS}
    written = await written_by_media(db, [r["file_path"] for r in rows])

    def run() -> tuple[list[dict[str, Any]], Counter[str]]:
        ok: list[dict[str, Any]] = []
        refused = Counter[str]()
        for row in rows:
            try:
                precheck(job=row, settings=settings, written=_for(written, row["file_path"]))
            except PrecheckFailed as exc:
                refused[exc.code] += 1
                continue
            ok.append(row)
        return ok, refused

    return await asyncio.to_thread(run)


def _for(written: Mapping[str, dict[str, str]], media: str) -> dict[str, str]:
    return written.get(media, {})
