"""Translation figures; prints one JSON object.

    .venv/bin/python bench/translate.py [--cues 400] [--repeat 3]

- providers: cues/s translating `--cues` subtitle-length English lines to Spanish, cache off,
  for every provider that runs here: apertium (real), ctranslate2 on a 12 KB random-weight
  NLLB-shaped model (the code path, not a real model's speed; set SUBTITLER_BENCH_CT2_MODEL to a
  converted model dir for a real figure), and openai/libretranslate/deepl against the in-test
  servers on 127.0.0.1 (client, batching and HTTP overhead only: a real service adds its latency).
- quality: chrF on the project's own parallel set (bench/_quality.py): speech -> spa over apertium
  on the reference English text (`ratio`, goal >= 0.97), subtitle -> spa, the norms of each.
- stage_share: a real job (English speech x `--repeat`, tiny.en, target Spanish with apertium):
  wall time of the translating stage / the whole job.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, parser
from subtitler.workers.models import configure_hub

configure_hub(allow_download=False)

from bench._quality import quality  # noqa: E402
from subtitler.settings import REGISTRY  # noqa: E402
from subtitler.translation.cache import NoCache  # noqa: E402
from subtitler.translation.engine import translate_texts  # noqa: E402
from subtitler.translation.registry import make_provider  # noqa: E402
from subtitler.workers.pipeline import JobRunner  # noqa: E402
from tests.speechgen import ENGLISH, MediaFactory, Track  # noqa: E402
from tests.translation_servers import fake_provider  # noqa: E402

SENTENCES = [s.strip() + "." for s in ENGLISH.split(".") if s.strip()]


def defaults(**values: Any) -> dict[str, Any]:
    settings = {key: spec.default for key, spec in REGISTRY.items()}
    settings.update(values)
    return settings


def cues(n: int) -> list[str]:
    return [f"{SENTENCES[i % len(SENTENCES)]} ({i})" for i in range(n)]


def rate(settings: dict[str, Any], texts: list[str]) -> dict[str, Any]:
    provider = make_provider(settings)
    try:
        provider.check()
        started = time.monotonic()
        result = translate_texts(provider, texts, source="eng", target="spa", cache=NoCache())
        elapsed = time.monotonic() - started
    finally:
        provider.close()
    return {
        "cues": len(texts),
        "seconds": round(elapsed, 3),
        "cues_per_second": round(len(texts) / elapsed, 1),
        "characters_per_second": round(result.characters / elapsed),
    }


class Timer:
    def __init__(self) -> None:
        self.stage_started: dict[str, float] = {}

    def progress(self, progress: float, *, stage: str | None = None, **_: Any) -> None:
        if stage and str(stage) not in self.stage_started:
            self.stage_started[str(stage)] = time.monotonic()

    def log(self, message: str, *, level: str = "info") -> None:
        return None

    def cancelled(self) -> bool:
        return False


def speech_to_spanish(tmp: Path, text: str, *, preset: str) -> str:
    """The Spanish SRT a real job writes for `text` spoken in English (apertium): the `balanced`
    preset is a default install's (Whisper base, beam 5); `fast` here is tiny.en, greedy."""
    media = MediaFactory(tmp / "media")
    video = media.mkv([Track(media.speech(text), language="eng", default=True)], name="q.mkv")
    settings = defaults(translation_provider="apertium")
    settings["preset_fast"] = {**settings["preset_fast"], "model": "tiny.en"}
    runner = JobRunner(worker_id="bench", device="cpu", device_index=0)
    result = runner.run(
        job={"id": "q", "file_path": str(video), "job_type": "translation", "target_lang": "spa",
             "quality_preset": preset, "written_subtitles": {}},
        settings=settings, models_dir=str(tmp / "models"), reporter=Timer(),
    )  # fmt: skip
    return Path(result["output_path"]).read_text(encoding="utf-8")


def stage_share(tmp: Path, repeat: int) -> dict[str, Any]:
    media = MediaFactory(tmp / "media")
    speech = media.speech(ENGLISH)
    wav = media.concat([speech] * repeat) if repeat > 1 else speech
    video = media.mkv([Track(wav, language="eng", default=True)], name="bench.mkv")
    settings = defaults(translation_provider="apertium")
    settings["preset_fast"] = {**settings["preset_fast"], "model": "tiny.en"}
    timer = Timer()
    runner = JobRunner(worker_id="bench", device="cpu", device_index=0)
    started = time.monotonic()
    result = runner.run(
        job={
            "id": "b",
            "file_path": str(video),
            "job_type": "translation",
            "target_lang": "spa",
            "quality_preset": "fast",
            "written_subtitles": {},
        },
        settings=settings,
        models_dir=str(tmp / "models"),
        reporter=timer,
    )
    total = time.monotonic() - started
    marks = timer.stage_started
    translating = marks.get("writing", time.monotonic()) - marks.get("translating", 0.0)
    return {
        "job_seconds": round(total, 2),
        "translating_seconds": round(translating, 3),
        "share": round(translating / total, 4),
        "cues": result.get("segments_count"),
        "translated_characters": result.get("translated_characters"),
    }


def main() -> int:
    cli = parser(__doc__)
    cli.add_argument("--cues", type=int, default=400)
    cli.add_argument("--repeat", type=int, default=3)
    args = cli.parse_args()
    if args.quick:
        args.cues, args.repeat = 20, 1
    texts = cues(args.cues)
    out: dict[str, Any] = {"providers": {}}
    out["providers"]["apertium"] = rate(defaults(translation_provider="apertium"), texts)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        from tests.ct2gen import make_nllb_like

        model = os.environ.get("SUBTITLER_BENCH_CT2_MODEL") or str(make_nllb_like(tmp / "ct2"))
        out["providers"]["ctranslate2"] = {
            **rate(
                defaults(translation_provider="ctranslate2", ctranslate2_model_dir=model), texts
            ),
            "model": "converted" if os.environ.get("SUBTITLER_BENCH_CT2_MODEL") else "random-tiny",
        }
        for kind in ("openai", "libretranslate", "deepl"):
            key = "bench:fx" if kind == "deepl" else ""
            with fake_provider(kind, api_key=key) as (url, _):
                values = {
                    "openai": {"openai_base_url": url, "openai_model": "m"},
                    "libretranslate": {"libretranslate_url": url},
                    "deepl": {"deepl_api_url": url, "deepl_api_key": key},
                }[kind]
                out["providers"][kind] = {
                    **rate(defaults(translation_provider=kind, **values), texts),
                    "server": "in-test 127.0.0.1 (overhead only)",
                }
        out["quality"] = quality(
            defaults(translation_provider="apertium"),
            lambda text: speech_to_spanish(tmp, text, preset="fast" if args.quick else "balanced"),
            limit=8 if args.quick else None,
        )
        out["quality"]["whisper"] = "tiny.en (fast)" if args.quick else "base (balanced, default)"
        out["stage_share"] = stage_share(tmp, args.repeat)
    return emit(out)


if __name__ == "__main__":
    sys.exit(main())
