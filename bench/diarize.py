"""Diarization cost (issue 24): the stage's time per audio second and peak RSS, and the
clustering/reconstruction stage's peak RSS on a film-sized input. Needs the diarization extra.

The neural part costs the same with random weights, so the stage runs a local pipeline folder laid
out like community-1 (tests/diarization/pipelinegen.py) on generated audio. Clustering (VBx) and
reconstruction get synthetic community-1-shaped inputs directly: 10 s chunks every 1 s, 3 local
speakers, 2 of them active, 256-dim embeddings around 6 speakers.

    .venv/bin/python bench/diarize.py            5 and 30 minutes; clustering on 3 hours
    .venv/bin/python bench/diarize.py --quick    1 minute; clustering on 30 minutes

Each measurement runs in a fresh process (its own peak RSS). Prints one JSON object.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import emit, parser  # noqa: E402

_STAGE = """
import json, resource, sys, time
import numpy as np
def peak(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sys.path.insert(0, {root!r})
from subtitler.workers.diarize import Diarizer, DiarizeRequest
minutes, folder = {minutes}, {folder!r}
rng = np.random.default_rng(0)
t = np.arange(int(minutes * 60 * 16000)) / 16000
samples = (0.1 * np.sin(2 * np.pi * (150 + 50 * np.sin(t / 3)) * t)
           + 0.01 * rng.normal(size=t.size)).astype(np.float32)
del t
settings = {{"diarization_pipeline": folder, "__cpu_threads__": {threads}}}
diarizer = Diarizer()
diarizer.load(settings)
started = time.monotonic()
turns = diarizer.run(samples, settings=settings, request=DiarizeRequest(enabled=True))
elapsed = time.monotonic() - started
print(json.dumps({{"audio_seconds": minutes * 60, "seconds": round(elapsed, 1),
                  "seconds_per_audio_second": round(elapsed / (minutes * 60), 3),
                  "turns": len(turns),
                  "peak_rss_mb": round(peak() / 1024)}}))
"""

_CLUSTERING = """
import json, resource, time
import numpy as np
def peak(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
from pyannote.audio import Pipeline
from pyannote.core import SlidingWindow, SlidingWindowFeature
minutes, folder = {minutes}, {folder!r}
pipe = Pipeline.from_pretrained(folder)
chunks, frames, local = int(minutes * 60), 589, 3
rng = np.random.default_rng(0)
speakers = rng.integers(0, 6, size=(chunks, local))
centres = rng.normal(size=(6, 256))
emb = (centres[speakers] + 0.3 * rng.normal(size=(chunks, local, 256))).astype(np.float32)
seg = np.zeros((chunks, frames, local), dtype=np.float32)
seg[:, :, 0] = 1
seg[:, : frames // 2, 1] = 1
segs = SlidingWindowFeature(seg, SlidingWindow(start=0.0, duration=10.0, step=1.0))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
started = time.monotonic()
hard, _, _ = pipe.clustering(embeddings=emb, segmentations=segs, min_clusters=1, max_clusters=20)
clustering = time.monotonic() - started
count = SlidingWindowFeature(
    rng.integers(0, 3, size=(int(minutes * 60 / 0.016875), 1)).astype(np.uint8),
    SlidingWindow(start=0.0, duration=0.0619375, step=0.016875))
started = time.monotonic()
pipe.reconstruct(segs, hard, count)
print(json.dumps({{"audio_minutes": minutes, "chunks": chunks,
                  "clustering_seconds": round(clustering, 1),
                  "reconstruction_seconds": round(time.monotonic() - started, 1),
                  "speakers_found": int(len(set(hard.flatten()) - {{-2}})),
                  "rss_before_mb": round(before),
                  "peak_rss_mb": round(peak() / 1024)}}))
"""


def _run(code: str, timeout: float) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True,
                         text=True, timeout=timeout, check=True)  # fmt: skip
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> int:
    cli = parser(__doc__)
    cli.add_argument("--threads", type=int, default=2)
    args = cli.parse_args()
    from tests.diarization.pipelinegen import build_pipeline

    stage_minutes = [1.0] if args.quick else [5.0, 30.0]
    film_minutes = 30.0 if args.quick else 180.0
    with tempfile.TemporaryDirectory() as tmp:
        folder = str(build_pipeline(Path(tmp) / "pipeline"))
        stage = [
            _run(
                _STAGE.format(root=str(ROOT), minutes=m, folder=folder, threads=args.threads),
                timeout=6 * 3600,
            )
            for m in stage_minutes
        ]
        film = _run(_CLUSTERING.format(minutes=film_minutes, folder=folder), timeout=3600)
    result = {
        "stage": stage,
        "clustering": film,
        "clustering_under_4gb": int(str(film["peak_rss_mb"])) < 4096,
        "threads": args.threads,
    }
    return emit(result)


if __name__ == "__main__":
    sys.exit(main())
