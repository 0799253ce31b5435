"""The faster-whisper engine a worker keeps warm: load on a device, detect, transcribe.

Everything here is synchronous and CPU/GPU bound: call it from a worker process or a thread, never
from an event loop. faster_whisper is imported lazily, after models.configure_hub has run.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from subtitler.errors import SubtitlerError
from subtitler.media.languages import parse_language, to_alpha2
from subtitler.subtitles.cues import Segment, Word
from subtitler.workers.models import ResolvedModel

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
ProgressCallback = Callable[[float, float | None], None]  # (fraction 0..1, eta seconds)
# Seconds between progress reports while transcribing. Each one costs the daemon a database
# write and a job_updated event (about 10 ms of CPU on a busy 2-core box, taken from the worker:
# the daemon runs at a higher priority); every 2 s keeps a progress bar live at half that cost.
PROGRESS_INTERVAL = 2.0
CancelCheck = Callable[[], bool]


class Cancelled(SubtitlerError):
    status = 409
    code = "cancelled"


@dataclass
class LanguageDetection:
    code: str | None  # ISO 639-2/T of the winner, None when below the confidence gate
    whisper_code: str  # the winner in Whisper's code, even when below the gate
    confidence: float  # the winner's summed probability / number of windows
    votes: list[tuple[float, str, float]] = field(default_factory=list)  # (start s, lang, p)

    @property
    def confident(self) -> bool:
        return self.code is not None


@dataclass
class TranscriptionResult:
    language: str  # Whisper code of the audio ("en"); the source language even when translating
    language_probability: float
    duration: float
    speech_ratio: float
    # VAD speech spans (s) when the engine ran the VAD itself (vad_filter off); None when the
    # pipeline's VAD already kept the model to speech (the speech_ratio is exact either way).
    speech: list[tuple[float, float]] | None
    segments: list[Segment]
    task: str = "transcribe"
    model: str = ""
    device: str = "cpu"
    compute_type: str = "int8"
    elapsed: float = 0.0


def _lib_in(message: str) -> str | None:
    match = re.search(r"lib[\w.+-]*\.so(?:\.\d+)*", message)
    return match.group(0) if match else None


def cuda_failure_reason(exc: BaseException) -> str:
    lib = _lib_in(str(exc))
    what = f"{lib} could not be loaded" if lib else f"cannot use CUDA ({exc})"
    return (
        f"{what}: CTranslate2 needs the CUDA 12 runtime with cuBLAS 12 and cuDNN 9 (install the "
        "nvidia-cublas-cu12 and nvidia-cudnn-cu12 wheels and put their lib folders on "
        "LD_LIBRARY_PATH, or use an nvidia/cuda:12.x-cudnn-runtime image); using the CPU"
    )


def cuda_device_count() -> int:
    try:
        import ctranslate2

        return int(ctranslate2.get_cuda_device_count())
    except Exception as exc:  # a broken CUDA install must not stop a CPU worker
        logger.info("no CUDA device: %s", exc)
        return 0


def pick_device(device: str = "auto", compute_type: str | None = None) -> tuple[str, str]:
    """(device, compute type): CUDA float16 when a GPU is seen, else CPU int8."""
    if device == "auto":
        device = "cuda" if cuda_device_count() > 0 else "cpu"
    if device == "cuda":
        return device, compute_type if compute_type in ("float16", "int8_float16") else "float16"
    return "cpu", compute_type if compute_type in ("int8", "int8_float32", "float32") else "int8"


class TranscriptionEngine:
    """One loaded WhisperModel, kept warm between jobs; unload it when idle."""

    def __init__(
        self,
        *,
        model: ResolvedModel,
        device: str = "auto",
        compute_type: str | None = None,
        device_index: int = 0,
        cpu_threads: int = 0,
    ) -> None:
        self.model_info = model
        self.device, self.compute_type = pick_device(device, compute_type)
        self.device_index, self.cpu_threads = device_index, cpu_threads
        self.fallback_reason: str | None = None
        self.last_used = time.monotonic()
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        """Load the model (no-op when warm). A CUDA failure falls back to CPU int8, logged."""
        with self._lock:
            if self._model is not None:
                return
            from faster_whisper import WhisperModel

            started = time.monotonic()
            if self.device == "cuda":
                try:
                    model = WhisperModel(
                        str(self.model_info.path), device="cuda", device_index=self.device_index,
                        compute_type=self.compute_type,
                    )  # fmt: skip
                    _warm_up(model)  # cuBLAS/cuDNN load on first use, not at construction
                    self._model = model
                except (RuntimeError, OSError, ValueError) as exc:
                    self.fallback_reason = cuda_failure_reason(exc)
                    logger.warning("%s", self.fallback_reason)
                    self.device, self.compute_type = "cpu", "int8"
            if self._model is None:
                self._model = WhisperModel(
                    str(self.model_info.path), device="cpu", compute_type=self.compute_type,
                    cpu_threads=self.cpu_threads,
                )  # fmt: skip
            self.last_used = time.monotonic()
            logger.info(
                "loaded model %s on %s (%s) in %.2f s", self.model_info.name, self.device,
                self.compute_type, time.monotonic() - started,
            )  # fmt: skip

    def unload(self) -> None:
        with self._lock:
            self._model = None

    def unload_if_idle(self, idle_seconds: float) -> bool:
        """Drop the model after `idle_seconds` without use (setting model_idle_unload_seconds)."""
        if self.loaded and idle_seconds > 0 and time.monotonic() - self.last_used >= idle_seconds:
            logger.info("unloading idle model %s", self.model_info.name)
            self.unload()
            return True
        return False

    def _whisper(self) -> Any:
        self.load()
        self.last_used = time.monotonic()
        return self._model

    def detect_language(
        self,
        audio: np.ndarray,
        *,
        min_confidence: float = 0.5,
        speech: Sequence[tuple[float, float]] | None = None,
        window_seconds: float = 30.0,
        positions: Sequence[float] = (0.1, 0.5, 0.9),
    ) -> LanguageDetection:
        """Vote over ~30 s windows at 10/50/90 % of the audio, weighted by probability."""
        if not self.model_info.multilingual:
            raise SubtitlerError(
                f"model {self.model_info.name} knows English only and cannot detect a language",
                code="language_detection_unsupported",
            )
        model = self._whisper()
        duration = len(audio) / SAMPLE_RATE
        starts = sorted(
            {round(max(0.0, min(p * duration - window_seconds / 2, duration - window_seconds)), 1)
             for p in positions}
        )  # fmt: skip
        votes: list[tuple[float, str, float]] = []
        for start in starts:
            window = audio[int(start * SAMPLE_RATE) : int((start + window_seconds) * SAMPLE_RATE)]
            if speech is None:  # VAD on the window only: cheap on a long file
                clip = _speech_in(window, speech_spans(window), 0.0, window_seconds)
            else:
                clip = _speech_in(audio, speech, start, start + window_seconds)
            if len(clip) < SAMPLE_RATE:  # under a second of speech says nothing
                continue
            lang, prob, _ = model.detect_language(audio=clip[: int(window_seconds * SAMPLE_RATE)])
            votes.append((start, lang, float(prob)))
        found = tally_votes(votes, min_confidence=min_confidence)
        logger.info("language votes %s -> %s (%.2f)", votes, found.whisper_code, found.confidence)
        return found

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        language: str | None = None,
        task: str = "transcribe",
        beam_size: int = 5,
        batch_size: int = 8,
        vad_filter: bool = True,
        word_timestamps: bool = True,
        min_speech_ratio: float = 0.0,
        progress: ProgressCallback | None = None,
        cancel: CancelCheck | None = None,
        progress_interval: float = PROGRESS_INTERVAL,
        expected_speed: float = 8.0,
        initial_prompt: str | None = None,
    ) -> TranscriptionResult:
        """Transcribe (or translate to English) 16 kHz mono float32 audio.

        `language` in any spelling (`de`, `ger`, `deu`); None lets Whisper detect it from the first
        30 s of speech (prefer detect_language and pass its result).
        With vad_filter the pipeline's own VAD keeps the model to speech (one VAD pass) and
        speech_ratio comes from it; without, the engine runs the VAD for speech_ratio and spans,
        and audio whose speech ratio is <= min_speech_ratio is not transcribed at all.
        """
        if task not in ("transcribe", "translate"):
            raise SubtitlerError(f"unknown task {task!r}", code="bad_request")
        if task == "translate" and not self.model_info.can_translate:
            raise SubtitlerError(
                f"model {self.model_info.name} cannot translate; choose a multilingual "
                "non-turbo model",
                code="translation_unsupported",
                status=422,
            )
        language = whisper_language(language) if language else None
        if language not in (None, "en") and not self.model_info.multilingual:
            raise SubtitlerError(
                f"model {self.model_info.name} knows English only; the audio is {language}",
                code="model_language_mismatch",
                status=422,
            )
        if cancel is not None and cancel():
            raise Cancelled("cancelled before transcription")
        started = time.monotonic()
        duration = len(audio) / SAMPLE_RATE
        spans = None if vad_filter else speech_spans(audio)  # the pipeline runs its own VAD
        ratio = min(1.0, sum(e - s for s, e in spans) / duration) if spans and duration else 0.0
        result = TranscriptionResult(
            language=language or "", language_probability=1.0 if language else 0.0,
            duration=duration, speech_ratio=ratio, speech=spans, segments=[], task=task,
            model=self.model_info.name, device=self.device, compute_type=self.compute_type,
        )  # fmt: skip
        if not duration or (spans is not None and ratio <= min_speech_ratio):
            logger.info("speech ratio %.3f: nothing to transcribe", ratio)
            result.elapsed = time.monotonic() - started
            return result
        from faster_whisper import BatchedInferencePipeline

        pipeline = BatchedInferencePipeline(self._whisper())
        ticker = _Ticker(progress, duration, progress_interval, expected_speed)
        ticker.start()
        try:
            # Without VAD the batched pipeline needs clips: fixed 30 s windows (Whisper's input).
            clips = None if vad_filter else [
                {"start": t, "end": min(t + 30.0, duration)} for t in np.arange(0.0, duration, 30.0)
            ]  # fmt: skip
            pieces, info = pipeline.transcribe(
                audio, language=language, task=task, beam_size=beam_size, batch_size=batch_size,
                vad_filter=vad_filter, word_timestamps=word_timestamps, clip_timestamps=clips,
                initial_prompt=initial_prompt,
            )  # fmt: skip
            for piece in pieces:
                result.segments.append(_segment(piece))
                ticker.advance(piece.end)
                if cancel is not None and cancel():
                    raise Cancelled("cancelled while transcribing")
        finally:
            ticker.stop()
        if vad_filter:
            result.speech_ratio = min(1.0, info.duration_after_vad / duration)
        result.language = info.language or result.language
        result.language_probability = float(info.language_probability)
        result.elapsed = time.monotonic() - started
        self.last_used = time.monotonic()
        if progress is not None:
            progress(1.0, 0.0)
        return result


def whisper_language(language: str) -> str:
    """Whisper's code for any spelling (`ger`, `deu`, `German` -> `de`); refuses unknown ones."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    code = language if language in _LANGUAGE_CODES else to_alpha2(language) or ""
    if code not in _LANGUAGE_CODES:
        raise SubtitlerError(
            f"Whisper cannot transcribe language {language!r}", code="language_unsupported"
        )
    return code


def tally_votes(
    votes: Sequence[tuple[float, str, float]], *, min_confidence: float
) -> LanguageDetection:
    """Sum each language's probability over the windows; the winner's mean is the confidence."""
    if not votes:
        return LanguageDetection(code=None, whisper_code="", confidence=0.0, votes=[])
    weights: dict[str, float] = {}
    for _, lang, prob in votes:
        weights[lang] = weights.get(lang, 0.0) + prob
    winner = max(weights, key=lambda k: weights[k])
    confidence = weights[winner] / len(votes)
    code = parse_language(winner) if confidence >= min_confidence else None
    return LanguageDetection(code, winner, confidence, list(votes))


def speech_spans(audio: np.ndarray) -> list[tuple[float, float]]:
    """Silero VAD speech spans in seconds (the same settings the batched pipeline uses)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(max_speech_duration_s=30, min_silence_duration_ms=160)
    found = get_speech_timestamps(audio, options, sampling_rate=SAMPLE_RATE)
    return [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in found]


def _speech_in(
    audio: np.ndarray, spans: Sequence[tuple[float, float]], start: float, end: float
) -> np.ndarray:
    parts = [
        audio[int(max(s, start) * SAMPLE_RATE) : int(min(e, end) * SAMPLE_RATE)]
        for s, e in spans
        if e > start and s < end
    ]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def _segment(piece: Any) -> Segment:
    words = tuple(
        Word(start=float(w.start), end=float(w.end), word=w.word, probability=float(w.probability))
        for w in piece.words or ()
    )
    return Segment(
        start=float(piece.start), end=float(piece.end), text=piece.text, words=words,
        no_speech_prob=float(piece.no_speech_prob), avg_logprob=float(piece.avg_logprob),
    )  # fmt: skip


def _warm_up(model: Any) -> None:
    from faster_whisper.audio import pad_or_trim

    model.encode(pad_or_trim(model.feature_extractor(np.zeros(SAMPLE_RATE, dtype=np.float32))))


class _Ticker:
    """Reports progress at least every `interval` s from a side thread, interpolating between
    segments with the speed measured so far; the only caller of `callback` while it runs."""

    def __init__(
        self, callback: ProgressCallback | None, total: float, interval: float, speed: float
    ) -> None:
        self.callback, self.total, self.interval, self.speed = callback, total, interval, speed
        self.t0 = self.t_known = time.monotonic()
        self.known, self.last = 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)

    def start(self) -> None:
        if self.callback is not None:
            self._thread.start()

    def advance(self, position: float) -> None:
        now = time.monotonic()
        self.known, self.t_known = max(self.known, position), now
        if self.known > 0 and now > self.t0:
            self.speed = self.known / (now - self.t0)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        assert self.callback is not None
        while not self._stop.wait(self.interval):
            guess = self.known + self.speed * (time.monotonic() - self.t_known)
            fraction = max(self.last, min(0.99, guess / self.total if self.total else 0.0))
            self.last = fraction
            eta = max(0.0, (self.total - fraction * self.total) / self.speed)
            try:
                self.callback(fraction, eta)
            except Exception:
                logger.exception("progress callback failed")
