"""Audio for Whisper: probe the audio tracks, choose one, decode it to 16 kHz mono float32.

Decoding runs the ffmpeg binary (`-map 0:a:N`: faster_whisper.decode_audio reads only the first
track) and streams its stdout into one preallocated array. The audio stream's start time is
compensated (leading silence padded, or samples trimmed) so cue times line up with the video, and a
file that decodes much shorter than it probes (truncated) is refused.
"""

from __future__ import annotations

import io
import logging
import re
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import av
import numpy as np

from subtitler.errors import NotFound, Unprocessable
from subtitler.media.languages import parse_language, same_language

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
_COMMENTARY = re.compile(r"comment|audio ?desc|descriptive|director|\bAD\b", re.IGNORECASE)
_CHUNK = 1 << 20


@dataclass(frozen=True)
class AudioTrack:
    index: int  # N of `-map 0:a:N`
    language: str | None  # ISO 639-2/T, None when untagged or `und`
    title: str | None
    default: bool
    commentary: bool  # commentary or audio description (disposition or title)
    channels: int
    start_time: float  # seconds after the container's start
    duration: float | None


@dataclass(frozen=True)
class ExtractedAudio:
    samples: np.ndarray  # float32, mono, 16 kHz, aligned to the container's start
    offset: float  # seconds of silence padded (> 0) or trimmed (< 0) at the start
    decoded_seconds: float
    probed_seconds: float | None

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def _unreadable(path: Path, why: str) -> Unprocessable:
    return Unprocessable(f"cannot read {path.name}: {why}", code="media_unreadable")


def _stream_duration(stream: av.stream.Stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    tag = stream.metadata.get("DURATION") or stream.metadata.get("duration")
    match = re.match(r"(\d+):(\d+):(\d+(?:\.\d+)?)", tag or "")
    if match:
        hours, minutes, seconds = match.groups()
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    return None


def probe_audio(path: Path) -> tuple[list[AudioTrack], float | None]:
    """The audio tracks of `path` and the container duration (seconds, None when unknown)."""
    if not path.is_file():
        raise NotFound(f"media file not found: {path}", code="media_not_found")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        # strerror only: str(exc) repeats the errno and the full path (a spool path for uploads)
        raise _unreadable(path, exc.strerror or type(exc).__name__) from exc
    with container:
        base = container.start_time / 1e6 if container.start_time is not None else 0.0
        duration = container.duration / 1e6 if container.duration is not None else None
        tracks = []
        for n, stream in enumerate(container.streams.audio):
            meta = {k.lower(): v for k, v in stream.metadata.items()}
            title = meta.get("title") or meta.get("handler_name") or None
            disp = stream.disposition
            flagged = bool(
                disp & (av.stream.Disposition.comment | av.stream.Disposition.descriptions)
            )
            flagged = flagged or bool(disp & av.stream.Disposition.visual_impaired)
            start = (
                float(stream.start_time * stream.time_base)
                if stream.start_time and stream.time_base
                else 0.0
            )
            tracks.append(
                AudioTrack(
                    index=n,
                    language=parse_language(meta.get("language")),
                    title=title,
                    default=bool(disp & av.stream.Disposition.default),
                    commentary=flagged or bool(title and _COMMENTARY.search(title)),
                    channels=stream.codec_context.channels or 0,
                    start_time=start - base,
                    duration=_stream_duration(stream),
                )
            )
    return tracks, duration


def choose_audio_track(
    tracks: Sequence[AudioTrack],
    *,
    source_lang: str | None = None,
    preferred_languages: Sequence[str] = (),
) -> tuple[AudioTrack, str]:
    """The track to transcribe and why: the job's language, a preferred language, the default
    track, else the first; commentary and audio-description tracks only as a last resort."""
    if not tracks:
        raise Unprocessable("the file has no audio stream", code="no_audio_stream")
    main = [t for t in tracks if not t.commentary] or list(tracks)
    if source_lang:
        for track in main:
            if same_language(track.language, source_lang):
                return track, f"track {track.index} is in the job's language {track.language}"
    for lang in preferred_languages:
        for track in main:
            if same_language(track.language, lang):
                return track, f"track {track.index} is in preferred language {track.language}"
    for track in main:
        if track.default:
            return track, f"track {track.index} is flagged default"
    return main[0], f"track {main[0].index} is the first non-commentary track"


def extract_audio(
    path: Path,
    *,
    track: int = 0,
    min_ratio: float = 0.9,
    min_missing_seconds: float = 5.0,
    cancel: Callable[[], bool] | None = None,
) -> ExtractedAudio:
    """Decode audio track `track` of `path` to 16 kHz mono float32, aligned to the video.

    Errors: `media_not_found`, `media_unreadable`, `no_audio_stream`, `media_truncated` (decoded
    < min_ratio of the probed length and more than min_missing_seconds short), `cancelled`.
    """
    tracks, container_duration = probe_audio(path)
    if track >= len(tracks) or track < 0:
        raise Unprocessable(
            f"{path.name} has {len(tracks)} audio stream(s), no track {track}",
            code="no_audio_stream",
        )
    info = tracks[track]
    probed = info.duration or container_duration
    offset = info.start_time if abs(info.start_time) >= 0.001 else 0.0
    pad = max(0, round(offset * SAMPLE_RATE))
    capacity = pad + round(((probed or 600.0) * 1.02 + 2.0) * SAMPLE_RATE)
    buf = np.zeros(capacity, dtype=np.float32)
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", f"0:a:{track}"]
    cmd += ["-vn", "-sn", "-dn", "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le", "pipe:1"]
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
        reader = cast(io.BufferedReader, proc.stdout)
        filled, finished = pad * 4, False
        try:
            while True:
                if cancel is not None and cancel():
                    from subtitler.workers.engine import Cancelled

                    raise Cancelled("cancelled while extracting audio")
                if filled + _CHUNK > buf.nbytes:
                    grown = np.zeros(buf.size * 3 // 2 + _CHUNK, dtype=np.float32)
                    grown[: filled // 4] = buf[: filled // 4]
                    buf = grown
                view = buf.data.cast("B")
                n = reader.readinto(view[filled : filled + _CHUNK])
                if not n:
                    break
                filled += n
            finished = True
        finally:
            if not finished:
                proc.kill()
            reader.close()
            rc = proc.wait()
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace").strip()
    samples = buf[: filled // 4] if offset >= 0 else buf[round(-offset * SAMPLE_RATE) : filled // 4]
    decoded = filled / 4 / SAMPLE_RATE - pad / SAMPLE_RATE
    if decoded <= 0:
        raise _unreadable(path, stderr.splitlines()[-1] if stderr else f"ffmpeg exit {rc}")
    if probed and decoded < probed * min_ratio and probed - decoded > min_missing_seconds:
        raise Unprocessable(
            f"{path.name} decodes to {decoded:.1f} s of audio but its header says {probed:.1f} s: "
            "the file is truncated or damaged",
            code="media_truncated",
        )
    if rc != 0:
        logger.warning("ffmpeg exit %s decoding %s: %s", rc, path.name, stderr[-300:])
    if offset:
        logger.info("audio track %d starts at %+.3f s: cue times compensated", track, offset)
    return ExtractedAudio(
        samples=samples, offset=offset, decoded_seconds=decoded, probed_seconds=probed
    )
