"""A forced job's wall time against a full transcription of the same file (issue 22), for
`bench/transcribe.py --forced`.

The file: English speech (espeak-ng, looped) around one German passage, tagged eng, muxed into
mkv. Both jobs run through the worker's own pipeline (subtitler.workers.pipeline.JobRunner) in
this process with one warm engine and the daemon's settings (preset `balanced`, `--model`, base by
default: telling languages apart needs a multilingual model): first the full transcription
(`Film.eng.srt`), then the forced job (`Film.eng.forced.srt`: language ID on windows, decoding of
the foreign passage only). forced_ratio = forced wall / full wall.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from subtitler.settings import REGISTRY
from subtitler.workers.pipeline import JobRunner
from tests.speechgen import ENGLISH, GERMAN, MediaFactory, Track

WORK = Path(tempfile.gettempdir()) / "subtitler-bench"


class _Quiet:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def progress(self, progress: float, **fields: Any) -> None:
        pass

    def log(self, message: str, *, level: str = "info") -> None:
        self.lines.append(message)

    def cancelled(self) -> bool:
        return False


def make_film(minutes: float, folder: Path) -> tuple[Path, float]:
    """English for `minutes` with a German passage in the middle; (mkv, German start s)."""
    media = MediaFactory(WORK / "media")
    en = media.speech(ENGLISH)
    half = media.looped(en, seconds=max(15.0, minutes * 60 / 2))
    de, gap = media.speech(GERMAN, voice="de"), media.silence(1.0)
    wav = media.concat([half, gap, de, gap, half])
    film = folder / "Film.mkv"
    film.symlink_to(media.mkv([Track(wav, language="eng")], video=False))
    import wave

    with wave.open(str(media.concat([half, gap]))) as fh:
        german_start = fh.getnframes() / fh.getframerate()
    return film, german_start


def forced_vs_full(*, minutes: float, model: str = "base", preset: str = "balanced") -> dict:
    settings = {key: spec.default for key, spec in REGISTRY.items()}
    settings[f"preset_{preset}"] = {**settings[f"preset_{preset}"], "model": model}
    settings["overwrite_existing_subtitles"] = True
    folder = Path(tempfile.mkdtemp(prefix="forced-", dir=WORK))
    film, german_start = make_film(minutes, folder)
    runner = JobRunner(worker_id="bench", device="cpu", device_index=0)
    base = {"file_path": str(film), "quality_preset": preset, "source_lang": "eng",
            "target_lang": "eng", "written_subtitles": {}}  # fmt: skip
    out: dict[str, Any] = {"model": model, "file_minutes": None, "german_starts_at": german_start}
    for name, variant in (("warm", ""), ("full", ""), ("forced", "forced")):
        reporter = _Quiet()
        started = time.monotonic()
        result = runner.run(job={**base, "id": name, "variant": variant}, settings=settings,
                            models_dir=str(WORK / "models"), reporter=reporter)  # fmt: skip
        wall = time.monotonic() - started
        if name == "warm":  # the model loaded and warm, as a worker keeps it
            out["file_minutes"] = round(float(result.get("audio_duration", 0.0)) / 60, 2)
            continue
        out[name] = {
            "wall_seconds": round(wall, 2),
            "output": Path(result["output_path"]).name if result.get("output_path") else None,
            "cues": result.get("segments_count"),
        }
        if variant:
            out[name]["passages"] = result.get("passages")
            out[name]["forced_passages"] = result.get("forced_passages")
            out[name]["log"] = [line for line in reporter.lines if "passage" in line]
    out["forced_ratio"] = round(out["forced"]["wall_seconds"] / out["full"]["wall_seconds"], 3)
    return out
