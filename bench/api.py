"""API latency with a large jobs table and many concurrent clients; prints one JSON object.

    .venv/bin/python bench/api.py [--jobs 100000] [--clients 50] [--requests 2000] [--seconds 20]

A temporary data dir is migrated with `subtitler db upgrade`, its `jobs` table is filled
straight through sqlite3 (executemany, one transaction), then `subtitler serve` runs as a
subprocess on a free loopback port (loopback needs no API key by default) and each endpoint is
driven in turn by `--clients` concurrent httpx clients until `--requests` requests or `--seconds`
seconds, whichever comes first. Besides the latency figures it reports the CPU time per request
of the server and of this load generator (both share the machine), and the latency of one client
alone (`single_client_p50_ms`): under a closed loop of N clients the latency is about N times the
per-request service time, so that is where to look first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import random
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, parser

TARGET_P99_MS = 50.0
ENDPOINTS = ("/api/jobs?page=1", "/api/status")


def subtitler_command() -> list[str]:
    beside = Path(sys.executable).with_name("subtitler")
    return [str(beside)] if beside.is_file() else [sys.executable, "-m", "subtitler"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


# --- the database ---------------------------------------------------------------------------


def job_rows(count: int, *, seed: int = 1) -> Iterator[dict[str, Any]]:
    """`count` jobs: 10% queued, 20% failed, 70% completed; one file per job, one second apart."""
    rng = random.Random(seed)
    # Random ids, handed out in ascending order so the primary key index grows at its end.
    ids = sorted(f"{rng.getrandbits(128):032x}" for _ in range(count))
    for i in range(count):
        created = _timestamp(i)
        kind = i % 10
        status = "queued" if kind == 0 else "failed" if kind in (1, 2) else "completed"
        done = status != "queued"
        completed = status == "completed"
        folder = f"/media/bench/show-{i // 100:04d}"
        yield {
            "id": ids[i],
            "file_path": f"{folder}/episode-{i:06d}.mkv",
            "file_name": f"episode-{i:06d}.mkv",
            "job_type": "transcription",
            "status": status,
            "priority": i % 3,
            "source_lang": "en" if done else None,
            "source_lang_confidence": 0.97 if done else None,
            "target_lang": "en" if i % 2 else "es",
            "quality_preset": "balanced",
            "transcribe_or_translate": "transcribe",
            "is_manual_request": i % 4 == 0,
            "progress": 100.0 if completed else 0.0,
            "created_at": created,
            "started_at": _timestamp(i, 5) if done else None,
            "completed_at": _timestamp(i, 65) if done else None,
            "output_path": f"{folder}/episode-{i:06d}.en.srt" if completed else None,
            "output_format": "srt" if completed else None,
            "segments_count": 420 if completed else None,
            "error": "ffmpeg could not read the audio stream" if status == "failed" else None,
            "error_code": "audio_extract_failed" if status == "failed" else None,
            "retry_count": 0,
            "recovered_count": 0,
            "crash_count": 0,
            "auto_retry_count": 0,
            "channel": "scan" if i % 4 else "api",
            "variant": "",
            "worker_id": "cpu-0" if done else None,
            "node_id": "bench" if done else None,
            "processing_time_seconds": 60.0 if done else None,
            "model_used": "base" if done else None,
            "device_used": "cpu" if done else None,
            "speech_detected": True if done else None,
            "speech_ratio": 0.8 if done else None,
            "options": "{}",
        }


def _timestamp(seconds: int, offset: int = 0) -> str:
    """2026-01-01 00:00:00 plus `seconds` + `offset`, as SQLAlchemy stores a DateTime in SQLite
    (strftime per row would be a third of the fill time)."""
    days, rest = divmod(seconds + offset, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return (
        f"2026-{1 + days // 28:02d}-{1 + days % 28:02d} {hours:02d}:{minutes:02d}:{secs:02d}.000000"
    )


def fill_jobs(db_path: Path, count: int) -> dict[str, Any]:
    """Bulk-insert `count` jobs with the columns the migrated `jobs` table has."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        info = conn.execute("PRAGMA table_info(jobs)").fetchall()
        if not info:
            raise RuntimeError(f"no jobs table in {db_path}: did the migration run?")
        sample = next(job_rows(1))
        # A column the rows do not fill is left to its database default; only a NOT NULL
        # column without one stops the bench (a new column it must learn about).
        missing = [name for _cid, name, _type, notnull, default, _pk in info
                   if notnull and default is None and name not in sample]  # fmt: skip
        if missing:
            raise RuntimeError(f"bench/api.py has no values for NOT NULL jobs columns {missing}")
        names = [row[1] for row in info if row[1] in sample]
        sql = f"INSERT INTO jobs ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        # Secondary indexes are dropped and built again after the rows are in: one sorted build
        # each instead of 100,000 scattered inserts (the migration's own SQL, so nothing drifts).
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs' "
            "AND sql IS NOT NULL"
        ).fetchall()
        started = time.perf_counter()
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
        for name, _sql in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.executemany(sql, (tuple(row.get(n) for n in names) for row in job_rows(count)))
        for _name, index_sql in indexes:
            conn.execute(index_sql)
        conn.execute("COMMIT")
        seconds = time.perf_counter() - started
        total = conn.execute("SELECT count(*) FROM jobs").fetchone()[0]
    finally:
        conn.close()
    return {"jobs": total, "fill_seconds": round(seconds, 2), "indexes_rebuilt": len(indexes)}


LIBRARY_TARGET_MS = 300.0
LIBRARY_QUERIES = (
    "/api/library?page=1",
    "/api/library?page=1&missing=eng",
    "/api/library?page=1&q=Season%2003",
    "/api/library?page=1&status=skipped&sort=size&order=desc",
    "/api/library?page=1&status=failed",
    "/api/library?page=500&sort=folder",
)


def fill_library(db_path: Path, count: int, *, seed: int = 2) -> dict[str, Any]:
    """`count` rows in the library index (the Library page's table), as a scan would leave them:
    series with seasons and films, mixed audio and subtitle languages and verdicts."""
    rng = random.Random(seed)
    langs = ("eng", "spa", "fra", "deu", "jpn", "ita")
    verdicts = ("wanted", "done", "no_match", "no_match", "no_rules", "probe_failed")
    now = "2026-01-01 00:00:00.000000"

    def lang_list(k: int) -> str:
        picked = sorted(set(rng.sample(langs, k)))
        return f",{','.join(picked)}," if picked else ""

    rows = []
    for i in range(count):
        series, season, episode = i // 200, (i // 20) % 10 + 1, i % 20 + 1
        folder = f"/media/tv/Series {series:04d}/Season {season:02d}"
        name = f"Series {series:04d} S{season:02d}E{episode:02d}.mkv"
        rows.append(
            (
                f"{folder}/{name}", folder, name, f"Series {series:04d}", season,
                rng.randint(10**8, 5 * 10**9), 1_700_000_000_000_000_000 + i,
                rng.uniform(1200, 3600), lang_list(rng.randint(1, 2)),
                lang_list(rng.randint(0, 2)), lang_list(rng.randint(0, 1)),
                rng.choice(verdicts), None, None, 0, now,
            )
        )  # fmt: skip
    t0 = time.perf_counter()
    with sqlite3.connect(db_path) as conn:
        conn.executemany(
            "INSERT INTO library_files (path, folder, name, series, season, size, mtime_ns, "
            "duration_seconds, audio_langs, embedded_langs, external_langs, verdict, reason, "
            "rule_name, ignored, indexed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
    return {"library_rows": count, "library_fill_seconds": round(time.perf_counter() - t0, 2)}


def library_first_pages(base_url: str) -> dict[str, Any]:
    """The Library page's first request per filter (cold: the first after start), then warm."""
    out: dict[str, Any] = {}
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for path in LIBRARY_QUERIES:
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                resp = client.get(path)
                times.append((time.perf_counter() - t0) * 1000)
                resp.raise_for_status()
            out[path] = {
                "first_ms": round(times[0], 1),
                "warm_ms": round(min(times[1:]), 1),
                "total": resp.json()["total"],
                "meets_target": times[0] < LIBRARY_TARGET_MS,
            }
    return out


def status_counts(db_path: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT status, count(*) FROM jobs GROUP BY status ORDER BY 1")
        return {status: count for status, count in rows}
    finally:
        conn.close()


# --- the server -----------------------------------------------------------------------------


class Server:
    """`subtitler serve` on a free loopback port, output to a log file in the data dir."""

    def __init__(
        self, data_dir: Path, *, log_level: str, command: list[str], workers: bool
    ) -> None:
        self.data_dir = data_dir
        self.command = command
        self.workers = workers
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir.parent / "serve.log"
        self.log_level = log_level
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *, timeout: float = 120.0) -> float:
        env = {
            **os.environ,
            "SUBTITLER_DATA_DIR": str(self.data_dir),
            "SUBTITLER_HOST": "127.0.0.1",
            "SUBTITLER_PORT": str(self.port),
            "SUBTITLER_LOG_LEVEL": self.log_level,
            # Idle workers would claim the queued bench jobs (whose files do not exist) and write.
            "SUBTITLER_START_WORKERS": "true" if self.workers else "false",
        }
        env.pop("SUBTITLER_DATABASE_URL", None)
        started = time.perf_counter()
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [*self.command, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"subtitler serve exited {self.proc.returncode}: {self.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base_url}/health", timeout=2).status_code == 200:
                    return time.perf_counter() - started
            time.sleep(0.1)
        raise RuntimeError(f"/health did not answer 200 within {timeout:.0f} s: {self.tail()}")

    def cpu_seconds(self) -> float:
        if self.proc is None:
            return 0.0
        times = psutil.Process(self.proc.pid).cpu_times()
        return float(times.user + times.system)

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after 15 s."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=15)

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


# --- the load -------------------------------------------------------------------------------


Get = Callable[[str], Awaitable[tuple[int, bytes]]]
ERRORS = (httpx.HTTPError, OSError, asyncio.IncompleteReadError, ValueError)


class HttpxClients:
    """The load generator the issue asks for: one httpx.AsyncClient, a connection per client."""

    def __init__(self, base_url: str, clients: int) -> None:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        self._client = httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60)

    def new(self) -> Get:
        return self._get

    async def _get(self, path: str) -> tuple[int, bytes]:
        response = await self._client.get(path)
        return response.status_code, response.content

    async def aclose(self) -> None:
        await self._client.aclose()


class RawClients:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams, one connection per client: it
    costs the shared CPUs far less than httpx, so the server's own latency shows through."""

    def __init__(self, base_url: str) -> None:
        url = httpx.URL(base_url)
        self._host, self._port = url.host, url.port or 80
        self._writers: list[asyncio.StreamWriter] = []

    def new(self) -> Get:
        conn: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

        async def get(path: str) -> tuple[int, bytes]:
            if not conn:
                reader, writer = await asyncio.open_connection(self._host, self._port)
                self._writers.append(writer)
                conn.append((reader, writer))
            reader, writer = conn[0]
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {self._host}\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            length = next(
                int(line.split(":", 1)[1])
                for line in lines[1:]
                if line.lower().startswith("content-length:")
            )
            return status, await reader.readexactly(length)

        return get

    async def aclose(self) -> None:
        for writer in self._writers:
            writer.close()


async def drive(
    clients_factory: HttpxClients | RawClients,
    path: str,
    *,
    clients: int,
    requests: int,
    seconds: float,
    interval: float,
    server: Server,
) -> dict[str, Any]:
    """One endpoint: a single client alone first, then `clients` at once: back to back (a closed
    loop) or, with `interval` > 0, each client starting one request every `interval` seconds."""
    single = []
    get = clients_factory.new()
    for _ in range(20):
        t0 = time.perf_counter()
        status, body = await get(path)
        single.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {body[:200]!r}")
    sample = json.loads(body)

    latencies: list[float] = []
    errors: list[str] = []
    issued = 0
    deadline = time.monotonic() + seconds

    async def one_client(index: int) -> None:
        nonlocal issued
        get = clients_factory.new()
        if interval:
            await asyncio.sleep(interval * index / clients)  # spread the clients over a period
        while issued < requests and time.monotonic() < deadline:
            issued += 1
            t0 = time.perf_counter()
            next_start = time.monotonic() + interval
            try:
                status, _body = await get(path)
            except ERRORS as exc:
                errors.append(type(exc).__name__)
                continue
            latencies.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                errors.append(str(status))
            if interval:
                await asyncio.sleep(max(0.0, next_start - time.monotonic()))

    me = psutil.Process()
    cpu_before, my_cpu_before = server.cpu_seconds(), sum(me.cpu_times()[:2])
    wall_start = time.perf_counter()
    await asyncio.gather(*(one_client(i) for i in range(clients)))
    wall = time.perf_counter() - wall_start
    server_cpu = server.cpu_seconds() - cpu_before
    client_cpu = sum(me.cpu_times()[:2]) - my_cpu_before

    latencies.sort()
    single.sort()
    p99 = percentile(latencies, 99)
    result: dict[str, Any] = {
        "requests": issued,
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:5],
        "p50_ms": round(percentile(latencies, 50), 2),
        "p90_ms": round(percentile(latencies, 90), 2),
        "p99_ms": round(p99, 2),
        "max_ms": round(latencies[-1], 2) if latencies else None,
        "rps": round(issued / wall, 1) if wall else None,
        "seconds": round(wall, 2),
        "server_cpu_ms_per_request": round(server_cpu * 1000 / issued, 2) if issued else None,
        "client_cpu_ms_per_request": round(client_cpu * 1000 / issued, 2) if issued else None,
        "single_client_p50_ms": round(percentile(single, 50), 2),
        "response_bytes": len(body),
        "meets_target": bool(latencies) and not errors and p99 < TARGET_P99_MS,
    }
    if isinstance(sample, dict) and "total" in sample:
        result["total_in_response"] = sample["total"]
    return result


async def run_load(
    server: Server, *, client: str, clients: int, requests: int, seconds: float, interval: float
) -> dict[str, Any]:
    factory = (
        RawClients(server.base_url) if client == "raw" else HttpxClients(server.base_url, clients)
    )
    try:
        return {
            path: await drive(
                factory,
                path,
                clients=clients,
                requests=requests,
                seconds=seconds,
                interval=interval,
                server=server,
            )
            for path in ENDPOINTS
        }
    finally:
        await factory.aclose()


def main() -> int:
    cli = parser(__doc__)
    cli.add_argument("--jobs", type=int, default=100_000, help="jobs in the DB (100000)")
    cli.add_argument("--clients", type=int, default=50, help="concurrent clients (50)")
    cli.add_argument("--requests", type=int, default=2_000, help="per endpoint (2000)")
    cli.add_argument("--seconds", type=float, default=20.0, help="per endpoint at most (20)")
    cli.add_argument(
        "--log-level", default="info", help="SUBTITLER_LOG_LEVEL of the server (the default, info)"
    )
    cli.add_argument(
        "--interval",
        type=float,
        default=0.0,
        help="seconds between one client's request starts (0: back to back, the default)",
    )
    cli.add_argument(
        "--client",
        choices=("httpx", "raw"),
        default="httpx",
        help="load generator: httpx.AsyncClient (default) or a minimal asyncio HTTP/1.1 client",
    )
    cli.add_argument("--workers", action="store_true", help="let the server start its worker pool")
    cli.add_argument(
        "--serve-command",
        help="command that runs the CLI (default: the subtitler script beside this python)",
    )
    cli.add_argument(
        "--library", type=int, default=50_000, help="rows in the library index (50000; 0: none)"
    )
    cli.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    args = cli.parse_args()
    if args.quick:
        args.jobs, args.clients, args.requests, args.seconds, args.library = 1000, 2, 20, 1.0, 200

    tmp = Path(tempfile.mkdtemp(prefix="subtitler-bench-"))
    data_dir = tmp / "data"
    report: dict[str, Any] = {
        "bench": "api",
        "jobs": args.jobs,
        "clients": args.clients,
        "max_requests_per_endpoint": args.requests,
        "max_seconds_per_endpoint": args.seconds,
        "client": args.client,
        "interval_seconds": args.interval,
        "server_log_level": args.log_level,
        "server_workers": args.workers,
        "target_p99_ms": TARGET_P99_MS,
        "machine": {"sqlite": sqlite3.sqlite_version},
    }
    command = shlex.split(args.serve_command) if args.serve_command else subtitler_command()
    server = Server(data_dir, log_level=args.log_level, command=command, workers=args.workers)
    try:
        t0 = time.perf_counter()
        subprocess.run(
            [*command, "db", "upgrade", "--data-dir", str(data_dir)],
            check=True,
            capture_output=True,
            env={k: v for k, v in os.environ.items() if k != "SUBTITLER_DATABASE_URL"},
        )
        report["migrate_seconds"] = round(time.perf_counter() - t0, 2)
        report["db"] = fill_jobs(data_dir / "subtitler.db", args.jobs)
        if args.library:
            report["db"].update(fill_library(data_dir / "subtitler.db", args.library))
        report["server_start_seconds"] = round(server.start(), 2)
        if args.library:
            report["library_first_page"] = library_first_pages(server.base_url)
        before = status_counts(data_dir / "subtitler.db")
        report["endpoints"] = asyncio.run(
            run_load(
                server,
                client=args.client,
                clients=args.clients,
                requests=args.requests,
                seconds=args.seconds,
                interval=args.interval,
            )
        )
        report["db"]["jobs_by_status"] = before
        report["db"]["unchanged_during_run"] = status_counts(data_dir / "subtitler.db") == before
        report["meets_target"] = all(
            e["meets_target"]
            for e in [*report["endpoints"].values(), *report.get("library_first_page", {}).values()]
        )
    except Exception as exc:
        report["error"] = f"{type(exc).__name__}: {exc}"
        report["meets_target"] = False
    finally:
        report["server_exit_code"] = server.stop()  # -15: uvicorn re-raises SIGTERM when done
        if args.log_level in ("debug", "info"):  # uvicorn says so at info
            report["server_shutdown_complete"] = "shutdown complete" in server.tail(50)
        if args.keep:
            report["data_dir"] = str(data_dir)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return emit(report)


if __name__ == "__main__":
    sys.exit(main())
