"""Every bench runs in its smallest form (`--quick`), so a bench can no longer rot unnoticed:
it must complete (exit 0) and print its JSON with the figures it promises. Timings are not
asserted - CI machines are not benchmark machines.

The benches are found, not listed: every `bench/*.py` but the shared `_*.py` helpers runs here,
so a new bench is in CI the day it lands (with a `--quick` form, or this test fails). The keys
below are what the known ones promise on top of the head every bench prints (bench, date,
command, machine)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.postgres.conftest import _pg_bin

# each bench has its own limit below (the subprocess timeout); pytest's per-test one is above it
pytestmark = [pytest.mark.slow, pytest.mark.timeout(16 * 60)]
ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
HEAD = {"bench", "date", "command", "machine"}
MACHINE = {"nproc", "cpu_model", "memory_gib", "loadavg"}

# keys a known bench's JSON has (beyond HEAD); a bench not named here only owes HEAD
KEYS: dict[str, set[str]] = {
    "api": {"db", "endpoints", "library_first_page", "meets_target"},
    "asr": {"drain_while_busy", "status_while_transcribing", "end_to_end", "long_pcm"},
    "cluster": {"claims", "claim_to_start", "nodes"},
    "scan": {"first_scan", "first_scan_without_jobs", "rescan", "watcher"},
    "translate": {"providers", "quality", "stage_share"},
    "footprint": {"at_launch", "warm", "idle", "wake", "daemon_heavy_libraries_at_start"},
    "transcribe": {"raw", "daemon", "overhead_ratio", "cpu_overhead_ratio", "backlog"},
}
# further runs of a bench with extra arguments: (bench, arguments, keys)
VARIANTS: list[tuple[str, list[str], set[str]]] = [
    ("transcribe", ["--daemon-only"], {"film", "daemon_settings"}),
    ("transcribe", ["--forced"], {"forced"}),
]
MINUTES = 10  # the most a --quick run may take on 2 busy cores (about a minute on a quiet one)


def benches() -> list[str]:
    return sorted(p.stem for p in BENCH_DIR.glob("*.py") if not p.name.startswith("_"))


RUNS = [(name, [], KEYS.get(name, set())) for name in benches()] + VARIANTS


def test_every_bench_is_found_and_the_known_ones_are_there() -> None:
    assert set(KEYS) <= set(benches()), sorted(set(KEYS) - set(benches()))


def printed_json(stdout: str) -> dict[str, Any]:
    """The JSON object a bench prints last (progress goes to stderr, but be lenient)."""
    lines = stdout.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("{")]
    assert starts, f"no JSON object in the output:\n{stdout[-2000:]}"
    value = json.loads("\n".join(lines[starts[-1] :]))
    assert isinstance(value, dict)
    return value


@pytest.mark.parametrize(
    ("bench", "extra", "keys"),
    RUNS,
    ids=[f"{name}{'-' + '-'.join(a.strip('-') for a in extra) if extra else ''}"
         for name, extra, _ in RUNS],
)  # fmt: skip
def test_bench_quick_run_completes_and_prints_its_json(
    bench: str, extra: list[str], keys: set[str]
) -> None:
    if bench == "cluster" and _pg_bin() is None:
        pytest.skip("PostgreSQL is not installed (Debian package postgresql)")
    if bench == "diarize" and importlib.util.find_spec("pyannote") is None:
        pytest.skip("the diarization extra is not installed (pip install 'subtitler[diarization]')")
    env = dict(os.environ)
    env.pop("SUBTITLER_ALLOWED_PATHS", None)  # a bench sets up its own allowed paths
    proc = subprocess.run(
        [sys.executable, str(BENCH_DIR / f"{bench}.py"), "--quick", *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=MINUTES * 60,
    )  # fmt: skip
    assert proc.returncode == 0, (
        f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    report = printed_json(proc.stdout)
    assert "error" not in report, report["error"]
    assert HEAD | keys <= set(report), sorted((HEAD | keys) - set(report))
    assert report["bench"] == bench and "--quick" in report["command"]
    assert set(report["machine"]) >= MACHINE, report["machine"]
    assert report["machine"]["nproc"] >= 1
    if bench == "transcribe" and extra == ["--forced"]:  # issue 22: passages only
        forced = report["forced"]
        assert forced["forced"]["forced_passages"] == 1, forced
        assert forced["forced"]["output"] == "Film.eng.forced.srt", forced
        assert forced["full"]["output"] == "Film.eng.srt" and forced["forced_ratio"] > 0, forced
    elif bench == "transcribe" and extra:
        film = report["film"]
        assert film["status"] == "completed" and not film["worker_restarted"], film
        assert film["requeued"] == 0 and film["last_cue_within_final_minute"], film
    if bench == "translate":  # every translated output meets the norms, the ratio is measured
        quality = report["quality"]
        assert quality["ratio"] is not None and quality["chrf_provider_on_reference"] > 30
        for norms in (quality["norms_srt"], quality["norms_speech"]):
            assert norms["cues"] > 0 and norms["hard_violations"] == 0, norms
            assert norms["under_min_duration"] == 0 and norms["over_cps"] == 0, norms
    if bench == "transcribe" and not extra:
        assert report["overhead_ratio"] > 0 and report["backlog"]["throughput_ratio"] > 0
        assert report["daemon"]["runs"][0]["stages_s"]["transcribe"] > 0, report["daemon"]
    if bench == "cluster":
        assert report["nodes"]["1_node"]["jobs_per_minute"] > 0
        assert report["nodes"]["2_node"]["jobs_per_minute"] > 0


def test_transcribe_on_cuda_without_a_gpu_says_so_in_one_sentence() -> None:
    from subtitler.workers.engine import cuda_device_count

    if cuda_device_count() > 0:
        pytest.skip("a CUDA device is here: --device cuda would measure it")
    proc = subprocess.run(
        [sys.executable, str(BENCH_DIR / "transcribe.py"), "--device", "cuda", "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    message = proc.stderr.strip()
    assert "Traceback" not in message and len(message.splitlines()) == 1, message
    assert "no CUDA device" in message
