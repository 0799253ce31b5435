"""Transcribe a headerless s16le upload (Bazarr's `encode=false`) without a float32 copy of the
whole file. The int16 file is read in chunks of about ten minutes (positioned reads, not a memory
map, so finished chunks do not stay resident in the worker), each cut at the quietest 100 ms near
its end so no word is split; only the current chunk is converted to float32. Cue times are
shifted by the chunk's start. The language found in the first chunk (unless given) is used for
the rest, as Whisper itself decides from the first 30 s.

Peak memory no longer grows with the file: `bench/asr.py` measures the worker's peak RSS.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from subtitler.errors import Unprocessable
from subtitler.subtitles.cues import Segment, Word
from subtitler.workers.engine import (
    SAMPLE_RATE,
    CancelCheck,
    ProgressCallback,
    TranscriptionEngine,
    TranscriptionResult,
)

CHUNK_SECONDS = 600.0
SEARCH_SECONDS = 10.0  # where near the chunk's end the cut may go
FRAME = SAMPLE_RATE // 10  # 100 ms


class PcmFile:
    """An s16le file read by sample ranges; never held whole."""

    def __init__(self, path: Path) -> None:
        self.path = path
        size = path.stat().st_size
        if size < 2:
            raise Unprocessable("the uploaded audio is empty", code="media_unreadable")
        self.samples = size // 2

    def __len__(self) -> int:
        return self.samples

    def read(self, start: int, end: int) -> np.ndarray:
        """Samples [start, end) as float32 in [-1, 1]."""
        count = max(0, min(end, self.samples) - start)
        raw = np.fromfile(self.path, dtype="<i2", count=count, offset=start * 2)
        out = raw.astype(np.float32)
        out /= 32768.0
        return out


def map_pcm(path: Path) -> PcmFile:
    return PcmFile(path)


def chunk_bounds(pcm: PcmFile, chunk_seconds: float = CHUNK_SECONDS) -> list[tuple[int, int]]:
    """(start, end) sample indexes of each chunk, cut at the quietest frame near each end."""
    total = len(pcm)
    step = int(chunk_seconds * SAMPLE_RATE)
    search = int(SEARCH_SECONDS * SAMPLE_RATE)
    bounds: list[tuple[int, int]] = []
    start = 0
    while start < total:
        target = start + step
        if target + search >= total:
            bounds.append((start, total))
            break
        window = pcm.read(target - search, target)
        frames = window[: len(window) // FRAME * FRAME].reshape(-1, FRAME)
        quietest = int(np.argmin(np.sqrt((frames**2).mean(axis=1))))
        cut = target - search + quietest * FRAME + FRAME // 2
        bounds.append((start, cut))
        start = cut
    return bounds


def _shift(segment: Segment, offset: float) -> Segment:
    words = tuple(
        dataclasses.replace(w, start=w.start + offset, end=w.end + offset) for w in segment.words
    )
    return dataclasses.replace(
        segment, start=segment.start + offset, end=segment.end + offset, words=words
    )


def transcribe_pcm(
    engine: TranscriptionEngine,
    path: Path,
    *,
    language: str | None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    chunk_seconds: float = CHUNK_SECONDS,
    **kwargs: Any,
) -> TranscriptionResult:
    pcm = map_pcm(path)
    total = len(pcm) / SAMPLE_RATE
    started = time.monotonic()
    combined: TranscriptionResult | None = None
    speech_seconds = 0.0
    spans: list[tuple[float, float]] | None = []
    for start, end in chunk_bounds(pcm, chunk_seconds):
        offset = start / SAMPLE_RATE
        piece = pcm.read(start, end)
        result = engine.transcribe(
            piece,
            language=language,
            progress=_scaled(progress, offset, (end - start) / SAMPLE_RATE, total),
            cancel=cancel,
            **kwargs,
        )
        del piece
        if not language and result.language:
            language = result.language
        speech_seconds += result.speech_ratio * result.duration
        if result.speech is None:
            spans = None
        elif spans is not None:
            spans.extend((s + offset, e + offset) for s, e in result.speech)
        shifted = [_shift(seg, offset) for seg in result.segments]
        if combined is None:
            combined = dataclasses.replace(result, segments=shifted)
        else:
            combined.segments.extend(shifted)
            if not combined.language and result.language:
                combined.language = result.language
                combined.language_probability = result.language_probability
    assert combined is not None
    combined.duration = total
    combined.speech_ratio = min(1.0, speech_seconds / total) if total else 0.0
    combined.speech = spans
    combined.elapsed = time.monotonic() - started
    if progress is not None:
        progress(1.0, 0.0)
    return combined


def _scaled(
    progress: ProgressCallback | None, offset: float, length: float, total: float
) -> Callable[[float, float | None], None] | None:
    if progress is None or not total:
        return progress

    def report(fraction: float, eta: float | None) -> None:
        done = offset + fraction * length
        left = total - done
        rate = (
            (eta / max(1e-6, (1 - fraction) * length)) if eta is not None and fraction < 1 else None
        )
        progress(min(1.0, done / total), left * rate if rate is not None else None)

    return report


__all__ = ["Word", "chunk_bounds", "map_pcm", "transcribe_pcm"]
