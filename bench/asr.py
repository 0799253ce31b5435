"""Bazarr provider figures; prints one JSON object.

    .venv/bin/python bench/asr.py [--upload-mb 100] [--speech-repeat 3]

- drain: a `--upload-mb` MB /asr upload (Bazarr's shape, Content-Length, loopback) sent while the
  only worker is busy with a library job: MB/s until the 200 and headers come back (the body has
  been read in full then). Target >= 100 MB/s.
- status: p50/p99 of GET /status from one polling client while a transcription runs. Target p99
  < 50 ms.
- end-to-end: the same English speech through POST /asr (encode=true, srt) and through the Jobs
  API (enqueue -> completed), each on a warm worker: ratio = asr / jobs. Target <= 1.05.
- long_pcm (`--long-pcm-hours 3`; `--only-long-pcm` runs just this): a 3-hour s16le upload
  (encode=false: a sentence each minute over soft noise) through /asr; the worker's peak RSS
  while it runs, sampled every 0.2 s. Target <= 1.5 GB (a float32 copy of the whole file alone
  would be 0.69 GB, and faster-whisper's batched pipeline copies it again).
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench._common import emit, parser, say
from tests.conftest import SUBTITLER, ServerProcess, start_server
from tests.speechgen import ENGLISH, MediaFactory, Track

log = say


def api_key(srv: ServerProcess) -> str:
    import subprocess

    return subprocess.run(
        [SUBTITLER, "api-key", "--data-dir", str(srv.data_dir)],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def wait_job(http: httpx.Client, job_id: str, *statuses: str) -> dict[str, Any]:
    while True:
        job = http.get(f"/api/jobs/{job_id}").json()
        if job["status"] in statuses:
            return dict(job)
        time.sleep(0.05)


def busy_job(http: httpx.Client, video: Path) -> dict[str, Any]:
    job = http.post("/api/jobs", json={"file_path": str(video), "target_lang": "eng"}).json()
    wait_job(http, job["id"], "processing")
    return dict(job)


def drain(srv: ServerProcess, key: str, megabytes: int) -> dict[str, Any]:
    size = megabytes * 1024 * 1024
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"audio_file\"; "
            f"filename=\"audio_file\"\r\n\r\n").encode()  # fmt: skip
    tail = f"\r\n--{boundary}--\r\n".encode()
    auth = base64.b64encode(f"bazarr:{key}".encode()).decode()
    host, port = srv.url.removeprefix("http://").split(":")
    request = (
        "POST /asr?task=transcribe&language=en&output=srt&encode=false HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\nUser-Agent: Subliminal/2.1\r\nAuthorization: Basic {auth}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(head) + size + len(tail)}\r\n\r\n"
    ).encode()
    chunk = os.urandom(1024 * 1024)  # random, so no two runs dedupe onto one job
    with socket.create_connection((host, int(port)), timeout=120) as sock:
        started = time.perf_counter()
        sock.sendall(request + head)
        for _ in range(megabytes):
            sock.sendall(chunk)
        sock.sendall(tail)
        answer = sock.recv(4096)
        seconds = time.perf_counter() - started
    return {
        "upload_mb": megabytes,
        "seconds": round(seconds, 3),
        "mb_per_s": round(megabytes / seconds, 1),
        "answered_200": answer.startswith(b"HTTP/1.1 200"),
        "target_mb_per_s": 100,
        "meets_target": megabytes / seconds >= 100,
    }


def status_latency(srv: ServerProcess, seconds: float) -> dict[str, Any]:
    samples: list[float] = []
    with httpx.Client(base_url=srv.url, timeout=5) as http:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            started = time.perf_counter()
            http.get("/status").raise_for_status()
            samples.append((time.perf_counter() - started) * 1000)
            time.sleep(0.02)
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return {
        "requests": len(samples),
        "p50_ms": round(statistics.median(samples), 2),
        "p99_ms": round(p99, 2),
        "max_ms": round(samples[-1], 2),
        "target_p99_ms": 50,
        "meets_target": p99 < 50,
    }


def end_to_end(http: httpx.Client, key: str, video: Path, srv: ServerProcess) -> dict[str, Any]:
    started = time.perf_counter()
    job = http.post("/api/jobs", json={"file_path": str(video), "target_lang": "eng"}).json()
    wait_job(http, job["id"], "completed", "failed")
    jobs_api = time.perf_counter() - started
    body = video.read_bytes()
    started = time.perf_counter()
    resp = httpx.post(
        f"{srv.url}/asr?task=transcribe&language=en&output=srt&encode=true",
        files={"audio_file": ("audio_file", body)},
        headers={"X-Api-Key": key},
        timeout=600,
    )
    asr = time.perf_counter() - started
    return {
        "jobs_api_seconds": round(jobs_api, 3),
        "asr_seconds": round(asr, 3),
        "ratio": round(asr / jobs_api, 3),
        "asr_status": resp.status_code,
        "target_ratio": 1.05,
        "meets_target": asr / jobs_api <= 1.05,
    }


def write_long_pcm(path: Path, speech_wav: Path, hours: float) -> int:
    """A sentence at the start of each minute over soft noise, written a minute at a time."""
    import wave

    import numpy as np

    with wave.open(str(speech_wav)) as wav:
        sentence = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    rng = np.random.default_rng(1)
    minute = 16000 * 60
    minutes = max(1, round(hours * 60))
    with path.open("wb") as out:
        for _ in range(minutes):
            block = rng.normal(0, 30, minute).astype("<i2")
            block[: len(sentence)] = sentence[:minute]
            out.write(block.tobytes())
    return minutes * minute * 2


def long_pcm(srv: ServerProcess, key: str, pcm: Path, hours: float) -> dict[str, Any]:
    import psutil

    def worker_pids() -> list[int]:
        workers = httpx.get(f"{srv.url}/api/workers", headers={"X-Api-Key": key}).json()
        return [w["pid"] for w in workers if w.get("pid")]

    pids = worker_pids()
    refreshed = time.monotonic()
    peak = 0
    done = threading.Event()
    result: dict[str, Any] = {}

    def upload() -> None:
        started = time.perf_counter()
        with pcm.open("rb") as fh:
            resp = httpx.post(
                f"{srv.url}/asr",
                params={"task": "transcribe", "language": "en", "output": "srt",
                        "encode": "false"},
                files={"audio_file": ("audio_file", fh)},
                headers={"X-Api-Key": key},
                timeout=7200,
            )  # fmt: skip
        result.update(status=resp.status_code, seconds=round(time.perf_counter() - started, 1),
                      cues=resp.text.count(" --> "))  # fmt: skip
        done.set()

    thread = threading.Thread(target=upload, daemon=True)
    thread.start()
    while not done.wait(0.2):
        if time.monotonic() - refreshed > 2:  # a worker (re)started: follow its new pid
            pids, refreshed = worker_pids(), time.monotonic()
        for pid in pids:
            try:
                proc = psutil.Process(pid)
                rss = proc.memory_info().rss + sum(
                    c.memory_info().rss for c in proc.children(recursive=True)
                )
            except psutil.Error:
                continue
            peak = max(peak, rss)
    return {
        "hours": hours,
        "upload_mb": round(pcm.stat().st_size / 1e6, 1),
        "float32_copy_mb": round(pcm.stat().st_size * 2 / 1e6, 1),
        **result,
        "peak_worker_rss_mb": round(peak / 1e6, 1),
        "target_peak_rss_mb": 1500,
        "meets_target": 0 < peak <= 1.5e9 and result.get("status") == 200,
    }


def main() -> int:
    cli = parser(__doc__)
    cli.add_argument("--upload-mb", type=int, default=100)
    cli.add_argument("--speech-repeat", type=int, default=3)
    cli.add_argument("--long-pcm-hours", type=float, default=3.0)
    cli.add_argument("--only-long-pcm", action="store_true")
    cli.add_argument("--status-seconds", type=float, default=5.0)
    args = cli.parse_args()
    if args.quick:
        args.upload_mb, args.speech_repeat, args.long_pcm_hours = 2, 1, 0.02
        args.status_seconds = 1.0
    if args.only_long_pcm:
        return only_long(args.long_pcm_hours)
    root = Path(tempfile.mkdtemp(prefix="subtitler-bench-asr-"))
    srv = None
    try:
        media = MediaFactory(root / "media")
        speech = media.concat([media.speech(ENGLISH)] * args.speech_repeat)
        clip = root / "clip.mkv"
        shutil.copyfile(media.mkv([Track(speech, language="eng")]), clip)
        busy_video = root / "busy.mkv"
        shutil.copyfile(media.mkv([Track(media.concat([speech] * 4), language="eng")]),
                        busy_video)  # fmt: skip
        log("starting the daemon with one CPU worker")
        srv = start_server(root / "data", env={"SUBTITLER_START_WORKERS": "false"})
        key = api_key(srv)
        with httpx.Client(base_url=srv.url, timeout=600) as http:
            http.post("/api/workers/pool/start", params={"cpu_workers": 1})
            warm = root / "warm.mkv"
            shutil.copyfile(clip, warm)
            job = http.post("/api/jobs", json={"file_path": str(warm), "target_lang": "eng"})
            wait_job(http, job.json()["id"], "completed", "failed")
            log("upload drain while the worker is busy")
            busy = busy_job(http, busy_video)
            drained = drain(srv, key, args.upload_mb)
            log("/status latency while a job runs")
            latency = status_latency(srv, args.status_seconds)
            for j in http.get("/api/jobs", params={"page_size": 500}).json()["jobs"]:
                if j["status"] in ("queued", "processing"):
                    http.post(f"/api/jobs/{j['id']}/cancel")
            wait_job(http, busy["id"], "cancelled", "completed", "failed")
            log("end to end: /asr vs the Jobs API")
            e2e = end_to_end(http, key, clip, srv)
        long = None
        if args.long_pcm_hours > 0:
            log(f"a {args.long_pcm_hours} h PCM upload: peak worker RSS")
            pcm = root / "long.pcm"
            write_long_pcm(pcm, media.concat([media.speech(ENGLISH)]), args.long_pcm_hours)
            long = long_pcm(srv, key, pcm, args.long_pcm_hours)
        return emit({
            "drain_while_busy": drained,
            "status_while_transcribing": latency,
            "end_to_end": e2e,
            "long_pcm": long,
            "meets_targets": drained["meets_target"] and latency["meets_target"]
            and e2e["meets_target"] and (long is None or long["meets_target"]),
        })  # fmt: skip
    finally:
        if srv is not None:
            srv.stop()
        shutil.rmtree(root, ignore_errors=True)


def only_long(hours: float) -> int:
    root = Path(tempfile.mkdtemp(prefix="subtitler-bench-asr-"))
    srv = None
    try:
        media = MediaFactory(root / "media")
        pcm = root / "long.pcm"
        log(f"writing {hours} h of s16le PCM")
        write_long_pcm(pcm, media.concat([media.speech(ENGLISH)]), hours)
        srv = start_server(root / "data", env={"SUBTITLER_START_WORKERS": "false"})
        key = api_key(srv)
        httpx.post(f"{srv.url}/api/workers/pool/start", params={"cpu_workers": 1},
                   headers={"X-Api-Key": key}, timeout=60)  # fmt: skip
        time.sleep(2)
        result = long_pcm(srv, key, pcm, hours)
        return emit({"long_pcm": result, "meets_targets": result["meets_target"]})
    finally:
        if srv is not None:
            srv.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    threading.excepthook = lambda args: log(f"thread failed: {args.exc_value}")
    sys.exit(main())
