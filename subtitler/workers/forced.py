"""Forced subtitles (issue 22): cues for the foreign-language passages only, in the target
language, written as `<name>.<lang>.forced.srt`.

A forced job is a file job whose variant is `forced` and whose target_lang is the viewer's
language. The main language comes from the track's tag, the job's source_lang or detection;
passages.find_passages finds where the speech leaves it (language ID on windows); only those
passages are decoded (Whisper's translate task for an English target, else transcribed and
translated by the translation provider). No passage to subtitle: no file, the job completes
with forced_passages 0.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from subtitler.jobs.prechecks import FORCED_VARIANT, output_options, write_subtitle
from subtitler.jobs.results import cues_document
from subtitler.jobs.states import Stage
from subtitler.media.audio import extract_audio, probe_audio
from subtitler.media.languages import parse_language, same_language, to_alpha2
from subtitler.subtitles.cleanup import clean_segments
from subtitler.subtitles.cues import Cue, CueStyle, Segment, Word, build_cues
from subtitler.subtitles.formats import render
from subtitler.subtitles.naming import subtitle_path
from subtitler.subtitles.writer import ensure_writable
from subtitler.translation.stage import needs_provider, precheck, source_cues, translate_cues
from subtitler.workers.engine import Cancelled, TranscriptionEngine, speech_spans
from subtitler.workers.job_options import job_model
from subtitler.workers.models import TranscribeOptions
from subtitler.workers.passages import LanguageId, Passage, find_passages

if TYPE_CHECKING:
    from subtitler.workers.pipeline import JobRunner, Reporter

FORCED = FORCED_VARIANT  # the variant of a forced job (and the file-name flag)
PAD_SECONDS = 0.3  # audio kept around a passage when decoding it


def is_forced(job: Mapping[str, Any]) -> bool:
    return str(job.get("variant") or "") == FORCED


def run_forced(
    runner: JobRunner,
    *,
    job: Mapping[str, Any],
    settings: Mapping[str, Any],
    models_dir: str,
    reporter: Reporter,
) -> dict[str, Any]:
    from subtitler.workers.job_options import job_transcribe_options
    from subtitler.workers.pipeline import JobFailed, _pick_track

    started = time.monotonic()
    options = job_transcribe_options(settings, job)
    media = Path(job["file_path"])
    target = parse_language(str(job.get("target_lang") or "")) or "eng"
    rule: Mapping[str, Any] = job.get("options") or {}
    fields: dict[str, Any] = {}

    reporter.progress(1.0, stage=Stage.EXTRACTING_AUDIO)
    tracks, _ = probe_audio(media)
    track, why = _pick_track(tracks, rule.get("audio_track"), job.get("source_lang"), options)
    reporter.log(f"forced subtitle ({target}): audio track {track.index} chosen: {why}")
    main = job.get("source_lang") or track.language
    audio = extract_audio(media, track=track.index, cancel=reporter.cancelled)
    if reporter.cancelled():
        raise Cancelled("cancelled")
    spans = speech_spans(audio.samples) if len(audio.samples) else []
    speech = sum(e - s for s, e in spans)
    fields["speech_ratio"] = round(min(1.0, speech / audio.duration), 4) if audio.duration else 0.0
    reporter.log(
        f"voice activity: {len(spans)} speech spans, {speech:.1f} s of {audio.duration:.1f} s"
    )

    reporter.progress(6.0, stage=Stage.LOADING_MODEL)
    engine, loaded = runner._load(
        settings=settings, preset=job["quality_preset"], models_dir=models_dir, language=None,
        task="translate", options=options, reporter=reporter, override=job_model(job),
    )  # fmt: skip
    fields.update(loaded)
    if not engine.model_info.multilingual:
        raise JobFailed(
            f"forced subtitles need a multilingual model to tell languages apart; "
            f"{engine.model_info.name} knows English only (choose e.g. base for this preset)",
            code="model_language_mismatch", fields=fields,
        )  # fmt: skip
    if not spans:
        reporter.log("no speech found: no forced subtitle", level="warning")
        return _none(fields, [], started, speech_detected=False)
    if main is None:
        main = runner._detect(engine, audio.samples, options, reporter, fields)
    main = parse_language(main) or main
    fields["source_lang"] = main

    outcome = forced_cues(
        engine, audio.samples, spans, main=main, target=target, settings=settings,
        options=options, reporter=reporter, fields=fields, device=runner.device,
    )  # fmt: skip
    cues, all_segments, passages = outcome.cues, outcome.segments, outcome.passages
    if not cues:
        return _none(fields, passages, started, speech_detected=True)

    reporter.progress(95.0, stage=Stage.WRITING)
    output = output_options(settings, fmt=job.get("output_format"), variant=None)
    path = subtitle_path(media, language=target, options=output, forced=True)
    written: Mapping[str, str] = job.get("written_subtitles") or {}
    replaces = rule.get("replaces")
    ensure_writable(
        path, overwrite=output.overwrite,
        written_by_us=lambda p, sha: str(p) == replaces or written.get(str(p)) == sha,
    )  # fmt: skip
    text = render(cues, fmt=output.fmt, segments=all_segments, language=target,
                  duration=audio.duration)  # fmt: skip
    if reporter.cancelled():
        raise Cancelled("cancelled before writing")
    intend = getattr(reporter, "intend_write", None)
    sha = write_subtitle(
        path, text, media=media,
        before_replace=(lambda digest: intend(str(path), digest, target))
        if intend is not None else None,
    )  # fmt: skip
    reporter.log(f"wrote {len(cues)} forced cues for {outcome.subtitled} passage(s) to {path}")
    reporter.progress(99.0, stage=Stage.FINALIZING)
    return {
        **fields,
        "speech_detected": True,
        "passages": passages,
        "forced_passages": outcome.subtitled,
        "output_path": str(path),
        "output_format": output.fmt,
        "output_sha256": sha,
        "output_language": target,
        "segments_count": len(cues),
        "processing_time_seconds": round(time.monotonic() - started, 2),
        "audio_duration": audio.duration,
        "stored_cues": cues_document(cues, all_segments, language=target, duration=audio.duration),
    }


@dataclass
class ForcedCues:
    cues: list[Cue]
    segments: list[Segment]
    passages: list[dict[str, Any]]  # every passage found, each with "subtitled"
    subtitled: int  # passages that got cues (0: no forced subtitle)


def forced_cues(
    engine: TranscriptionEngine,
    samples: Any,
    spans: Sequence[tuple[float, float]],
    *,
    main: str,
    target: str,
    settings: Mapping[str, Any],
    options: TranscribeOptions,
    reporter: Reporter,
    fields: dict[str, Any],
    device: str = "cpu",
) -> ForcedCues:
    """The forced cues of `samples` (VAD `spans`): passages not in `main`, in `target`."""
    reporter.progress(14.0, stage=Stage.DETECTING_LANGUAGE)
    search_started = time.monotonic()
    search = find_passages(
        samples, spans, main_language=to_alpha2(main) or main,
        identify=LanguageId(engine._whisper()),
        min_confidence=float(settings.get("forced_min_confidence", 0.6)),
        min_seconds=float(settings.get("forced_min_passage_seconds", 3.0)),
        cancelled=reporter.cancelled,
    )  # fmt: skip
    if reporter.cancelled():
        raise Cancelled("cancelled")
    found = search.passages
    listed = ", ".join(
        f"{p.start:.1f}-{p.end:.1f} s {p.language} ({p.confidence:.2f})" for p in found
    )
    reporter.log(
        f"main language {main}: {len(found)} foreign passage(s) {listed or ''} "
        f"({search.windows} windows + {search.refined} refinements identified in "
        f"{time.monotonic() - search_started:.1f} s)".replace("  ", " ")
    )
    todo = [p for p in found if not same_language(p.language, target)]
    for p in found:
        if p not in todo:
            reporter.log(f"passage {p.start:.1f}-{p.end:.1f} s is in {target} already: skipped")
    passages = [p.as_dict() | {"subtitled": p in todo} for p in found]
    if not todo:
        reporter.log(f"no foreign passage to subtitle in {target}: no forced subtitle written")
        return ForcedCues([], [], passages, 0)

    reporter.progress(25.0, stage=Stage.TRANSCRIBING)
    style = CueStyle.from_settings(settings, language=to_alpha2(target) or None)
    cues: list[Cue] = []
    all_segments: list[Segment] = []
    for n, passage in enumerate(todo):
        got, segments = _passage_cues(
            engine, samples, passage, target=target, settings=settings, style=style,
            options=options, reporter=reporter, fields=fields, device=device,
        )  # fmt: skip
        cues.extend(got)
        all_segments.extend(segments)
        reporter.progress(25.0 + 70.0 * (n + 1) / len(todo), stage=Stage.TRANSCRIBING)
    if not cues:
        reporter.log("the foreign passages held no words: no forced subtitle written")
        return ForcedCues([], [], passages, 0)

    return ForcedCues(cues, all_segments, passages, len(todo) if cues else 0)


def _passage_cues(
    engine: TranscriptionEngine,
    samples: Any,
    passage: Passage,
    *,
    target: str,
    settings: Mapping[str, Any],
    style: CueStyle,
    options: Any,
    reporter: Reporter,
    fields: dict[str, Any],
    device: str,
) -> tuple[list[Cue], list[Segment]]:
    """The passage decoded (its audio only) into cues in `target`, at the film's times."""
    provider = None
    if needs_provider(settings, source=passage.language, target=target):
        provider = precheck(settings, source=passage.language, target=target, device=device)
    task = "translate" if provider is None and same_language(target, "eng") else "transcribe"
    offset = max(0.0, passage.start - PAD_SECONDS)
    rate = 16000
    clip = samples[int(offset * rate) : int((passage.end + PAD_SECONDS) * rate)]
    result = engine.transcribe(
        clip, language=to_alpha2(passage.language), task=task, cancel=reporter.cancelled,
        **options.engine_kwargs(),
    )  # fmt: skip
    segments = [_shifted(s, offset) for s in result.segments]
    segments = clean_segments(segments, strip_annotations=style.strip_annotations)
    reporter.log(
        f"passage {passage.start:.1f}-{passage.end:.1f} s ({passage.language}): "
        f"{task} in {result.elapsed:.1f} s, {len(segments)} segments"
    )
    cue_style = style if task == "translate" else style.for_language(passage.language)
    cues = build_cues(segments, cue_style)
    if provider is not None:
        cues = translate_cues(
            source_cues(cues), provider=provider, source=passage.language, target=target,
            style=style, reporter=reporter, low=25.0, high=95.0, fields=fields,
        )  # fmt: skip
    return cues, segments


def _shifted(segment: Segment, offset: float) -> Segment:
    words = tuple(
        Word(start=w.start + offset, end=w.end + offset, word=w.word, probability=w.probability)
        for w in segment.words
    )
    return replace(segment, start=segment.start + offset, end=segment.end + offset, words=words)


def _none(
    fields: dict[str, Any], passages: list[dict[str, Any]], started: float, *,
    speech_detected: bool,
) -> dict[str, Any]:  # fmt: skip
    return {
        **fields,
        "speech_detected": speech_detected,
        "passages": passages,
        "forced_passages": 0,
        "segments_count": 0,
        "processing_time_seconds": round(time.monotonic() - started, 2),
    }


def run_forced_asr(
    engine: TranscriptionEngine,
    *,
    job: Mapping[str, Any],
    settings: Mapping[str, Any],
    topts: TranscribeOptions,
    reporter: Reporter,
    fields: dict[str, Any],
    device: str = "cpu",
) -> dict[str, Any]:
    """POST /asr?forced=<lang>: the forced cues of an upload, answered like any /asr result."""
    from subtitler.asr.output import render_asr
    from subtitler.media.languages import display_name
    from subtitler.subtitles.writer import write_atomic
    from subtitler.workers.asr_jobs import load_input, whisper_code
    from subtitler.workers.pipeline import JobFailed, JobRunner

    started = time.monotonic()
    options: Mapping[str, Any] = job.get("options") or {}
    target = parse_language(str(options["forced"])) or "eng"
    reporter.progress(6.0, stage=Stage.EXTRACTING_AUDIO, **fields)
    samples = load_input(options, reporter.cancelled)
    duration = len(samples) / 16000
    if not engine.model_info.multilingual:
        raise JobFailed(
            f"forced subtitles need a multilingual model; {engine.model_info.name} knows "
            "English only (choose e.g. base for asr_quality_preset)",
            code="model_language_mismatch", fields=fields,
        )  # fmt: skip
    spans = speech_spans(samples) if len(samples) else []
    outcome = ForcedCues([], [], [], 0)
    if spans:
        language = options.get("language")
        main = parse_language(str(language)) if language else None
        if main is None:
            main = JobRunner._detect(engine, samples, topts, reporter, fields)
        fields["source_lang"] = main
        outcome = forced_cues(
            engine, samples, spans, main=main, target=target, settings=settings, options=topts,
            reporter=reporter, fields=fields, device=device,
        )  # fmt: skip
    output = str(options.get("output") or "srt")
    lines = [Segment(start=c.start, end=c.end, text=" ".join(c.lines)) for c in outcome.cues]
    text = render_asr(
        output, cues=outcome.cues, segments=lines, language=whisper_code(target),
        language_name=display_name(target), duration=duration, task="translate",
    )  # fmt: skip
    result_path = Path(options["results_dir"]) / f"{job['id']}.{output}"
    write_atomic(result_path, text)
    reporter.log(f"forced: {len(outcome.cues)} cues for {outcome.subtitled} passage(s)")
    return {
        **fields,
        "speech_detected": bool(spans),
        "passages": outcome.passages,
        "forced_passages": outcome.subtitled,
        "output_path": str(result_path),
        "output_format": output,
        "segments_count": len(outcome.cues),
        "processing_time_seconds": round(time.monotonic() - started, 2),
    }
