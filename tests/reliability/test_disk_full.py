"""A full data disk, for real: the data dir on a small tmpfs. /health says "degraded: disk full",
uploads get 507, database writes fail with 507 (not 500), and everything recovers once space is
freed. Needs root for `mount -t tmpfs` (skipped otherwise)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import SUBTITLER, ServerProcess, free_port

pytestmark = pytest.mark.slow

SIZE_MB = 48


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mountpoint = tmp_path / "small"
    mountpoint.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE_MB}m", "tmpfs", str(mountpoint)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def _start(data_dir: Path) -> ServerProcess:
    """Like conftest.start_server, but a 503 (degraded) /health also means it is up."""
    port = free_port()
    log_path = data_dir.parent.parent / f"serve-{port}.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SUBTITLER_START_WORKERS": "false",
           "SUBTITLER_ALLOWED_PATHS": str(data_dir.parent)}  # fmt: skip
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [SUBTITLER, "serve", "--host", "127.0.0.1", "--port", str(port),
             "--data-dir", str(data_dir)],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    srv = ServerProcess(proc, f"http://127.0.0.1:{port}", data_dir, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, srv.log()
        try:
            httpx.get(f"{srv.url}/health", timeout=1)
            return srv
        except httpx.HTTPError:
            time.sleep(0.1)
    srv.stop(signal.SIGKILL)
    raise AssertionError(srv.log())


def _fill(path: Path, leave_bytes: int) -> None:
    """Write `path` until the file system has about `leave_bytes` free (0: until ENOSPC)."""
    chunk = b"\0" * (256 * 1024)
    with path.open("ab") as fh:
        while True:
            free = os.statvfs(path.parent).f_bavail * os.statvfs(path.parent).f_frsize
            if free <= leave_bytes + len(chunk) and leave_bytes:
                break
            try:
                fh.write(chunk)
                fh.flush()
            except OSError:
                break


def test_disk_full_is_reported_and_refused_cleanly(small_disk: Path) -> None:
    video = small_disk / "Film.mkv"
    video.write_bytes(b"\x1a\x45\xdf\xa3 a video")
    srv = _start(small_disk / "data")
    try:
        degraded = httpx.get(f"{srv.url}/health", timeout=5)
        assert degraded.status_code == 503  # 48 MB is under the default 1 GiB floor
        assert degraded.json()["detail"].startswith("degraded: disk full")
        set_floor = httpx.put(
            f"{srv.url}/api/settings/min_free_disk_mib", json={"value": "8"}, timeout=5
        )
        assert set_floor.status_code == 200, set_floor.text
        # and the floor a job's output folder must keep (checked before work; 50 MB default)
        job_floor = httpx.put(
            f"{srv.url}/api/settings/min_free_output_disk_mb", json={"value": "8"}, timeout=5
        )
        assert job_floor.status_code == 200, job_floor.text
        assert httpx.get(f"{srv.url}/health", timeout=5).status_code == 200

        filler = small_disk / "filler.bin"
        _fill(filler, leave_bytes=4 * 1024 * 1024)
        health = httpx.get(f"{srv.url}/health", timeout=5)
        assert health.status_code == 503 and "disk full" in health.json()["detail"]
        upload = httpx.post(
            f"{srv.url}/asr", params={"encode": "false"},
            files={"audio_file": ("a.pcm", b"\0\1" * 16000)}, timeout=10,
        )  # fmt: skip
        assert upload.status_code == 507, upload.text
        assert not list((srv.data_dir / "spool").iterdir())

        _fill(filler, leave_bytes=0)  # now truly full: the database cannot write either
        with httpx.Client(base_url=srv.url, timeout=10) as http:
            statuses = []
            for lang in ("eng", "fra", "deu", "ita", "por", "nld"):
                body = {"file_path": str(video), "target_lang": lang}
                write = http.post("/api/jobs", json=body)
                assert write.status_code in (201, 507), write.text
                statuses.append(write.status_code)
                assert http.get("/health").status_code == 503  # same connection
        print("job writes on a full disk:", statuses)
        filler.unlink()
        assert httpx.get(f"{srv.url}/health", timeout=5).status_code == 200
        created = httpx.post(
            f"{srv.url}/api/jobs", json={"file_path": str(video), "target_lang": "spa"}, timeout=10
        )
        assert created.status_code in (201, 409), created.text
    finally:
        srv.stop()
        assert "Traceback" not in srv.log() or "disk" in srv.log()
