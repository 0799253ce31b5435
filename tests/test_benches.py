"""Every bench runs in its smallest form (`--smoke`), so a bench can no longer rot unnoticed:
it must complete (exit 0) and print its JSON with the figures it promises. Timings are not
asserted - CI machines are not benchmark machines."""

from __future__ import annotations

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

# bench, extra arguments, keys its JSON has, the minutes it may take on 2 busy cores
BENCHES: list[tuple[str, list[str], set[str], float]] = [
    ("api", [], {"db", "endpoints", "library_first_page", "meets_target"}, 5),
    ("asr", [], {"drain_while_busy", "status_while_transcribing", "end_to_end", "long_pcm"}, 10),
    ("cluster", [], {"claims", "claim_to_start", "nodes"}, 10),
    ("scan", [], {"first_scan", "first_scan_without_jobs", "rescan", "watcher"}, 5),
    ("translate", [], {"providers", "stage_share"}, 10),
    ("transcribe", [], {"raw", "daemon", "overhead_ratio", "cpu_overhead_ratio", "backlog"}, 15),
    ("transcribe", ["--daemon-only"], {"film", "daemon_settings"}, 10),
    ("transcribe", ["--forced"], {"forced"}, 15),
]


def printed_json(stdout: str) -> dict[str, Any]:
    """The JSON object a bench prints last (progress goes to stderr, but be lenient)."""
    lines = stdout.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("{")]
    assert starts, f"no JSON object in the output:\n{stdout[-2000:]}"
    value = json.loads("\n".join(lines[starts[-1] :]))
    assert isinstance(value, dict)
    return value


@pytest.mark.parametrize(
    ("bench", "extra", "keys", "minutes"),
    BENCHES,
    ids=[f"{name}{'-' + '-'.join(a.strip('-') for a in extra) if extra else ''}"
         for name, extra, _, _ in BENCHES],
)  # fmt: skip
def test_bench_smoke_run_completes_and_prints_its_json(
    bench: str, extra: list[str], keys: set[str], minutes: float
) -> None:
    if bench == "cluster" and _pg_bin() is None:
        pytest.skip("PostgreSQL is not installed (Debian package postgresql)")
    env = dict(os.environ)
    env.pop("SUBTITLER_ALLOWED_PATHS", None)  # a bench sets up its own allowed paths
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{bench}.py"), "--smoke", *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=minutes * 60,
    )  # fmt: skip
    assert proc.returncode == 0, (
        f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    report = printed_json(proc.stdout)
    assert "error" not in report, report["error"]
    assert keys <= set(report), sorted(keys - set(report))
    if bench == "transcribe" and extra == ["--forced"]:  # issue 22: passages only
        forced = report["forced"]
        assert forced["forced"]["forced_passages"] == 1, forced
        assert forced["forced"]["output"] == "Film.eng.forced.srt", forced
        assert forced["full"]["output"] == "Film.eng.srt" and forced["forced_ratio"] > 0, forced
    elif bench == "transcribe" and extra:
        film = report["film"]
        assert film["status"] == "completed" and not film["worker_restarted"], film
        assert film["requeued"] == 0 and film["last_cue_within_final_minute"], film
    if bench == "cluster":
        assert report["nodes"]["1_node"]["jobs_per_minute"] > 0
        assert report["nodes"]["2_node"]["jobs_per_minute"] > 0
