"""`subtitler serve` as a real process: recovery after SIGKILL, graceful SIGTERM, bad config,
server-sent events over a real socket, and the CLI's other commands."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from subtitler.db.engine import configure_sqlite, immediate_options
from subtitler.db.models import Job, utcnow
from subtitler.jobs.claim import claim_statement
from tests.conftest import SUBTITLER, ServerProcess, start_server
from tests.speechgen import ENGLISH, MediaFactory, Track

pytestmark = pytest.mark.slow


def _claim_as_a_worker(db_file: Path, worker_id: str) -> str:
    engine = create_engine(f"sqlite:///{db_file}")
    configure_sqlite(engine)
    with Session(engine.execution_options(**immediate_options())) as session, session.begin():
        stmt = claim_statement(worker_id=worker_id, node_id=None, now=utcnow())
        job = session.execute(stmt).scalars().one()
        job_id = job.id
    engine.dispose()
    return job_id


@pytest.fixture
def server_without_workers(tmp_path: Path) -> Iterator[ServerProcess]:
    """A daemon whose jobs stay queued: its workers would claim one at once (launched asleep)."""
    srv = start_server(tmp_path / "data", env={"SUBTITLER_START_WORKERS": "false"})
    try:
        yield srv
    finally:
        if srv.proc.poll() is None:
            srv.stop(signal.SIGKILL)


def test_job_processing_when_killed_is_queued_again_after_restart(
    server_without_workers: ServerProcess, media_file: Path
) -> None:
    # No workers: the test claims the job itself, and the job must still be queued when the
    # restarted daemon is asked.
    server = server_without_workers
    try:
        created = httpx.post(
            f"{server.url}/api/jobs", json={"file_path": str(media_file), "target_lang": "eng"}
        )
        assert created.status_code == 201
        job_id = _claim_as_a_worker(server.data_dir / "subtitler.db", "worker-cpu-0")
        assert httpx.get(f"{server.url}/api/jobs/{job_id}").json()["status"] == "processing"
    finally:
        assert server.stop(signal.SIGKILL) == -signal.SIGKILL
    restarted = start_server(server.data_dir, env={"SUBTITLER_START_WORKERS": "false"})
    try:
        job = httpx.get(f"{restarted.url}/api/jobs/{job_id}").json()
        assert job["status"] == "queued"
        assert job["recovered_count"] == 1
        assert job["retry_count"] == 0
        assert job["worker_id"] is None
        log = httpx.get(f"{restarted.url}/api/jobs/{job_id}/log").json()
        assert "daemon restarted while processing" in log[-1]["message"]
    finally:
        restarted.stop(signal.SIGKILL)


def test_sigterm_stops_gracefully(server: ServerProcess) -> None:
    # uvicorn shuts down cleanly, then re-raises the signal so the exit status says SIGTERM.
    assert server.stop(signal.SIGTERM) in (0, -signal.SIGTERM)
    log = server.log()
    assert "Waiting for application shutdown" in log
    assert "subtitler stopped" in log


def test_server_sent_events_over_a_real_socket(
    server_without_workers: ServerProcess, media_file: Path
) -> None:
    server = server_without_workers
    received: list[dict[str, object]] = []
    connected = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", f"{server.url}/api/events", timeout=30) as resp:
            assert resp.headers["content-type"].startswith("text/event-stream")
            event_type = None
            for line in resp.iter_lines():
                if line.startswith(": connected"):
                    connected.set()
                elif line.startswith("event: "):
                    event_type = line[len("event: ") :]
                elif line.startswith("data: "):
                    received.append({"type": event_type, **json.loads(line[len("data: ") :])})
                    if event_type == "job_updated":
                        return

    listeners = [threading.Thread(target=listen) for _ in range(3)]
    for t in listeners:
        t.start()
    assert connected.wait(30)
    job = httpx.post(
        f"{server.url}/api/jobs", json={"file_path": str(media_file), "target_lang": "eng"}
    ).json()
    httpx.delete(f"{server.url}/api/jobs/{job['id']}")
    for t in listeners:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in listeners), received
    created = [e for e in received if e["type"] == "job_created"]
    updated = [e for e in received if e["type"] == "job_updated"]
    assert len(created) == 3 and all(e["id"] == job["id"] for e in created)
    assert len(updated) == 3 and all(e["status"] == "cancelled" for e in updated)
    assert created[0]["file_path"] == str(media_file)


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"SUBTITLER_PORT": "99999"}, "SUBTITLER_PORT='99999'"),
        ({"SUBTITLER_PORT": "http"}, "SUBTITLER_PORT='http'"),
        ({"SUBTITLER_LOG_LEVEL": "loud"}, "SUBTITLER_LOG_LEVEL='loud'"),
        ({"SUBTITLER_DATABASE_URL": "mysql://x"}, "SUBTITLER_DATABASE_URL='mysql://x'"),
    ],
)
def test_bad_config_exits_2_naming_the_variable(
    tmp_path: Path, env: dict[str, str], needle: str
) -> None:
    result = subprocess.run(
        [SUBTITLER, "serve", "--data-dir", str(tmp_path)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert needle in result.stderr


def test_cli_api_key_version_and_db_upgrade(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    run = lambda *args: subprocess.run(  # noqa: E731
        [SUBTITLER, *args], capture_output=True, text=True, timeout=60, check=True
    ).stdout.strip()
    assert run("version").startswith("subtitler ")
    assert "up to date" in run("db", "upgrade", "--data-dir", data)
    key = run("api-key", "--data-dir", data)
    assert len(key) >= 20
    assert run("api-key", "--data-dir", data) == key  # stable, not regenerated
    srv = start_server(Path(data))
    try:
        public = httpx.get(f"{srv.url}/api/settings/api_key").json()
        assert public["value"] != key and public["secret"] is True  # write-only through the API
        authed = httpx.get(f"{srv.url}/api/jobs", headers={"X-Api-Key": key})
        assert authed.status_code == 200  # the key is the first admin token
    finally:
        srv.stop()


def test_migration_backs_up_an_older_database(tmp_path: Path) -> None:
    """A database at an older revision is copied aside before it is migrated."""
    data = tmp_path / "data"
    subprocess.run([SUBTITLER, "db", "upgrade", "--data-dir", str(data)], check=True, timeout=60)
    db_file = data / "subtitler.db"
    engine = create_engine(f"sqlite:///{db_file}")
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'base-test'")
    engine.dispose()
    # An unknown revision cannot be migrated: the daemon refuses instead of guessing, and the
    # backup is already there.
    result = subprocess.run(
        [SUBTITLER, "db", "upgrade", "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    backups = list(data.glob("subtitler.db.bak-*"))
    assert len(backups) == 1
    engine = create_engine(f"sqlite:///{backups[0]}")
    with Session(engine) as session:
        assert session.scalars(select(Job)).all() == []
    engine.dispose()


def _wait_job(url: str, job_id: str, statuses: set[str], timeout: float = 120) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = httpx.get(f"{url}/api/jobs/{job_id}").json()
        if job["status"] in statuses and (
            job["status"] != "processing" or job["current_stage"] == "transcribing"
        ):
            return dict(job)
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} never reached {statuses}")


def _pid_of_worker_running(url: str, job_id: str, timeout: float = 60) -> int:
    """The process of the worker holding the job: a worker launched asleep starts it for the job."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for worker in httpx.get(f"{url}/api/workers").json():
            if worker["current_job_id"] == job_id and worker["pid"]:
                return int(worker["pid"])
        time.sleep(0.1)
    raise AssertionError(f"no worker process ever held job {job_id}")


def test_daemon_killed_mid_job_leaves_no_file_and_the_job_completes_after_restart(
    tmp_path: Path,
) -> None:
    media = MediaFactory(tmp_path / "media")
    library = tmp_path / "library"
    library.mkdir()
    video = library / "Killed Mid Job.mkv"
    long_speech = media.concat([media.speech(ENGLISH)] * 6)
    shutil.copyfile(media.mkv([Track(long_speech, language="eng")]), video)
    srv = start_server(tmp_path / "data")
    try:
        job = httpx.post(
            f"{srv.url}/api/jobs",
            json={"file_path": str(video), "target_lang": "eng", "quality_preset": "fast"},
        ).json()
        _wait_job(srv.url, job["id"], {"processing"})
        worker_pid = _pid_of_worker_running(srv.url, job["id"])
    finally:
        srv.stop(signal.SIGKILL)
    deadline = time.monotonic() + 30
    while psutil.pid_exists(worker_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    proc_gone = not psutil.pid_exists(worker_pid) or (
        psutil.Process(worker_pid).status() == psutil.STATUS_ZOMBIE
    )
    assert proc_gone, "the worker process outlived its daemon"
    assert not list(library.glob("Killed Mid Job.*.srt"))
    assert not list(library.glob(".subtitler-*"))

    again = start_server(tmp_path / "data")
    try:
        done = _wait_job(again.url, job["id"], {"completed", "failed"})
        assert done["status"] == "completed", done
        assert done["recovered_count"] == 1
        assert Path(str(done["output_path"])).is_file()
    finally:
        again.stop()


def test_transcribe_command_writes_a_subtitle_beside_the_file(tmp_path: Path) -> None:
    media = MediaFactory(tmp_path / "media")
    video = tmp_path / "Ünïcode clip.mkv"
    shutil.copyfile(media.mkv([Track(media.speech(ENGLISH), language="eng")]), video)
    result = subprocess.run(
        [SUBTITLER, "transcribe", str(video), "--preset", "fast", "--format", "vtt",
         "--data-dir", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    output = Path(result.stdout.strip())
    assert output == tmp_path / "Ünïcode clip.eng.vtt"
    text = output.read_text()
    assert text.startswith("WEBVTT") and "weather" in text.lower()
    again = subprocess.run(
        [SUBTITLER, "transcribe", str(video), "--format", "vtt",
         "--data-dir", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert again.returncode == 1 and "output_exists" in again.stderr
    missing = subprocess.run(
        [SUBTITLER, "transcribe", str(tmp_path / "nope.mkv")], capture_output=True, text=True
    )
    assert missing.returncode == 1 and "media_not_found" in missing.stderr
