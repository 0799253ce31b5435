"""The `subtitle_translation` job: translate a file's existing text subtitle instead of listening.

No speech recognition: read the source subtitle (sidecar or embedded stream), pre-check the
provider, translate every cue, re-flow, write `<video>.<target>[.forced|.sdh].<ext>` atomically.
A file with no usable text subtitle (image subtitles only) returns None: the job falls back to
the speech pipeline.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from subtitler.errors import SubtitlerError
from subtitler.jobs.states import Stage
from subtitler.media.probe import probe_file
from subtitler.subtitles.cues import CueStyle
from subtitler.subtitles.naming import OutputOptions, subtitle_path
from subtitler.subtitles.writer import ensure_writable, write_atomic
from subtitler.translation.output import render_translated
from subtitler.translation.reader import read_source
from subtitler.translation.registry import make_provider
from subtitler.translation.sources import SubtitleSource, choose_source, text_sources
from subtitler.translation.stage import StageReporter, translate_cues

logger = logging.getLogger(__name__)


def pick_source(
    job: Mapping[str, Any], settings: Mapping[str, Any], *, exclude: set[str],
    supports: Callable[[str, str], bool] | None = None,
) -> SubtitleSource | None:  # fmt: skip
    """The subtitle the job was queued for if it is still there, else the best one now (that
    the provider can translate to the target)."""
    info = probe_file(job["file_path"])
    candidates = [
        c for c in text_sources(info, exclude=exclude)
        if supports is None or supports(c.language, job["target_lang"])
    ]  # fmt: skip
    wanted = (job.get("options") or {}).get("subtitle_source")
    if wanted:
        for c in candidates:
            if (c.kind, c.path, c.index) == (wanted.get("kind"), wanted.get("path"),
                                             wanted.get("index")):  # fmt: skip
                return c
    audio = next((t.language for t in info.audio_tracks if t.default and t.language), None)
    audio = audio or next((t.language for t in info.audio_tracks if t.language), None)
    return choose_source(
        candidates, target=job["target_lang"], audio_language=audio,
        accepted=list(settings.get("translation_source_languages") or []), supports=supports,
    )  # fmt: skip


def run_subtitle_translation(
    *, job: Mapping[str, Any], settings: Mapping[str, Any], reporter: StageReporter,
    device: str = "cpu",
) -> dict[str, Any] | None:  # fmt: skip
    started = time.monotonic()
    media = Path(job["file_path"])
    target = job.get("target_lang")
    if not target:
        raise SubtitlerError("a subtitle_translation job needs a target_lang",
                             code="missing_target")  # fmt: skip
    reporter.progress(1.0, stage=Stage.READING_SUBTITLE)
    written: Mapping[str, str] = job.get("written_subtitles") or {}
    provider = make_provider(settings, device=device)
    provider.check()  # before any work: translation_unavailable names the provider
    source = pick_source(job, settings, exclude=set(written), supports=provider.supports)
    if source is None:
        reporter.log(f"no text subtitle that {provider.name} can translate to {target} (image "
                     "subtitles such as PGS/VobSub are not text): falling back to speech "
                     "recognition", level="warning")  # fmt: skip
        provider.close()
        return None
    fields: dict[str, Any] = {}  # source_lang stays the audio's; the log names the subtitle
    fields["translation_provider"] = provider.name
    reporter.log(f"translating the existing subtitle {source.describe()} instead of listening")
    cues = read_source(media, source)
    reporter.log(f"read {len(cues)} cues from {source.describe()}")
    if not cues:
        raise SubtitlerError(f"{source.describe()} has no cues", code="subtitle_empty")
    style = CueStyle.from_settings(settings, language=target)
    translated = translate_cues(
        cues, provider=provider, source=source.language, target=target, style=style,
        reporter=reporter, low=5.0, high=95.0, fields=fields,
    )  # fmt: skip
    reporter.progress(95.0, stage=Stage.WRITING)
    output = OutputOptions.from_settings(settings, fmt=job.get("output_format"))
    forced, sdh = source.forced, source.sdh and not source.forced
    path = subtitle_path(media, language=target, options=output, forced=forced, sdh=sdh)
    ensure_writable(
        path, overwrite=output.overwrite,
        written_by_us=lambda p, sha: written.get(str(p)) == sha,
    )  # fmt: skip
    text = render_translated(translated, fmt=output.fmt, language=target)
    if reporter.cancelled():
        raise SubtitlerError("cancelled before writing", code="cancelled")
    intend = getattr(reporter, "intend_write", None)  # a worker process's reporter has it
    sha = write_atomic(
        path, text,
        before_replace=(lambda digest: intend(str(path), digest, target))
        if intend is not None else None,
    )  # fmt: skip
    reporter.log(f"wrote {len(translated)} cues to {path}")
    reporter.progress(99.0, stage=Stage.FINALIZING)
    return {
        **fields,
        "output_path": str(path),
        "output_format": output.fmt,
        "output_sha256": sha,
        "output_language": target,
        "segments_count": len(translated),
        "processing_time_seconds": round(time.monotonic() - started, 2),
    }
