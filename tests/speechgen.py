"""Media fixtures made by code: espeak-ng speech in several voices muxed by ffmpeg into wav/mkv.

`MediaFactory(folder)` caches every file it makes under `folder` (one per test session), keyed by
its arguments, so a clip used by several tests is generated once.
"""

from __future__ import annotations

import hashlib
import math
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ENGLISH = (
    "Hello and welcome to the evening news. Today we are talking about the weather in London, "
    "which has been rainy for three weeks. The number of visitors fell sharply this month. "
    "Thank you for listening, and see you next time."
)
GERMAN = (
    "Guten Abend und herzlich willkommen zu den Nachrichten. Heute sprechen wir über das Wetter "
    "in Berlin, denn es hat seit drei Wochen jeden Tag geregnet. Die Zahl der Besucher ist in "
    "diesem Monat stark gesunken, und viele Geschäfte bleiben am Sonntag geschlossen. "
    "Morgen wird es kälter, aber am Wochenende scheint endlich wieder die Sonne."
)
SPANISH = (
    "Buenas noches y bienvenidos a las noticias. Hoy hablamos del tiempo en Madrid, donde ha "
    "llovido durante tres semanas seguidas."
)


def _run(cmd: Sequence[str]) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


@dataclass(frozen=True)
class Track:
    """One audio track to mux: a wav file, its language tag (None: untagged), title, flags."""

    wav: Path
    language: str | None = None
    title: str | None = None
    default: bool = False
    comment: bool = False
    delay: float = 0.0  # seconds the track starts after the video


class MediaFactory:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def _path(self, kind: str, *key: object, ext: str) -> tuple[Path, bool]:
        digest = hashlib.sha1(repr((kind, key)).encode()).hexdigest()[:12]
        path = self.folder / f"{kind}-{digest}.{ext}"
        return path, path.exists()

    def speech(self, text: str, *, voice: str = "en-us", speed: int = 165, pitch: int = 50) -> Path:
        """espeak-ng speech as a 16-bit mono wav (22.05 kHz). Voices: en-us, en-gb, de, es, fr,
        ja, with variants like 'en-us+f3'."""
        path, cached = self._path("speech", text, voice, speed, pitch, ext="wav")
        if not cached:
            _run(
                [
                    "espeak-ng",
                    "-v",
                    voice,
                    "-s",
                    str(speed),
                    "-p",
                    str(pitch),
                    "-w",
                    str(path),
                    text,
                ]
            )
        return path

    def silence(self, seconds: float) -> Path:
        path, cached = self._path("silence", seconds, ext="wav")
        if not cached:
            source = f"anullsrc=r=16000:cl=mono:d={seconds}"
            _run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source, "-c:a", "pcm_s16le",
                  str(path)])  # fmt: skip
        return path

    def music(self, seconds: float) -> Path:
        """Music-like audio: a chord with a beat (tremolo) over soft noise; no speech."""
        path, cached = self._path("music", seconds, ext="wav")
        if not cached:
            expr = (
                "0.25*sin(2*PI*220*t)+0.2*sin(2*PI*277.2*t)+0.2*sin(2*PI*329.6*t)"
                "+0.1*sin(2*PI*440*t)*(0.5+0.5*sin(2*PI*2*t))"
            )
            _run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                  f"aevalsrc='{expr}':s=16000:d={seconds}", "-f", "lavfi", "-i",
                  f"anoisesrc=c=pink:r=16000:a=0.02:d={seconds}", "-filter_complex",
                  "[0][1]amix=inputs=2:normalize=0", "-ac", "1", "-c:a", "pcm_s16le",
                  str(path)])  # fmt: skip
        return path

    def concat(self, parts: Sequence[Path], *, rate: int = 16000) -> Path:
        """Wavs one after another (resampled to `rate`, mono)."""
        path, cached = self._path("concat", tuple(str(p) for p in parts), rate, ext="wav")
        if not cached:
            cmd = ["ffmpeg", "-v", "error", "-y"]
            for part in parts:
                cmd += ["-i", str(part)]
            streams = "".join(f"[{i}]aresample={rate},aformat=channel_layouts=mono[a{i}];"
                              for i in range(len(parts)))  # fmt: skip
            joined = "".join(f"[a{i}]" for i in range(len(parts)))
            cmd += ["-filter_complex", f"{streams}{joined}concat=n={len(parts)}:v=0:a=1"]
            _run([*cmd, "-c:a", "pcm_s16le", str(path)])
        return path

    def mkv(self, tracks: Sequence[Track], *, video: bool = True, name: str | None = None) -> Path:
        """A Matroska file with a small black video (optional) and the given audio tracks."""
        key = tuple(
            (str(t.wav), t.language, t.title, t.default, t.comment, t.delay) for t in tracks
        )
        path, cached = self._path("mkv", key, video, ext="mkv")
        if not cached:
            cmd = ["ffmpeg", "-v", "error", "-y"]
            if video:
                cmd += ["-f", "lavfi", "-i", "color=c=black:s=64x48:r=10"]
            for track in tracks:
                if track.delay:
                    cmd += ["-itsoffset", str(track.delay)]
                cmd += ["-i", str(track.wav)]
            first = 1 if video else 0
            maps = ["-map", "0:v"] if video else []
            for i, track in enumerate(tracks):
                maps += ["-map", f"{first + i}:a"]
                if track.language:
                    maps += [f"-metadata:s:a:{i}", f"language={track.language}"]
                if track.title:
                    maps += [f"-metadata:s:a:{i}", f"title={track.title}"]
                flags = [
                    f for f, on in (("default", track.default), ("comment", track.comment)) if on
                ]
                maps += [f"-disposition:a:{i}", "+".join(flags) if flags else "0"]
            if video:
                longest = max(_duration(t.wav) + t.delay for t in tracks) if tracks else 5.0
                maps += ["-t", f"{longest:.3f}", "-c:v", "libx264", "-preset", "ultrafast"]
            _run([*cmd, *maps, "-c:a", "aac", "-b:a", "64k", str(path)])
        if name is not None:
            named = self.folder / name
            if not named.exists():
                shutil.copyfile(path, named)
            return named
        return path

    def looped(self, source: Path, *, seconds: float) -> Path:
        """`source` again and again to at least `seconds` (ffmpeg -stream_loop, no re-encode):
        feature-length media in seconds of work."""
        loops = max(0, math.ceil(seconds / _duration(source)) - 1)
        path, cached = self._path("loop", str(source), loops, ext=source.suffix.lstrip("."))
        if not cached:
            _run(["ffmpeg", "-v", "error", "-y", "-stream_loop", str(loops), "-i", str(source),
                  "-map", "0", "-c", "copy", str(path)])  # fmt: skip
        return path

    def truncated(self, source: Path, *, keep: float = 0.4) -> Path:
        """The first `keep` share of the bytes of `source`: probes whole, decodes short."""
        path, cached = self._path("trunc", str(source), keep, ext=source.suffix.lstrip("."))
        if not cached:
            data = source.read_bytes()
            path.write_bytes(data[: int(len(data) * keep)])
        return path

    def empty(self) -> Path:
        path = self.folder / "empty.mkv"
        path.write_bytes(b"")
        return path

    def garbage(self) -> Path:
        path = self.folder / "garbage.mkv"
        if not path.exists():
            path.write_bytes(hashlib.sha512(b"not media").digest() * 400)
        return path


def _duration(wav: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(wav)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return float(out.stdout.strip())


LIBRIVOX_SDIST = "pocketsphinx==5.1.1"


def librivox_clips(cache: Path) -> list[tuple[Path, str]]:
    """The 5 read-speech LibriVox clips (16 kHz wav, public domain) with their transcripts, from
    the pocketsphinx 5.1.1 sdist (BSD-2); fetched once with pip into `cache`. Raises
    RuntimeError when it cannot be fetched (no network)."""
    folder = cache / "librivox"
    if not (folder / "fileids").is_file():
        cache.mkdir(parents=True, exist_ok=True)
        sdist = next(cache.glob("pocketsphinx-5.1.1.tar.gz"), None)
        if sdist is None:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary",
                   "pocketsphinx", LIBRIVOX_SDIST, "-d", str(cache), "-q"]  # fmt: skip
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            sdist = next(cache.glob("pocketsphinx-5.1.1.tar.gz"), None)
            if done.returncode != 0 or sdist is None:
                raise RuntimeError(f"cannot fetch {LIBRIVOX_SDIST}: {done.stderr[-300:]}")
        prefix = "pocketsphinx-5.1.1/test/data/librivox/"
        tmp = cache / "librivox.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        with tarfile.open(sdist) as tar:
            for member in tar.getmembers():
                if member.name.startswith(prefix) and member.name.endswith((".wav", ".txt", "ids")):
                    member.name = member.name[len(prefix) :]
                    tar.extract(member, tmp, filter="data")
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    ids = (folder / "fileids").read_text().split()
    return [(folder / f"{i}.wav", (folder / f"{i}.txt").read_text().strip()) for i in ids]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word-level edit distance / reference words, after lower-casing and removing punctuation."""
    ref, hyp = _norm_words(reference), _norm_words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / max(1, len(ref))


def _norm_words(text: str) -> list[str]:
    text = re.sub(r"\bmr\b\.?", "mister", text.lower())
    return re.sub(r"[^\w\s']|_", " ", text.replace("-", " ")).split()
