"""Audio as ASR clients send it: headerless s16le mono 16 kHz (Bazarr's `encode=false`), or any
container (`encode=true`) decoded by ffmpeg. Windows are read without decoding the rest."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np

from subtitler.errors import Unprocessable

SAMPLE_RATE = 16000
BYTES_PER_SECOND = SAMPLE_RATE * 2


def load_pcm(path: Path) -> np.ndarray:
    """The whole s16le file as float32 in [-1, 1]."""
    raw = np.fromfile(path, dtype="<i2")
    if raw.size == 0:
        raise Unprocessable("the uploaded audio is empty", code="media_unreadable")
    return raw.astype(np.float32) / 32768.0


def pcm_duration(path: Path) -> float:
    return path.stat().st_size / BYTES_PER_SECOND


def pcm_windows(path: Path, starts: Sequence[float], seconds: float) -> list[np.ndarray]:
    """Only the bytes of each window are read."""
    out = []
    with path.open("rb") as fh:
        for start in starts:
            fh.seek(int(start * SAMPLE_RATE) * 2)
            chunk = fh.read(int(seconds * SAMPLE_RATE) * 2)
            out.append(np.frombuffer(chunk, dtype="<i2").astype(np.float32) / 32768.0)
    return out


def media_duration(path: Path) -> float:
    """Container duration in seconds (PyAV, header only)."""
    try:
        with av.open(str(path)) as container:
            if container.duration:
                return float(container.duration) / 1_000_000
            stream = next(iter(container.streams.audio), None)
            if stream is not None and stream.duration and stream.time_base:
                return float(stream.duration * stream.time_base)
    except (av.FFmpegError, OSError) as exc:
        raise Unprocessable(
            f"cannot read the uploaded audio: {exc}", code="media_unreadable"
        ) from None
    raise Unprocessable("the uploaded audio has no duration", code="media_unreadable")


def encoded_windows(path: Path, starts: Sequence[float], seconds: float) -> list[np.ndarray]:
    """Decode only each window (ffmpeg seeks before decoding)."""
    out = []
    for start in starts:
        cmd = ["ffmpeg", "-nostdin", "-v", "error", "-ss", f"{start:.3f}", "-t", f"{seconds:.3f}",
               "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(SAMPLE_RATE),
               "-f", "f32le", "pipe:1"]  # fmt: skip
        result = subprocess.run(cmd, capture_output=True, check=False, timeout=120)
        if result.returncode != 0 and not result.stdout:
            why = result.stderr.decode("utf-8", "replace").strip().splitlines()
            raise Unprocessable(
                f"cannot decode the uploaded audio: {why[-1] if why else result.returncode}",
                code="media_unreadable",
            )
        out.append(np.frombuffer(result.stdout, dtype="<f4").copy())
    return out


def window_starts(duration: float, seconds: float, positions: Sequence[float]) -> list[float]:
    """Window starts centred on `positions` (fractions of the file), inside the file."""
    if duration <= seconds:
        return [0.0]
    return sorted({round(min(max(0.0, p * duration - seconds / 2), duration - seconds), 2)
                   for p in positions})  # fmt: skip
