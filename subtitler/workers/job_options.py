"""A job's own options over the settings (POST /api/jobs: model, initial prompt, VAD, word
timestamps), and the voice-activity check that runs before language detection."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any, Protocol

from subtitler.media.pcm import SAMPLE_RATE
from subtitler.workers.engine import speech_spans
from subtitler.workers.models import TranscribeOptions


class _Reporter(Protocol):
    def log(self, message: str, *, level: str = "info") -> None: ...


def _options(job: Mapping[str, Any]) -> Mapping[str, Any]:
    return job.get("options") or {}


def job_transcribe_options(
    settings: Mapping[str, Any], job: Mapping[str, Any]
) -> TranscribeOptions:
    options = TranscribeOptions.from_settings(settings, preset=job["quality_preset"])
    own = _options(job)
    changes: dict[str, Any] = {}
    for name in ("vad_filter", "word_timestamps"):
        if own.get(name) is not None:
            changes[name] = bool(own[name])
    return dataclasses.replace(options, **changes) if changes else options


def job_model(job: Mapping[str, Any]) -> str | None:
    """A model the job asked for instead of its preset's (ASR jobs name theirs differently)."""
    model = _options(job).get("model")
    return str(model) if model else None


def job_initial_prompt(job: Mapping[str, Any]) -> str | None:
    prompt = _options(job).get("initial_prompt")
    return str(prompt) if prompt else None


def no_speech_result(
    samples: Any,
    duration: float,
    options: TranscribeOptions,
    reporter: _Reporter,
    started: float,
) -> dict[str, Any] | None:
    """Measure voice activity (Silero VAD); the finished job's fields when there is (almost) no
    speech, so a silent file completes as "no speech" instead of failing language detection."""
    spans = speech_spans(samples) if len(samples) else []
    total = len(samples) / SAMPLE_RATE if len(samples) else 0.0
    ratio = min(1.0, sum(e - s for s, e in spans) / total) if total else 0.0
    reporter.log(f"voice activity: {ratio:.1%} of {duration:.1f} s is speech")
    if ratio > options.min_speech_ratio:
        return None
    reporter.log("no speech found: nothing to detect or write", level="warning")
    return {
        "speech_detected": False,
        "speech_ratio": round(ratio, 4),
        "segments_count": 0,
        "processing_time_seconds": round(time.monotonic() - started, 2),
    }
