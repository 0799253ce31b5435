"""A cluster as real processes on a real PostgreSQL server: a full node (`subtitler serve`) and
two `subtitler worker` nodes whose path mappings reach the same library through different
folders (symlinks), real faster-whisper on tiny.en. Jobs spread, outputs land in the library and
are recorded in the queue's form; a worker node killed with SIGKILL mid-job loses its lease and
another node finishes the job; the duty node killed hands scheduler and watcher to another;
one node's events appear on another's stream; a worker of another node is removed through it."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.acceptance.test_bazarr import bazarr_body
from tests.postgres.nodes import (
    TINY_FAST,
    CuttableProxy,
    NodeProcess,
    launch,
    prepare_database,
    start,
    wait,
)
from tests.speechgen import ENGLISH, MediaFactory, Track

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]  # real transcription, busy CI

LEASE = 4


def _video(media: MediaFactory, library: Path, name: str, repeat: int = 1) -> Path:
    speech = media.speech(ENGLISH)
    wav = media.concat([speech] * repeat) if repeat > 1 else speech
    target = library / name
    shutil.copyfile(media.mkv([Track(wav, language="eng", default=True)]), target)
    return target


def _job(url: str, job_id: str) -> dict[str, Any]:
    return httpx.get(f"{url}/api/jobs/{job_id}", timeout=10).json()


def _listen(url: str, received: list[dict[str, Any]], connected: threading.Event) -> None:
    try:
        with httpx.stream("GET", f"{url}/api/events", timeout=None) as resp:
            kind = None
            for line in resp.iter_lines():
                if line.startswith(": connected"):
                    connected.set()
                elif line.startswith("event: "):
                    kind = line[len("event: ") :]
                elif line.startswith("data: "):
                    received.append({"type": kind, **json.loads(line[len("data: ") :])})
    except httpx.HTTPError:
        return  # the node was stopped


def test_full_node_and_two_worker_nodes(
    pg_url: str, tmp_path: Path, nodes: list[NodeProcess]
) -> None:
    library = tmp_path / "library"  # the queue's form: the full node's own path
    library.mkdir()
    (tmp_path / "w1-view").symlink_to(library)  # the same files as worker 1 mounts them
    (tmp_path / "w2-view").symlink_to(library)
    prepare_database(
        pg_url, cluster_lease_seconds=LEASE, worker_cpu_count=1, worker_gpu_count=0,
        preset_fast=TINY_FAST, scanner_schedule_enabled=True, scanner_watcher_enabled=True,
        scanner_watcher_paths=[str(library)], asr_quality_preset="fast",
    )  # fmt: skip
    media = MediaFactory(tmp_path / "gen")
    videos = [_video(media, library, f"Show S01E0{n}.mkv") for n in range(1, 5)]
    long_video = _video(media, library, "Long Film.mkv", repeat=8)

    nas = start("serve", tmp_path, "nas", db_url=pg_url, env={"SUBTITLER_START_WORKERS": "false"})
    nodes.append(nas)
    nas2 = start("serve", tmp_path, "nas2", db_url=pg_url,
                 env={"SUBTITLER_START_WORKERS": "false"})  # fmt: skip
    nodes.append(nas2)
    received: list[dict[str, Any]] = []
    connected = threading.Event()
    threading.Thread(target=_listen, args=(nas.url, received, connected), daemon=True).start()
    assert connected.wait(10)
    workers = {}
    for name in ("w1", "w2"):
        mapping = f"{library}={tmp_path / (name + '-view')}"
        workers[name] = start("worker", tmp_path, name, db_url=pg_url,
                              env={"SUBTITLER_PATH_MAPPINGS": mapping})  # fmt: skip
        nodes.append(workers[name])

    # jobs spread over the two worker nodes; outputs in the library, recorded in queue form
    ids = []
    for video in videos:
        resp = httpx.post(f"{nas.url}/api/jobs", json={"file_path": str(video),
                          "target_lang": "eng", "quality_preset": "fast"})  # fmt: skip
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()["id"])
    done = wait(lambda: all(_job(nas.url, i)["status"] in ("completed", "failed") for i in ids)
                and [_job(nas.url, i) for i in ids], timeout=600, what="the jobs")  # fmt: skip
    assert [j["status"] for j in done] == ["completed"] * 4, done
    assert {j["node_id"] for j in done} == {"w1", "w2"}, [j["node_id"] for j in done]
    for job, video in zip(done, videos, strict=True):
        assert job["output_path"] == str(video.with_suffix(".eng.srt"))
        assert "weather" in video.with_suffix(".eng.srt").read_text().lower()

    # a Bazarr upload to nas2 runs on nas2, never on the idle worker nodes
    httpx.post(f"{nas2.url}/api/workers/pool/start", params={"cpu_workers": 1}, timeout=60)
    body, boundary = bazarr_body(videos[0].read_bytes())
    form = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    resp = httpx.post(f"{nas2.url}/asr?task=transcribe&language=en&output=srt&encode=true",
                      content=body, timeout=600, headers=form)  # fmt: skip
    assert resp.status_code == 200 and "weather" in resp.text.lower(), resp.text[:300]
    jobs = httpx.get(f"{nas.url}/api/jobs", params={"page_size": 100}).json()["jobs"]
    (asr,) = [j for j in jobs if j["job_type"] == "asr"]
    assert asr["node_id"] == "nas2" and asr["status"] == "completed"
    httpx.post(f"{nas2.url}/api/workers/pool/stop", params={"timeout": 5}, timeout=60)

    # the Workers API of the full node lists every node's workers; Nodes shows all four
    listed = httpx.get(f"{nas.url}/api/workers", timeout=10).json()
    pairs = {(w["node_id"], w["worker_id"]) for w in listed}
    assert pairs >= {("w1", "worker-cpu-0"), ("w2", "worker-cpu-0")}
    cluster = {n["node_id"]: n for n in httpx.get(f"{nas.url}/api/cluster/nodes").json()}
    assert set(cluster) == {"nas", "nas2", "w1", "w2"}
    assert cluster["w1"]["role"] == "worker" and cluster["w1"]["online"]
    assert "scanner" in cluster["nas"]["duties"] and "scanner" not in cluster["nas2"]["duties"]

    # events of worker nodes reached the full node's stream
    origins = {e.get("origin_node") for e in received}
    assert {"w1", "w2"} <= origins
    assert any(e["type"] == "job_updated" and e.get("origin_node") in ("w1", "w2")
               and e.get("status") == "completed" for e in received)  # fmt: skip

    # kill -9 of the node running a job: the lease runs out, another node completes it
    resp = httpx.post(f"{nas.url}/api/jobs", json={"file_path": str(long_video),
                      "target_lang": "eng", "quality_preset": "fast"})  # fmt: skip
    long_id = resp.json()["id"]
    running = wait(lambda: (j := _job(nas.url, long_id))["status"] == "processing" and j,
                   timeout=60, what="the long job to start")  # fmt: skip
    victim = workers[running["node_id"]]
    survivor = workers["w2" if victim.node_id == "w1" else "w1"]
    victim.kill()
    final = wait(lambda: (j := _job(nas.url, long_id))["status"] in ("completed", "failed") and j,
                 timeout=600, what="the long job to finish elsewhere")  # fmt: skip
    assert final["status"] == "completed", final
    assert final["node_id"] == survivor.node_id and final["recovered_count"] == 1
    assert Path(final["output_path"]) == long_video.with_suffix(".eng.srt")
    assert not list(library.glob(".subtitler-*")) and not list(library.glob("*.tmp"))
    log = [line["message"] for line in httpx.get(f"{nas.url}/api/jobs/{long_id}/log").json()]
    assert any("lease expired, requeued" in m for m in log)

    # removing another node's worker goes through that node
    resp = httpx.delete(f"{nas.url}/api/workers/worker-cpu-0",
                        params={"node_id": survivor.node_id, "timeout": 5}, timeout=30)  # fmt: skip
    assert resp.status_code == 200, resp.text
    assert httpx.get(f"{survivor.url}/api/workers").json() == []

    # kill -9 of the duty node: scheduler and watcher move to the other full node
    before = httpx.get(f"{nas2.url}/api/scanner/status").json()
    assert not before["scheduler_running"] and not before["watcher_running"]
    nas.kill()
    moved = wait(lambda: (s := httpx.get(f"{nas2.url}/api/scanner/status").json())[
        "watcher_running"] and s, timeout=LEASE * 3, what="the duties to move")  # fmt: skip
    assert moved["scheduler_running"] and moved["watched_paths"] == [str(library)]


def test_worker_node_refuses_sqlite_and_bad_mappings(tmp_path: Path, pg_url: str) -> None:
    import subprocess

    from tests.conftest import SUBTITLER

    sqlite = subprocess.run([SUBTITLER, "worker", "--data-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})  # fmt: skip
    assert sqlite.returncode == 2 and "workers need PostgreSQL" in sqlite.stderr
    bad = subprocess.run([SUBTITLER, "worker", "--data-dir", str(tmp_path)], capture_output=True,
                         text=True, timeout=60, env={"PATH": "/usr/bin:/bin",
                         "SUBTITLER_DATABASE_URL": pg_url,
                         "SUBTITLER_PATH_MAPPINGS": "/media:/mnt/media"})  # fmt: skip
    assert bad.returncode == 2
    assert "SUBTITLER_PATH_MAPPINGS='/media:/mnt/media'" in bad.stderr
    assert "expected QUEUE_PATH=LOCAL_PATH" in bad.stderr


def test_database_unreachable_at_start_gives_503_and_retries(tmp_path: Path) -> None:
    from tests.conftest import free_port

    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/postgres"  # nobody listens
    node = launch("worker", tmp_path, "lonely", db_url=url)
    try:
        resp = wait(lambda: _health(node), timeout=30, what="/health to answer")
        assert resp.status_code == 503 and resp.json()["code"] == "database_unreachable"
        wait(lambda: node.log().count("retrying in") >= 2, timeout=30, what="two retries")
        assert "retrying in 1 s" in node.log() and "retrying in 2 s" in node.log()
    finally:
        node.kill()


def _health(node: NodeProcess) -> httpx.Response | None:
    try:
        return httpx.get(f"{node.url}/health", timeout=2)
    except httpx.HTTPError:
        return None


def test_database_lost_mid_job_then_back_loses_nothing(
    pg_url: str, tmp_path: Path, nodes: list[NodeProcess]
) -> None:
    library = tmp_path / "library"
    library.mkdir()
    prepare_database(pg_url, cluster_lease_seconds=LEASE, worker_cpu_count=1,
                     worker_gpu_count=0, preset_fast=TINY_FAST)  # fmt: skip
    video = _video(MediaFactory(tmp_path / "gen"), library, "Film.mkv", repeat=4)
    port = int(pg_url.rsplit(":", 1)[1].split("/")[0])
    proxy = CuttableProxy(port)
    proxy.start()
    nas = start("serve", tmp_path, "nas", db_url=pg_url, env={"SUBTITLER_START_WORKERS": "false"})
    nodes.append(nas)
    worker = start("worker", tmp_path, "w", db_url=proxy.url(pg_url))
    nodes.append(worker)
    resp = httpx.post(f"{nas.url}/api/jobs", json={"file_path": str(video),
                      "target_lang": "eng", "quality_preset": "fast"})  # fmt: skip
    job_id = resp.json()["id"]
    wait(lambda: _job(nas.url, job_id)["status"] == "processing", timeout=60, what="the job")
    proxy.cut()  # the database goes away while the worker node is transcribing
    down = wait(lambda: (r := _health(worker)) is not None and r.status_code == 503 and r,
                timeout=30, what="/health 503")  # fmt: skip
    assert down.json()["code"] == "database_unreachable"
    time.sleep(LEASE * 1.5)  # longer than the lease: the full node requeues the job meanwhile
    proxy.start()
    wait(lambda: (r := _health(worker)) is not None and r.status_code == 200, timeout=60,
         what="/health 200 again")  # fmt: skip
    final = wait(lambda: (j := _job(nas.url, job_id))["status"] in ("completed", "failed") and j,
                 timeout=600, what="the job to finish")  # fmt: skip
    assert final["status"] == "completed", final
    assert final["node_id"] == "w" and final["recovered_count"] == 1
    assert Path(final["output_path"]).is_file()
    assert "database unreachable" in worker.log() or "heartbeat failed" in worker.log()
