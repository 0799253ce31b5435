"""From a queued job to a subtitle file: runs inside a worker process, never on the event loop.

Stages: loading_model -> extracting_audio -> detecting_language -> transcribing -> [translating]
-> writing -> finalizing, each reported with progress (0-100) and an ETA from the measured speed.
A target the audio's language is not gets its cues translated (subtitler.translation); a
subtitle_translation job translates an existing subtitle and skips the speech stages.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from subtitler.errors import SubtitlerError
from subtitler.jobs.prechecks import output_options, write_subtitle
from subtitler.jobs.states import JobType, Stage
from subtitler.media.audio import AudioTrack, choose_audio_track, extract_audio, probe_audio
from subtitler.media.languages import same_language, to_alpha2
from subtitler.subtitles.cleanup import clean_segments
from subtitler.subtitles.cues import CueStyle, build_cues, cues_document
from subtitler.subtitles.formats import render
from subtitler.subtitles.naming import subtitle_path
from subtitler.subtitles.writer import ensure_writable
from subtitler.translation import ct2 as translation_models
from subtitler.translation.stage import needs_provider, precheck, source_cues, translate_cues
from subtitler.translation.subtitle_job import run_subtitle_translation
from subtitler.workers.asr_jobs import run_asr, run_detect
from subtitler.workers.diarize import DiarizeRequest
from subtitler.workers.diarize_stage import diarize_segments, prepare
from subtitler.workers.engine import Cancelled, TranscriptionEngine, pick_device
from subtitler.workers.forced import is_forced, run_forced
from subtitler.workers.job_options import (
    job_initial_prompt,
    job_model,
    job_transcribe_options,
    no_speech_result,
)
from subtitler.workers.models import ResolvedModel, TranscribeOptions, choose_model_from_settings

logger = logging.getLogger(__name__)

ENGLISH = "eng"
# Share of the progress bar each stage ends at.
# The audio is extracted before the model loads: the track's language picks the model.
_STAGE_END = {
    Stage.EXTRACTING_AUDIO: 6.0,
    Stage.LOADING_MODEL: 10.0,
    Stage.DETECTING_LANGUAGE: 14.0,
    Stage.TRANSCRIBING: 95.0,
    Stage.WRITING: 99.0,
}
_TRANSLATE_FROM = 80.0  # with a translation, transcribing ends here and translating follows


class Reporter(Protocol):
    def progress(
        self, progress: float, *, stage: str | None = None, eta_seconds: float | None = None,
        **fields: Any,
    ) -> None: ...  # fmt: skip

    def log(self, message: str, *, level: str = "info") -> None: ...

    def cancelled(self) -> bool: ...


class JobFailed(SubtitlerError):
    """A failure that also carries fields to store on the job (e.g. the detected language)."""

    def __init__(self, detail: str, *, code: str, fields: dict[str, Any]) -> None:
        super().__init__(detail, code=code)
        self.fields = fields


class JobRunner:
    """Keeps one engine warm between jobs (a new model or compute type replaces it)."""

    def __init__(self, *, worker_id: str, device: str, device_index: int) -> None:
        self.worker_id = worker_id
        self.device = device
        self.device_index = device_index
        self._engine: TranscriptionEngine | None = None
        self._idle_unload_seconds = 600.0
        self._diarizer: Any = None  # a workers.diarize.Diarizer once a job asks for speakers

    def unload_if_idle(self) -> None:
        if self._engine is not None:
            self._engine.unload_if_idle(self._idle_unload_seconds)
        if self._diarizer is not None:
            self._diarizer.unload_if_idle(self._idle_unload_seconds)
        translation_models.unload_idle(self._idle_unload_seconds)

    def _engine_for(
        self, model: ResolvedModel, compute_type: str, cpu_threads: int
    ) -> TranscriptionEngine:
        """The warm engine when it fits (model, compute type, threads), else a new one.

        The compute type compared is the one the engine resolves on this device (a GPU runs a
        CPU preset's int8 as float16): comparing the preset's own made a GPU worker load its
        model again for every job."""
        engine = self._engine
        threads = cpu_threads if self.device != "cuda" else 0
        if (
            engine is not None
            and engine.model_info.path == model.path
            and (engine.compute_type == self._resolved(compute_type) or engine.fallback_reason)
            and engine.cpu_threads == threads
        ):
            return engine
        if engine is not None:
            engine.unload()
        self._engine = TranscriptionEngine(
            model=model, device=self.device, compute_type=compute_type,
            device_index=self.device_index, cpu_threads=threads,
        )  # fmt: skip
        return self._engine

    def _resolved(self, compute_type: str) -> str:
        """The compute type an engine on this worker's device runs `compute_type` as."""
        warm = self._engine
        device = warm.device if warm is not None and self.device == "auto" else self.device
        return pick_device(device, compute_type)[1]

    def run(
        self,
        *,
        job: Mapping[str, Any],
        settings: Mapping[str, Any],
        models_dir: str,
        reporter: Reporter,
    ) -> dict[str, Any]:
        options = job_transcribe_options(settings, job)
        self._idle_unload_seconds = options.idle_unload_seconds
        if job.get("job_type") in (JobType.ASR, JobType.LANGUAGE_DETECTION):
            return self._run_asr(job=job, settings=settings, models_dir=models_dir,
                                 options=options, reporter=reporter)  # fmt: skip
        fields: dict[str, Any] = {}
        source = job.get("source_lang")
        if job.get("job_type") == JobType.SUBTITLE_TRANSLATION:
            done = run_subtitle_translation(job=job, settings=settings, reporter=reporter,
                                            device=self.device)  # fmt: skip
            if done is not None:
                return done
            # listening after all: a speech translation, from the audio's language (the job's
            # source_lang was the subtitle's)
            fields["job_type"] = JobType.TRANSLATION
            queued_with = job.get("options") or {}
            source = queued_with.get("audio_lang", source)
            fields["source_lang"] = source
        if is_forced(job):
            return run_forced(self, job=job, settings=settings, models_dir=models_dir,
                              reporter=reporter)  # fmt: skip
        started = time.monotonic()
        media = Path(job["file_path"])
        target = job.get("target_lang")

        def check_cancel() -> bool:
            return reporter.cancelled()

        clock = _StageClock(started)
        # The audio first: it is cheap and tells us the track's language.
        reporter.progress(1.0, stage=Stage.EXTRACTING_AUDIO)
        tracks, _ = probe_audio(media)
        clock.lap("probe")
        rule: Mapping[str, Any] = job.get("options") or {}
        track, why = _pick_track(tracks, rule.get("audio_track"), source, options)
        reporter.log(f"audio track {track.index} chosen: {why}")
        source = source or track.language
        translator = None  # checked before any work when the languages are known
        if needs_provider(settings, source=source, target=target):
            translator = precheck(settings, source=source, target=target, device=self.device)
        audio = extract_audio(media, track=track.index, cancel=check_cancel)
        clock.lap("decode")
        if audio.offset:
            reporter.log(f"audio starts at {audio.offset:+.3f} s; cue times compensated")
        duration = audio.duration
        if check_cancel():
            raise Cancelled("cancelled")
        if source is None:  # voice activity before language: silence has no language
            silent = no_speech_result(audio.samples, duration, options, reporter, started)
            if silent is not None:
                return {**fields, **silent}

        reporter.progress(_STAGE_END[Stage.EXTRACTING_AUDIO], stage=Stage.LOADING_MODEL)
        engine, loaded = self._load(
            settings=settings, preset=job["quality_preset"], models_dir=models_dir,
            language=to_alpha2(source) if source else None,
            task="translate"
            if target and same_language(target, ENGLISH) and translator is None
            and settings.get("translation_english_via", "whisper") == "whisper"
            else "transcribe",
            options=options, reporter=reporter, override=job_model(job),
        )  # fmt: skip
        fields.update(loaded)
        reporter.progress(_STAGE_END[Stage.LOADING_MODEL], stage=Stage.LOADING_MODEL, **fields)
        clock.lap("model")

        if source is None:
            source = self._detect(engine, audio.samples, options, reporter, fields)
            _check_rule_language(source, rule, fields)
            clock.lap("detect")
        fields["source_lang"] = source
        if translator is None and needs_provider(settings, source=source, target=target):
            translator = precheck(settings, source=source, target=target, device=self.device)
        task = (
            "transcribe" if translator else _task_for(source=source, target=target, fields=fields)
        )

        reporter.progress(_STAGE_END[Stage.DETECTING_LANGUAGE], stage=Stage.TRANSCRIBING)
        low, high = _STAGE_END[Stage.DETECTING_LANGUAGE], _STAGE_END[Stage.TRANSCRIBING]
        if translator is not None:
            high = _TRANSLATE_FROM
        speakers = DiarizeRequest.of(settings, job)
        diarize_to = high
        if speakers.enabled:  # the diarization stage takes the second half of the bar
            high = low + (high - low) * 0.4
            prepare(self, settings)  # fails now (one sentence) rather than after transcribing

        def on_progress(fraction: float, eta: float | None) -> None:
            reporter.progress(low + (high - low) * fraction, stage=Stage.TRANSCRIBING,
                              eta_seconds=round(eta, 1) if eta is not None else None)  # fmt: skip

        result = engine.transcribe(
            audio.samples, language=to_alpha2(source) if source else None, task=task,
            progress=on_progress, cancel=check_cancel, **options.engine_kwargs(),
            initial_prompt=job_initial_prompt(job),
        )  # fmt: skip
        clock.lap("transcribe")
        fields["speech_ratio"] = round(result.speech_ratio, 4)
        speed = duration / result.elapsed if result.elapsed else None
        reporter.log(
            f"transcribed {duration:.1f} s of audio in {result.elapsed:.1f} s"
            + (f" ({speed:.1f}x realtime)" if speed else "")
            + f"; speech ratio {result.speech_ratio:.2f}, {len(result.segments)} segments"
        )
        if result.speech_ratio <= options.min_speech_ratio or not result.segments:
            reporter.log("no speech found: nothing written", level="warning")
            return {**fields, "speech_detected": False, "segments_count": 0,
                    "processing_time_seconds": round(time.monotonic() - started, 2)}  # fmt: skip
        fields["speech_detected"] = True

        after = Stage.TRANSLATING if translator else Stage.WRITING
        reporter.progress(high, stage=Stage.DIARIZING if speakers.enabled else after)
        out_language = ENGLISH if task == "translate" else source
        style = CueStyle.from_settings(settings, language=to_alpha2(out_language or "") or None)
        segments = clean_segments(
            result.segments, speech=result.speech if options.vad_filter else None,
            strip_annotations=style.strip_annotations,
        )  # fmt: skip
        if speakers.enabled:
            segments = diarize_segments(
                self, segments, audio.samples, settings=settings, request=speakers,
                reporter=reporter, low=high, high=diarize_to, fields=fields,
                cancel=check_cancel,
            )  # fmt: skip
            reporter.progress(diarize_to, stage=after)
        cues = build_cues(segments, style)
        clock.lap("cues")
        if translator is not None and target:
            cues = translate_cues(
                source_cues(cues), provider=translator, source=source, target=target,
                style=style, reporter=reporter, low=_TRANSLATE_FROM,
                high=_STAGE_END[Stage.TRANSCRIBING], fields=fields,
            )  # fmt: skip
            out_language = target
            reporter.progress(_STAGE_END[Stage.TRANSCRIBING], stage=Stage.WRITING)
            clock.lap("translate")
        output = output_options(settings, fmt=job.get("output_format"),
                                variant=job.get("variant") or None)  # fmt: skip
        path = subtitle_path(media, language=out_language, options=output)
        written: Mapping[str, str] = job.get("written_subtitles") or {}
        replaces = (job.get("options") or {}).get("replaces")
        ensure_writable(
            path, overwrite=output.overwrite,
            written_by_us=lambda p, sha: str(p) == replaces or written.get(str(p)) == sha,
        )  # fmt: skip
        text = render(cues, fmt=output.fmt, segments=segments, language=out_language,
                      duration=duration,
                      speaker_labels=bool(settings.get("srt_speaker_labels")))  # fmt: skip
        if check_cancel():
            raise Cancelled("cancelled before writing")
        intend = getattr(reporter, "intend_write", None)  # a worker process's reporter has it
        sha = write_subtitle(
            path, text, media=media,
            before_replace=(lambda digest: intend(str(path), digest, out_language))
            if intend is not None else None,
        )  # fmt: skip
        clock.lap("write")
        reporter.log(f"wrote {len(cues)} cues to {path}")
        reporter.log(f"stage seconds: {clock}")
        reporter.progress(_STAGE_END[Stage.WRITING], stage=Stage.FINALIZING)
        return {
            **fields,
            "output_path": str(path),
            "output_format": output.fmt,
            "output_sha256": sha,
            "output_language": out_language,
            "segments_count": len(cues),
            "processing_time_seconds": round(time.monotonic() - started, 2),
            "audio_duration": duration,
            "stored_cues": cues_document(cues, segments, language=out_language, duration=duration),
        }

    def _load(
        self,
        *,
        settings: Mapping[str, Any],
        preset: str,
        models_dir: str,
        language: str | None,
        task: str,
        options: TranscribeOptions,
        reporter: Reporter,
        override: str | None = None,
    ) -> tuple[TranscriptionEngine, dict[str, Any]]:
        """Choose the model (falling back when allowed), load it warm, log what was used."""
        choice = choose_model_from_settings(
            settings, preset=preset, models_dir=Path(models_dir), language=language, task=task,
            override=override,
        )  # fmt: skip
        if choice.fallback_reason:
            reporter.log(choice.fallback_reason, level="warning")
        threads = int(settings.get("__cpu_threads__") or 0)  # 0: CTranslate2's default
        engine = self._engine_for(choice.model, options.preset.compute_type, threads)
        engine.load()
        if engine.fallback_reason:
            reporter.log(engine.fallback_reason, level="warning")
        device_used = f"cuda:{engine.device_index}" if engine.device == "cuda" else "cpu"
        reporter.log(f"model {choice.model.name} ({choice.model.source}) on {device_used} "
                     f"({engine.compute_type})")  # fmt: skip
        return engine, {"model_used": choice.model.name, "device_used": device_used}

    def _run_asr(
        self,
        *,
        job: Mapping[str, Any],
        settings: Mapping[str, Any],
        models_dir: str,
        options: TranscribeOptions,
        reporter: Reporter,
    ) -> dict[str, Any]:
        request = job.get("options") or {}
        detect = job.get("job_type") == JobType.LANGUAGE_DETECTION
        reporter.progress(1.0, stage=Stage.LOADING_MODEL)
        engine, fields = self._load(
            settings=settings, preset=job["quality_preset"], models_dir=models_dir,
            language=None if detect else request.get("language"),
            task="transcribe" if detect else request.get("task", "transcribe"),
            options=options, reporter=reporter,
        )  # fmt: skip
        if detect:
            return run_detect(
                engine=engine, job=job, topts=options, reporter=reporter, fields=fields
            )
        return run_asr(engine=engine, job=job, settings=settings, topts=options,
                       reporter=reporter, fields=fields, host=self)  # fmt: skip

    @staticmethod
    def _detect(
        engine: TranscriptionEngine,
        samples: Any,
        options: TranscribeOptions,
        reporter: Reporter,
        fields: dict[str, Any],
    ) -> str:
        reporter.progress(_STAGE_END[Stage.LOADING_MODEL], stage=Stage.DETECTING_LANGUAGE)
        if not engine.model_info.multilingual:
            reporter.log(f"model {engine.model_info.name} is English-only: assuming English")
            return ENGLISH
        detection = engine.detect_language(samples, min_confidence=options.detection_min_confidence)
        votes = ", ".join(f"{lang}@{start:.0f}s={p:.2f}" for start, lang, p in detection.votes)
        reporter.log(
            f"language votes: {votes or 'none (too little speech)'} -> "
            f"{detection.whisper_code or '?'} ({detection.confidence:.2f})"
        )
        fields["source_lang_confidence"] = round(detection.confidence, 3)
        if detection.code is None:
            raise JobFailed(
                f"could not tell the audio's language (best guess {detection.whisper_code or '?'}"
                f" at {detection.confidence:.2f}, below the language_detection_min_confidence "
                f"{options.detection_min_confidence}); set the job's source_lang",
                code="language_undetermined",
                fields=fields,
            )
        return detection.code


class _StageClock:
    """Seconds each stage of a job took (bench/transcribe.py reads the job's log line)."""

    def __init__(self, started: float) -> None:
        self.last = started
        self.laps: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.monotonic()
        self.laps[stage] = self.laps.get(stage, 0.0) + now - self.last
        self.last = now

    def __str__(self) -> str:
        return ", ".join(f"{stage} {seconds:.3f}" for stage, seconds in self.laps.items())


def _pick_track(
    tracks: Sequence[AudioTrack],
    rule_track: int | None,
    source: str | None,
    options: TranscribeOptions,
) -> tuple[AudioTrack, str]:
    """The track a scan rule matched on, else the usual choice (see choose_audio_track)."""
    if rule_track is not None:
        for track in tracks:
            if track.index == rule_track:
                return track, f"track {track.index} is the one the scan rule matched"
    return choose_audio_track(
        tracks, source_lang=source, preferred_languages=options.preferred_audio_languages
    )


def _check_rule_language(source: str, rule: Mapping[str, Any], fields: dict[str, Any]) -> None:
    """A rule that matched an untagged track on the promise of a language is held to it once
    the language is known (the rules engine cannot listen; the worker can)."""
    must_be = rule.get("source_lang_must_be")
    must_not = rule.get("source_lang_must_not_be") or []
    if must_be and not same_language(source, must_be):
        raise JobFailed(
            f"the audio is {source}, but rule {rule.get('rule_name')!r} is for {must_be} audio",
            code="rule_language_mismatch",
            fields={**fields, "source_lang": source},
        )
    for excluded in must_not:
        if same_language(source, excluded):
            raise JobFailed(
                f"the audio is {source}, which rule {rule.get('rule_name')!r} excludes",
                code="rule_language_mismatch",
                fields={**fields, "source_lang": source},
            )


def _task_for(*, source: str | None, target: str | None, fields: dict[str, Any]) -> str:
    """transcribe writes the audio's language; an English target on other audio uses Whisper's
    translate task (other targets go through subtitler.translation before this is asked)."""
    if not target or same_language(target, source):
        return "transcribe"
    if same_language(target, ENGLISH):
        return "translate"
    raise JobFailed(
        f"the audio is {source or 'in an unknown language'} and the target is {target}: "
        "no translation provider can reach it",
        code="translation_unavailable",
        fields=fields,
    )
