"""A job asked for by a user (API, UI): which job it becomes, and the translation pre-check
before it is queued (an unreachable target is refused at once with a 422 naming provider and
pair, instead of failing after a minute of work)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from subtitler.errors import SubtitlerError
from subtitler.jobs.states import JobType
from subtitler.media.probe import MediaInfo
from subtitler.settings.specs.translation import SPECS
from subtitler.translation.planning import SettingsLike, subtitle_job
from subtitler.translation.sources import text_sources
from subtitler.translation.stage import needs_provider, precheck

logger = logging.getLogger(__name__)

CHECK_TIMEOUT = 5.0


def quick_settings(settings: SettingsLike) -> dict[str, Any]:
    """The translation settings, with a short timeout and no retries: for checks, not jobs."""
    values = {spec.key: settings.get(spec.key) for spec in SPECS}
    values["translation_timeout_seconds"] = min(
        float(values.get("translation_timeout_seconds") or CHECK_TIMEOUT), CHECK_TIMEOUT
    )
    values["translation_max_retries"] = 0
    return values


def audio_language(info: MediaInfo | None) -> str | None:
    if info is None:
        return None
    tracks = sorted(info.audio_tracks, key=lambda t: (not t.default, t.index))
    return next((t.language for t in tracks if t.language), None)


Probe = Callable[[Path], Awaitable[MediaInfo]]


async def _probe(probe: Probe, path: Path) -> MediaInfo | None:
    try:
        return await probe(path)
    except SubtitlerError as exc:  # not media (yet): the worker reports it properly
        logger.debug("no probe for %s: %s", path, exc.detail)
        return None


async def plan_manual_job(
    *, settings: SettingsLike, path: Path, source: str | None, target: str | None,
    fields: dict[str, Any], probe: Probe, wants_subtitle: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """`wants_subtitle`: translate a text subtitle if the file has one (a redo of a subtitle
    translation), else as the translation_prefer_subtitles setting says. `probe`: the daemon's
    probe processes'."""
    if not target:
        return fields
    info = await _probe(probe, path)
    audio = source or audio_language(info)
    if info is not None and fields.get("job_type") != JobType.ASR:
        fields = subtitle_job(fields, sources=text_sources(info), audio_language=audio,
                              wants_subtitle=wants_subtitle, settings=settings)  # fmt: skip
    checked = quick_settings(settings)
    if fields.get("job_type") == JobType.SUBTITLE_TRANSLATION:
        from_lang = fields["options"]["subtitle_source"]["language"]
    else:
        from_lang = audio
    if from_lang and needs_provider(checked, source=from_lang, target=target):
        provider = await asyncio.to_thread(precheck, checked, source=from_lang, target=target)
        provider.close()
    return fields
