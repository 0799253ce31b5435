"""ASR and language-detection jobs in a worker process: audio from the spool, the answer to a
result file in the data dir (not beside any video)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from subtitler.asr.output import render_asr
from subtitler.jobs.states import Stage
from subtitler.media.audio import extract_audio
from subtitler.media.languages import display_name, parse_language, to_alpha2, whisper_code
from subtitler.media.pcm import (
    encoded_windows,
    load_pcm,
    media_duration,
    pcm_duration,
    pcm_windows,
    window_starts,
)
from subtitler.subtitles.cleanup import clean_segments
from subtitler.subtitles.cues import CueStyle, build_cues
from subtitler.subtitles.writer import write_atomic
from subtitler.workers.diarize import DiarizeRequest
from subtitler.workers.diarize_stage import diarize_segments, prepare
from subtitler.workers.engine import TranscriptionEngine
from subtitler.workers.models import TranscribeOptions
from subtitler.workers.pcm_chunks import transcribe_pcm


class _DiarizerHost:
    device, device_index, _diarizer = "cpu", 0, None


if TYPE_CHECKING:
    from subtitler.workers.pipeline import Reporter

WINDOW_SECONDS = 30.0
POSITIONS = (0.1, 0.5, 0.9)


def load_input(options: Mapping[str, Any], cancel: Any) -> np.ndarray:
    path = Path(options["input"])
    if options.get("encode", True):
        return extract_audio(path, track=0, cancel=cancel).samples
    return load_pcm(path)


def run_asr(
    *,
    engine: TranscriptionEngine,
    job: Mapping[str, Any],
    settings: Mapping[str, Any],
    topts: TranscribeOptions,
    reporter: Reporter,
    fields: dict[str, Any],
    host: Any = None,
) -> dict[str, Any]:
    """`host`: the JobRunner, whose warm diarization pipeline a diarize request uses."""
    started = time.monotonic()
    options: Mapping[str, Any] = job.get("options") or {}
    if options.get("forced"):  # only the foreign passages (issue 22)
        from subtitler.workers.forced import run_forced_asr

        return run_forced_asr(engine, job=job, settings=settings, topts=topts,
                              reporter=reporter, fields=fields)  # fmt: skip
    if options.get("local_video"):
        reporter.log(f"Bazarr's video_file is visible here: {options['local_video']}")
    reporter.progress(6.0, stage=Stage.EXTRACTING_AUDIO, **fields)
    pcm_path = None if options.get("encode", True) else Path(options["input"])
    audio: np.ndarray | None = None
    if pcm_path is not None:
        duration = pcm_duration(pcm_path)
    else:
        audio = load_input(options, reporter.cancelled)
        duration = len(audio) / 16000
    language = options.get("language") or None
    task = options.get("task") or "transcribe"
    vad = topts.vad_filter if options.get("vad_filter") is None else bool(options["vad_filter"])
    words = (
        topts.word_timestamps
        if options.get("word_timestamps") is None
        else bool(options["word_timestamps"])
    )
    output = options.get("output") or "txt"
    if output in ("srt", "vtt", "tsv"):
        words = True  # readable cues are built from word timestamps

    def on_progress(fraction: float, eta: float | None) -> None:
        reporter.progress(14 + 81 * fraction, stage=Stage.TRANSCRIBING,
                          eta_seconds=round(eta, 1) if eta is not None else None)  # fmt: skip

    speakers = DiarizeRequest(
        enabled=bool(options.get("diarize")), min_speakers=options.get("min_speakers"),
        max_speakers=options.get("max_speakers"),
    )  # fmt: skip
    host = host or _DiarizerHost()
    if speakers.enabled:
        prepare(host, settings)  # a missing token or extra fails before transcribing
    reporter.progress(14.0, stage=Stage.TRANSCRIBING)
    kwargs = topts.engine_kwargs() | {"vad_filter": vad, "word_timestamps": words}
    if pcm_path is not None:  # memory-mapped int16, fed in chunks (subtitler.workers.pcm_chunks)
        result = transcribe_pcm(
            engine, pcm_path, language=language, task=task, progress=on_progress,
            cancel=reporter.cancelled, initial_prompt=options.get("initial_prompt") or None,
            **kwargs,
        )  # fmt: skip
    else:
        assert audio is not None
        result = engine.transcribe(
            audio, language=language, task=task, progress=on_progress,
            cancel=reporter.cancelled, initial_prompt=options.get("initial_prompt") or None,
            **kwargs,
        )  # fmt: skip
    source = parse_language(result.language) if result.language else None
    fields.update(
        source_lang=source,
        source_lang_confidence=round(result.language_probability, 3),
        speech_ratio=round(result.speech_ratio, 4),
        speech_detected=bool(result.segments),
    )
    reporter.progress(95.0, stage=Stage.WRITING)
    out_language = "eng" if task == "translate" else source
    style = CueStyle.from_settings(settings, language=to_alpha2(out_language or "") or None)
    strip = bool(settings.get("asr_strip_sound_annotations", True))
    segments = clean_segments(
        result.segments, speech=result.speech if vad else None, strip_annotations=strip
    )
    if speakers.enabled and segments:
        samples = audio if audio is not None else load_pcm(Path(options["input"]))
        segments = diarize_segments(
            host, segments, samples, settings=settings, request=speakers,
            reporter=reporter, low=95.0, high=98.0, fields=fields, cancel=reporter.cancelled,
        )  # fmt: skip
    cues = build_cues(segments, style)
    text = render_asr(
        output, cues=cues, segments=segments, language=whisper_code(out_language),
        language_name=display_name(out_language) if out_language else "unknown",
        duration=duration, task=task,
    )  # fmt: skip
    if output in ("srt", "vtt") and not cues:
        reporter.log("no speech found: the answer has no cues", level="warning")
    result_path = Path(options["results_dir"]) / f"{job['id']}.{output}"
    write_atomic(result_path, text)
    reporter.log(f"{len(cues)} cues, {len(segments)} segments in {duration:.1f} s of audio")
    return {
        **fields,
        "output_path": str(result_path),
        "output_format": output,
        "segments_count": len(cues),
        "processing_time_seconds": round(time.monotonic() - started, 2),
    }


def run_detect(
    *,
    engine: TranscriptionEngine,
    job: Mapping[str, Any],
    topts: TranscribeOptions,
    reporter: Reporter,
    fields: dict[str, Any],
) -> dict[str, Any]:
    """Three windows at 10/50/90 % of the upload, decoded alone, and a weighted vote."""
    started = time.monotonic()
    options: Mapping[str, Any] = job.get("options") or {}
    path = Path(options["input"])
    reporter.progress(6.0, stage=Stage.EXTRACTING_AUDIO, **fields)
    encoded = bool(options.get("encode", True))
    duration = media_duration(path) if encoded else pcm_duration(path)
    starts = window_starts(duration, WINDOW_SECONDS, POSITIONS)
    pieces = (encoded_windows if encoded else pcm_windows)(path, starts, WINDOW_SECONDS)
    compact = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    reporter.progress(30.0, stage=Stage.DETECTING_LANGUAGE)
    n = len(pieces)
    positions = [(i + 0.5) / n for i in range(n)]
    detection = engine.detect_language(
        compact, min_confidence=topts.detection_min_confidence,
        window_seconds=min(WINDOW_SECONDS, len(compact) / 16000 / max(n, 1)) or WINDOW_SECONDS,
        positions=positions,
    )  # fmt: skip
    votes = ", ".join(f"{lang}={p:.2f}" for _, lang, p in detection.votes)
    reporter.log(
        f"decoded {n} window(s) of {duration:.0f} s; votes: {votes or 'none'} -> "
        f"{detection.whisper_code or '?'} ({detection.confidence:.2f})"
    )
    return {
        **fields,
        "source_lang": detection.code,
        "source_lang_confidence": round(detection.confidence, 3),
        "speech_detected": bool(detection.votes),
        "processing_time_seconds": round(time.monotonic() - started, 2),
    }
