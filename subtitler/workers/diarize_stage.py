"""The diarization stage inside JobRunner.run: turns onto the cleaned segments, progress on the
job's bar and log, and the job's `diarization` summary (kept small: the module stands apart so
the pipeline's edit is a call)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from subtitler.jobs.states import Stage
from subtitler.subtitles.cues import Segment
from subtitler.subtitles.speakers import assign_speakers, summary
from subtitler.workers.diarize import DiarizationCancelled, Diarizer, DiarizeRequest


class _Reporter(Protocol):
    def progress(self, progress: float, *, stage: str | None = None, **fields: Any) -> None: ...

    def log(self, message: str, *, level: str = "info") -> None: ...


class _Runner(Protocol):
    device: str
    device_index: int
    _diarizer: Any


def prepare(runner: _Runner, settings: Any) -> Diarizer:
    """The runner's diarizer with its pipeline loaded: before transcription, so a missing
    token, unaccepted terms or a missing extra fail the job before any time is spent."""
    if runner._diarizer is None:
        runner._diarizer = Diarizer(device=runner.device, device_index=runner.device_index)
    diarizer: Diarizer = runner._diarizer
    diarizer.load(settings)
    return diarizer


def diarize_segments(
    runner: _Runner,
    segments: Sequence[Segment],
    samples: Any,
    *,
    settings: Any,
    request: DiarizeRequest,
    reporter: _Reporter,
    low: float,
    high: float,
    fields: dict[str, Any],
    cancel: Callable[[], bool],
) -> list[Segment]:
    from subtitler.workers.engine import Cancelled

    diarizer = prepare(runner, settings)
    reporter.progress(low, stage=Stage.DIARIZING)
    started = time.monotonic()
    last = [0.0]

    def progress(fraction: float) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.5 or fraction >= 1.0:
            last[0] = now
            reporter.progress(low + (high - low) * fraction, stage=Stage.DIARIZING)

    try:
        turns = diarizer.run(
            samples, settings=settings, request=request, progress=progress, cancel=cancel
        )
    except DiarizationCancelled:
        raise Cancelled("cancelled while diarizing") from None
    elapsed = time.monotonic() - started
    fields["diarization"] = summary(turns, elapsed=elapsed)
    audio = len(samples) / 16000 if len(samples) else 0.0
    reporter.log(
        f"diarized {audio:.1f} s of audio in {elapsed:.1f} s: "
        f"{fields['diarization']['speakers']} speakers, {len(turns)} turns"
    )
    return assign_speakers(segments, turns)
