"""Idle footprint of `subtitler serve` and its children, and how fast a sleeping worker wakes.

    .venv/bin/python bench/footprint.py [--workers 2] [--idle-stop 3] [--wakes 3] [--quick]

A real `subtitler serve` runs on a free loopback port with a temporary data dir whose library is
its only allowed folder (SUBTITLER_CPU_WORKERS workers). Memory is read with psutil's
memory_full_info for the daemon and every child (RSS, PSS: shared pages divided among the
processes sharing them, USS: the process's own), summed per kind (daemon, worker, tracker):

- `at_launch`: just after the start and the UI's usual requests: the daemon launches its workers
  asleep (worker_idle_stop_seconds is set), so no worker process runs yet;
- `warm`: the workers' processes started by hand (pool stop + start, as the Workers page does:
  a pool started by hand starts awake) and idle, after the UI's usual requests;
- `idle`: after `worker_idle_stop_seconds` (--idle-stop) without a job: the workers sleep.

`daemon_heavy_libraries_*` list the heavy packages (numpy, av, ctranslate2, faster_whisper,
onnxruntime, torch) whose files the daemon process has mapped: none after the start and the UI's
requests, and none after jobs either: its media probes run in its probe processes (`prober`
below), which stop like the workers when idle (SUBTITLER_PROBE_IDLE_SECONDS = --idle-stop here).

`wake`: a job for a short English video is queued while every worker sleeps; `queued_to_busy_s`
is the time from the POST to the worker reporting busy (claim, process start, READY), compared
with the same on a warm worker (`warm_queued_to_busy_s`); `start_up_s` is their difference, the
latency the idle stop costs a job. Progress goes to stderr; the result is one JSON object.
`--quick` (CI): one worker, one wake.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import psutil

from bench._common import emit, parser
from tests.conftest import ServerProcess, start_server
from tests.speechgen import ENGLISH, MediaFactory, Track

HEAVY = ("numpy", "av", "ctranslate2", "faster_whisper", "onnxruntime", "torch")
GOAL_TOTAL_MB = 250.0
GOAL_DAEMON_MB = 150.0
# What the web UI asks for on its usual pages, so the modules they need are loaded when measured.
UI_REQUESTS = (
    "/api/status", "/api/workers", "/api/workers/stats", "/api/jobs?page=1", "/api/settings",
    "/api/capabilities", "/api/library?page=1", "/api/system/warnings", "/api/system/about",
    "/api/system/resources", "/api/scanner/status", "/api/jobs/stats", "/api/system/setting-specs",
)  # fmt: skip


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def wait(probe: Callable[[], Any], *, timeout: float, what: str, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(every)
    raise RuntimeError(f"timed out waiting for {what}")


def kind_of(proc: psutil.Process, workers: set[int]) -> str:
    if proc.pid in workers:
        return "worker"
    cmdline = " ".join(proc.cmdline())
    if "resource_tracker" in cmdline:
        return "tracker"
    if "spawn_main" in cmdline:
        return "prober"  # the daemon's probe processes
    return "other"


def memory(daemon_pid: int, workers: set[int]) -> dict[str, Any]:
    """RSS, PSS and USS in MB of the daemon and each of its children, summed per kind
    (`workers`: the worker processes' pids)."""
    daemon = psutil.Process(daemon_pid)
    children = daemon.children(recursive=True)
    procs = [("daemon", daemon)] + [(kind_of(c, workers), c) for c in children]
    rows = []
    for kind, proc in procs:
        try:
            info = proc.memory_full_info()
        except psutil.NoSuchProcess:
            continue
        rows.append({
            "kind": kind, "pid": proc.pid,
            "rss_mb": round(info.rss / 2**20, 1),
            "pss_mb": round(getattr(info, "pss", 0) / 2**20, 1),
            "uss_mb": round(info.uss / 2**20, 1),
        })  # fmt: skip
    by_kind: dict[str, dict[str, float]] = {}
    for row in rows:
        total = by_kind.setdefault(row["kind"], {"count": 0, "rss_mb": 0.0, "pss_mb": 0.0})
        total["count"] += 1
        total["rss_mb"] = round(total["rss_mb"] + row["rss_mb"], 1)
        total["pss_mb"] = round(total["pss_mb"] + row["pss_mb"], 1)
    return {
        "total_rss_mb": round(sum(r["rss_mb"] for r in rows), 1),
        "total_pss_mb": round(sum(r["pss_mb"] for r in rows), 1),
        "daemon_rss_mb": rows[0]["rss_mb"],
        "daemon_pss_mb": rows[0]["pss_mb"],
        "by_kind": by_kind,
        "processes": rows,
    }


def heavy_libraries(pid: int) -> list[str]:
    """The heavy packages whose files (extension modules, bundled libraries) `pid` maps."""
    found = set()
    for mapping in psutil.Process(pid).memory_maps(grouped=True):
        parts = Path(mapping.path).parts
        for name in HEAVY:
            if name in parts or f"{name}.libs" in parts:
                found.add(name)
    return sorted(found)


class Bench:
    def __init__(self, root: Path, workers: int, idle_stop: int) -> None:
        self.library = root / "library"
        self.library.mkdir(parents=True)
        self.media = MediaFactory(root / "media")
        self.server: ServerProcess = start_server(
            root / "data",
            env={
                "SUBTITLER_ALLOWED_PATHS": str(self.library),
                "SUBTITLER_CPU_WORKERS": str(workers),
                "SUBTITLER_LOG_LEVEL": "warning",
                "SUBTITLER_PROBE_IDLE_SECONDS": str(idle_stop),
            },
        )
        self.http = httpx.Client(base_url=self.server.url, timeout=30)
        self.count = workers
        self.videos = 0

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    def set_idle_stop(self, seconds: int) -> None:
        self.call("PUT", "/api/settings/worker_idle_stop_seconds", json={"value": seconds})

    def worker_pids(self) -> set[int]:
        return {w["pid"] for w in self.call("GET", "/api/workers") if w.get("pid")}

    def statuses(self) -> list[str]:
        return [w["status"] for w in self.call("GET", "/api/workers")]

    def all_in(self, status: str, timeout: float) -> None:
        wait(
            lambda: (s := self.statuses()) and len(s) == self.count and set(s) == {status},
            timeout=timeout, what=f"every worker {status}",
        )  # fmt: skip

    def ui_requests(self) -> None:
        for path in UI_REQUESTS:
            self.http.get(path)

    def video(self) -> Path:
        self.videos += 1
        target = self.library / f"Wake {self.videos}.mkv"
        source = self.media.mkv([Track(self.media.speech(ENGLISH), language="eng")])
        shutil.copyfile(source, target)
        return target

    def queued_to_busy(self) -> float:
        """Queue a job; seconds until a worker reports it busy; then wait for the job's end."""
        video = self.video()
        started = time.monotonic()
        job = self.call("POST", "/api/jobs", json={
            "file_path": str(video), "target_lang": "eng", "quality_preset": "fast",
        })  # fmt: skip
        wait(lambda: "busy" in self.statuses(), timeout=120, what="a busy worker", every=0.01)
        took = time.monotonic() - started
        final = wait(
            lambda: (j := self.call("GET", f"/api/jobs/{job['id']}"))["status"]
            in ("completed", "failed", "cancelled") and j,
            timeout=300, what="the job's end",
        )  # fmt: skip
        if final["status"] != "completed":
            raise RuntimeError(f"job {final['status']}: {final.get('error')}")
        return took

    def close(self) -> None:
        self.http.close()
        self.server.stop()


def run(args: argparse.Namespace) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="subtitler-footprint-"))
    bench = Bench(root, args.workers, args.idle_stop)
    try:
        pid = bench.server.proc.pid
        bench.all_in("sleeping", timeout=120)  # launched asleep: no worker process yet
        bench.ui_requests()
        time.sleep(1.0)
        at_launch = memory(pid, bench.worker_pids())
        heavy_at_start = heavy_libraries(pid)
        log(f"at launch: {at_launch['total_rss_mb']} MB RSS, {at_launch['total_pss_mb']} MB PSS")

        bench.set_idle_stop(0)
        bench.call("POST", "/api/workers/pool/stop", params={"timeout": 30})
        bench.call("POST", "/api/workers/pool/start", params={"cpu_workers": bench.count})
        bench.all_in("idle", timeout=120)
        bench.ui_requests()
        time.sleep(1.0)
        warm = memory(pid, bench.worker_pids())
        log(f"warm: {warm['total_rss_mb']} MB RSS, {warm['total_pss_mb']} MB PSS")

        warm_latency = [bench.queued_to_busy() for _ in range(args.wakes)]
        bench.all_in("idle", timeout=60)
        bench.set_idle_stop(args.idle_stop)
        t0 = time.monotonic()
        bench.all_in("sleeping", timeout=args.idle_stop + 60)
        to_sleep = time.monotonic() - t0
        wait(
            lambda: "prober" not in memory(pid, bench.worker_pids())["by_kind"],
            timeout=args.idle_stop + 60, what="the probe processes' idle stop",
        )  # fmt: skip
        bench.ui_requests()
        time.sleep(1.0)
        idle = memory(pid, bench.worker_pids())
        heavy = heavy_libraries(pid)  # none: the probes (a job, a scan) run in probe processes
        log(f"idle: {idle['total_rss_mb']} MB RSS, {idle['total_pss_mb']} MB PSS; heavy {heavy}")

        cold_latency = []
        for n in range(args.wakes):
            cold_latency.append(bench.queued_to_busy())
            log(f"wake {n + 1}: {cold_latency[-1]:.2f} s from queued to busy")
            bench.all_in("sleeping", timeout=args.idle_stop + 60)
        cold, hot = statistics.median(cold_latency), statistics.median(warm_latency)
        machine = {"platform": platform.platform(), "cpu_count": os.cpu_count()}
        machine["python"] = platform.python_version()
        return {
            "bench": "footprint",
            "machine": machine,
            "workers": args.workers,
            "worker_idle_stop_seconds": args.idle_stop,
            "at_launch": at_launch,
            "warm": warm,
            "idle": idle,
            "asleep_after_s": round(to_sleep, 2),
            "daemon_heavy_libraries_at_start": heavy_at_start,
            "daemon_heavy_libraries_after_jobs": heavy,
            "wake": {
                "queued_to_busy_s": [round(x, 3) for x in cold_latency],
                "warm_queued_to_busy_s": [round(x, 3) for x in warm_latency],
                "median_queued_to_busy_s": round(cold, 3),
                "median_warm_queued_to_busy_s": round(hot, 3),
                "start_up_s": round(cold - hot, 3),
            },
            "goal": {"total_rss_mb": GOAL_TOTAL_MB, "daemon_rss_mb": GOAL_DAEMON_MB},
            "meets_goal": idle["total_rss_mb"] <= GOAL_TOTAL_MB
            and idle["daemon_rss_mb"] <= GOAL_DAEMON_MB
            and at_launch["total_rss_mb"] <= GOAL_TOTAL_MB
            and not heavy_at_start
            and not heavy,
        }
    finally:
        bench.close()
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    cli = parser(__doc__)
    cli.add_argument("--workers", type=int, default=2, help="CPU workers (default 2)")
    cli.add_argument("--idle-stop", type=int, default=3, help="worker_idle_stop_seconds")
    cli.add_argument("--wakes", type=int, default=3, help="jobs queued to sleeping workers")
    args = cli.parse_args()
    if args.quick:
        args.workers, args.wakes = 1, 1
    return emit(run(args))


if __name__ == "__main__":
    sys.exit(main())
