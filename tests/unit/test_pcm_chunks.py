"""Chunked PCM: bounds cover the file exactly, cuts land in silence, times are shifted."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from subtitler.subtitles.cues import Segment, Word
from subtitler.workers.engine import TranscriptionResult
from subtitler.workers.pcm_chunks import PcmFile, chunk_bounds, transcribe_pcm

RATE = 16000


def _pcm(tmp_path: Path, seconds: int, quiet_at: list[float]) -> Path:
    rng = np.random.default_rng(0)
    samples = rng.normal(0, 8000, seconds * RATE).clip(-32000, 32000).astype("<i2")
    for t in quiet_at:
        samples[int(t * RATE) : int((t + 0.3) * RATE)] = 0
    path = tmp_path / "audio.pcm"
    samples.tofile(path)
    return path


def test_bounds_cover_the_file_and_cut_in_silence(tmp_path: Path) -> None:
    path = _pcm(tmp_path, 55, quiet_at=[15.0, 33.0])
    pcm = PcmFile(path)
    bounds = chunk_bounds(pcm, chunk_seconds=20)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(pcm)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
    cuts = [end / RATE for _, end in bounds[:-1]]
    assert 15.0 <= cuts[0] <= 15.3  # the quiet 300 ms within the 10 s before 20 s
    assert 33.0 <= cuts[1] <= 33.3
    piece = pcm.read(*bounds[1])
    assert piece.dtype == np.float32 and float(np.abs(piece).max()) <= 1.0


class _Engine:
    """Stands in for faster-whisper: one segment per chunk at 1..2 s of that chunk."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str | None]] = []

    def transcribe(self, audio: np.ndarray, *, language: str | None, **_: object) -> object:
        self.calls.append((len(audio), language))
        word = Word(start=1.0, end=2.0, word=" hi")
        return TranscriptionResult(
            language=language or "en", language_probability=0.9, duration=len(audio) / RATE,
            speech_ratio=0.5, speech=None, segments=[Segment(1.0, 2.0, " hi", (word,))],
        )  # fmt: skip


def test_segments_are_shifted_and_the_language_carried(tmp_path: Path) -> None:
    path = _pcm(tmp_path, 55, quiet_at=[15.0, 33.0])
    engine = _Engine()
    result = transcribe_pcm(engine, path, language=None, chunk_seconds=20)  # type: ignore[arg-type]
    starts = [round(s.start, 2) for s in result.segments]
    assert len(starts) == 3 and starts[0] == 1.0
    assert 16.0 <= starts[1] <= 16.3 and 34.0 <= starts[2] <= 34.3
    assert result.segments[1].words[0].start == result.segments[1].start
    assert [lang for _, lang in engine.calls] == [None, "en", "en"]
    assert sum(n for n, _ in engine.calls) == 55 * RATE
    assert abs(result.duration - 55) < 0.01 and abs(result.speech_ratio - 0.5) < 0.01
