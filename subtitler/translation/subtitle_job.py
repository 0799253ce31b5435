"""The `subtitle_translation` job: translate a file's existing text subtitle instead of listening.

No speech recognition: read the source subtitle (sidecar or embedded stream), pre-check the
provider, translate every cue, re-flow, write `<video>.<target>[.<variant>][.forced|.sdh].<ext>`
atomically. The text subtitles subtitler wrote itself (an English transcription, say) are sources
like any other. The cues are kept for `/api/jobs/{id}/subtitle` and `/segments` as a
transcription's are. A file with no usable text subtitle (image subtitles only) returns None: the
job falls back to the speech pipeline.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from subtitler.errors import SubtitlerError
from subtitler.jobs.prechecks import output_options, write_subtitle
from subtitler.jobs.results import cues_document
from subtitler.jobs.states import Stage, Task
from subtitler.media.probe import probe_file
from subtitler.subtitles.cues import Cue, CueStyle, Segment
from subtitler.subtitles.naming import subtitle_path
from subtitler.subtitles.writer import ensure_writable
from subtitler.translation.markup import strip_tags
from subtitler.translation.output import render_translated
from subtitler.translation.reader import read_source
from subtitler.translation.registry import make_provider
from subtitler.translation.sources import SubtitleSource, choose_source, text_sources
from subtitler.translation.stage import StageReporter, translate_cues

logger = logging.getLogger(__name__)


def pick_source(
    job: Mapping[str, Any], settings: Mapping[str, Any],
    supports: Callable[[str, str], bool] | None = None,
) -> SubtitleSource | None:  # fmt: skip
    """The subtitle the job was queued for if it is still there, else the best one now (that
    the provider can translate to the target); subtitler's own subtitles included."""
    info = probe_file(job["file_path"])
    candidates = [
        c for c in text_sources(info)
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
    source = pick_source(job, settings, supports=provider.supports)
    if source is None:
        reporter.log(f"no text subtitle that {provider.name} can translate to {target} (image "
                     "subtitles such as PGS/VobSub are not text): falling back to speech "
                     "recognition", level="warning")  # fmt: skip
        provider.close()
        return None
    fields: dict[str, Any] = {
        "source_lang": source.language,
        "transcribe_or_translate": Task.TRANSLATE,
        "subtitle_source": source.model_dump(),  # the job's options keep it (store_outcome)
        "translation_provider": provider.name,
    }
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
    output = output_options(settings, fmt=job.get("output_format"),
                            variant=job.get("variant") or None)  # fmt: skip
    forced, sdh = source.forced, source.sdh and not source.forced
    path = subtitle_path(media, language=target, options=output, forced=forced, sdh=sdh)
    replaces = (job.get("options") or {}).get("replaces")
    ensure_writable(
        path, overwrite=output.overwrite,
        written_by_us=lambda p, sha: str(p) == replaces or written.get(str(p)) == sha,
    )  # fmt: skip
    text = render_translated(translated, fmt=output.fmt, language=target)
    if reporter.cancelled():
        raise SubtitlerError("cancelled before writing", code="cancelled")
    intend = getattr(reporter, "intend_write", None)  # a worker process's reporter has it
    sha = write_subtitle(
        path, text, media=media,
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
        "stored_cues": stored_cues(translated, language=target),
    }


def stored_cues(cues: Sequence[Cue], *, language: str) -> dict[str, Any]:
    """What `/subtitle` and `/segments` serve: the cues as written (their markup kept; the
    results render them like the file, see subtitler.jobs.results) and, there being no speech,
    one plain-text segment per cue without words."""
    segments = [
        Segment(start=c.start, end=c.end, text=" ".join(_plain(x) for x in c.lines)) for c in cues
    ]
    return cues_document(cues, segments, language=language, duration=None)


def _plain(line: str) -> str:
    return strip_tags(re.sub(r"\{[^}]*\}", "", line)).strip()
