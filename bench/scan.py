"""Library scan and watcher figures; prints one JSON object.

    .venv/bin/python bench/scan.py [--first 2000] [--rescan 10000] [--quiet 1.0] [--copies 5]

A daemon runs in process on a temporary data dir (real SQLite, real PyAV probes). Libraries are
hard links of a few generated files (each path is probed and cached on its own), 20 files a
folder, with a sidecar for every fourth file. One rule matches the Japanese-audio half, so the
first scan also pays for creating a job per matching file.

- first_scan: files/s of a first scan of `--first` files (walk + probe + store + rules + jobs;
  the probes run in the daemon's probe processes, started by the scan: `probe_processes`);
  first_scan_without_jobs: the same on another copy with no rule (walk + probe + store only).
- rescan: seconds of an unchanged rescan of `--rescan` files (after its first scan).
  `cpu_seconds` beside a scan's figures: the CPU it took (probe processes included), which a
  machine busy with other work leaves as it is.
- watcher: seconds from the end of a chunked copy into a watched folder to its job_created
  event, with `scanner_quiet_seconds` = `--quiet`; target <= quiet + 1 s.
Targets (issue 21): first scan >= 1,500 files/s, unchanged rescan of 10k <= 0.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, parser
from subtitler.config import Config
from subtitler.daemon import Daemon
from tests.mediagen import Audio, Spec, make_media, write_srt

RULE = {
    "name": "Japanese to English",
    "conditions": {"audio_language_is": "jpn", "missing_external_subtitle_lang": "eng"},
    "action": {"target_language": "eng"},
}


def make_sources(folder: Path) -> list[Path]:
    specs = [
        Spec(audio=(Audio(language="jpn", default=True), Audio(language="eng"))),
        Spec(audio=(Audio(language="ger"),)),
        Spec(audio=(Audio(language="jpn"),)),
        Spec(audio=(Audio(language="fre"),)),
    ]
    return [make_media(folder / f"src{i}.mkv", spec) for i, spec in enumerate(specs)]


def make_library(root: Path, sources: list[Path], count: int) -> None:
    for i in range(count):
        folder = root / f"Show {i // 400:03d}" / f"Season {i // 20 % 20:02d}"
        if i % 20 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"Episode {i:05d}.mkv"
        os.link(sources[i % len(sources)], path)
        if i % 4 == 1:
            write_srt(folder / f"Episode {i:05d}.de.srt")


def cpu_seconds() -> float:
    """CPU time of this process and its reaped children (a first scan's probe processes)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


async def timed_scan(daemon: Daemon, root: Path) -> tuple[float, dict[str, Any]]:
    """(seconds, the scan's result with `cpu_seconds` added: figures on a busy machine).

    Each scan starts with no probe process running (a first scan's real cost includes their
    start); they are stopped and reaped after it, so their CPU counts in `cpu_seconds`."""
    started, cpu = time.perf_counter(), cpu_seconds()
    result = await daemon.scanner.scan(paths=[str(root)])
    seconds = time.perf_counter() - started
    daemon.probes.close()
    for _ in range(600):  # at most 30 s; active_children() reaps the ended ones
        if not multiprocessing.active_children():
            break
        await asyncio.sleep(0.05)
    return seconds, {**result.model_dump(), "cpu_seconds": round(cpu_seconds() - cpu, 3)}


async def watcher_latency(daemon: Daemon, folder: Path, source: Path, copies: int) -> list[float]:
    folder.mkdir()
    await daemon.settings.update("library_paths", [str(folder)])
    await daemon.scanner.control.start_watcher(None)
    events = daemon.bus.subscribe({"job_created"})
    data = source.read_bytes()
    latencies: list[float] = []
    for n in range(copies):
        target = folder / f"Copied {n}.mkv"
        step = len(data) // 4 + 1
        with target.open("wb") as out:
            for i in range(4):
                out.write(data[i * step : (i + 1) * step])
                out.flush()
                await asyncio.sleep(0.2)
        ended = time.monotonic()
        event = await events.get(30)
        if event is None or event.data.get("file_path") != str(target):
            raise RuntimeError(f"no job_created for {target}: {event}")
        latencies.append(time.monotonic() - ended)
    await daemon.scanner.control.stop_watcher()
    return latencies


async def main(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="subtitler-bench-") as tmp:
        base = Path(tmp)
        sources = make_sources(base / "sources")
        first_root, rescan_root = base / "lib2k", base / "lib10k"
        bare_root = base / "lib2k-nojobs"
        make_library(first_root, sources, args.first)
        make_library(bare_root, sources, args.first)
        make_library(rescan_root, sources, args.rescan)
        config = Config(data_dir=base / "data", node_id="bench", start_workers=False)
        daemon = Daemon(config)
        await daemon.start()
        try:
            # every bench folder lies under the temp dir: it is the library (paths outside it
            # are refused, and so is everything while no library is set)
            await daemon.settings.bulk_update(
                {"scanner_quiet_seconds": args.quiet, "library_paths": [str(base)]}
            )
            bare_s, bare = await timed_scan(daemon, bare_root)  # no rule yet: no jobs
            await daemon.rules.create(RULE)
            first_s, first = await timed_scan(daemon, first_root)
            warm_s, warm = await timed_scan(daemon, rescan_root)
            rescan_s, rescan = await timed_scan(daemon, rescan_root)
            latencies = await watcher_latency(daemon, base / "watched", sources[0], args.copies)
        finally:
            await daemon.stop()
    return {
        "first_scan": {
            "files": first["scanned_files"],
            "seconds": round(first_s, 3),
            "files_per_s": round(first["scanned_files"] / first_s, 1),
            "cpu_seconds": first["cpu_seconds"],
            "jobs_created": first["jobs_created"],
            "probed_files": first["probed_files"],
            "target_files_per_s": 1500,
            "probe_processes": daemon.probes.processes,
        },
        "first_scan_without_jobs": {
            "files": bare["scanned_files"],
            "seconds": round(bare_s, 3),
            "files_per_s": round(bare["scanned_files"] / bare_s, 1),
            "probed_files": bare["probed_files"],
        },
        "first_scan_10k": {
            "seconds": round(warm_s, 3),
            "files_per_s": round(warm["scanned_files"] / warm_s, 1),
            "cpu_seconds": warm["cpu_seconds"],
            "jobs_created": warm["jobs_created"],
        },
        "rescan": {
            "files": rescan["scanned_files"],
            "seconds": round(rescan_s, 3),
            "cpu_seconds": rescan["cpu_seconds"],
            "probed_files": rescan["probed_files"],
            "jobs_created": rescan["jobs_created"],
            "already_queued": rescan["already_queued"],
            "target_seconds": 0.5,
        },
        "watcher": {
            "quiet_seconds": args.quiet,
            "latency_s": [round(x, 3) for x in latencies],
            "median_s": round(statistics.median(latencies), 3),
            "max_s": round(max(latencies), 3),
            "target_max_s": args.quiet + 1.0,
        },
    }


if __name__ == "__main__":
    cli = parser(__doc__)
    cli.add_argument("--first", type=int, default=2000)
    cli.add_argument("--rescan", type=int, default=10000)
    cli.add_argument("--quiet", type=float, default=1.0)
    cli.add_argument("--copies", type=int, default=5)
    args = cli.parse_args()
    if args.quick:
        args.first, args.rescan, args.quiet, args.copies = 40, 60, 0.3, 1
    sys.exit(emit(asyncio.run(main(args))))
