"""Worker nodes that see the library under another folder, as a real GPU PC does.

Each `subtitler worker` runs in its own mount namespace (`unshare --mount`, we run as root): the
library is bind-mounted at the node's own folder (its SUBTITLER_PATH_MAPPINGS target), and the
queue's form of the path is hidden under an empty, read-only tmpfs holding zero-byte decoys with
the library's file names. A node that opened the queue's path would probe an empty file, find
nothing to read, or fail to write: every job must still complete on the worker nodes, with the
subtitles in the real library (transcription, a redo in another format that removes the file it
replaces, and the translation of an existing subtitle)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.postgres.nodes import TINY_FAST, NodeProcess, prepare_database, start, wait
from tests.speechgen import ENGLISH, MediaFactory, Track

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("unshare") is None,
        reason="mount namespaces need root and unshare(1)",
    ),
]

# Run inside the new namespace: the library at the node's own folder, decoys at the queue's.
NAMESPACE_SCRIPT = r"""
set -e
queue="$1"; own="$2"; shift 2
mount --bind "$queue" "$own"
mount -t tmpfs -o size=1m,mode=0755 decoys "$queue"
for f in "$own"/*; do : > "$queue/$(basename "$f")"; done
mount -o remount,ro "$queue"
exec "$@"
"""

ENGLISH_SRT = """1
00:00:00,500 --> 00:00:02,000
Good evening, my friend.

2
00:00:02,100 --> 00:00:04,000
The house is very big and the garden is beautiful in the summer.
"""


def _namespaces_work(tmp_path: Path) -> bool:
    probe = tmp_path / "ns-probe"
    probe.mkdir()
    done = subprocess.run(["unshare", "--mount", "sh", "-c", f"mount -t tmpfs x {probe}"],
                          capture_output=True, timeout=30)  # fmt: skip
    return done.returncode == 0


def _job(url: str, job_id: str) -> dict[str, Any]:
    return httpx.get(f"{url}/api/jobs/{job_id}", timeout=10).json()


def _finished(url: str, ids: list[str], timeout: float) -> list[dict[str, Any]]:
    return wait(lambda: all(_job(url, i)["status"] in ("completed", "failed") for i in ids)
                and [_job(url, i) for i in ids], timeout=timeout, what="the jobs")  # fmt: skip


def _post(url: str, **body: Any) -> str:
    resp = httpx.post(f"{url}/api/jobs", json=body, timeout=30)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def test_mapped_worker_nodes_in_their_own_mount_namespaces(
    pg_url: str, tmp_path: Path, nodes: list[NodeProcess]
) -> None:
    if not _namespaces_work(tmp_path):
        pytest.skip("this kernel or container does not allow mount namespaces")
    library = tmp_path / "library"  # the queue's form: where the full node sees the files
    library.mkdir()
    prepare_database(
        pg_url, cluster_lease_seconds=4, worker_cpu_count=1, worker_gpu_count=0,
        preset_fast=TINY_FAST, asr_quality_preset="fast", job_auto_retry_max=0,
    )  # fmt: skip
    media = MediaFactory(tmp_path / "gen")
    wav = media.speech(ENGLISH)
    videos = []
    for n in (1, 2):
        videos.append(library / f"Show S01E0{n}.mkv")
        shutil.copyfile(media.mkv([Track(wav, language="eng", default=True)]), videos[-1])
    film = library / "Film.mkv"
    shutil.copyfile(videos[0], film)
    (library / "Film.en.srt").write_text(ENGLISH_SRT, encoding="utf-8")

    nas = start("serve", tmp_path, "nas", db_url=pg_url, env={"SUBTITLER_START_WORKERS": "false"})
    nodes.append(nas)
    for name in ("w1", "w2"):
        own = tmp_path / f"{name}-mnt"
        own.mkdir()
        prefix = ["unshare", "--mount", "sh", "-c", NAMESPACE_SCRIPT, "ns", str(library), str(own)]
        nodes.append(start("worker", tmp_path, name, db_url=pg_url, prefix=prefix,
                           env={"SUBTITLER_PATH_MAPPINGS": f"{library}={own}"}))  # fmt: skip
    # the worker nodes really cannot see the library at the queue's path
    ns_view = subprocess.run(["nsenter", "-t", str(nodes[1].proc.pid), "-m", "stat", "-c", "%s",
                              str(videos[0])], capture_output=True, text=True)  # fmt: skip
    if ns_view.returncode == 0:
        assert ns_view.stdout.strip() == "0", ns_view  # a decoy, not the video

    ids = [_post(nas.url, file_path=str(v), target_lang="eng", quality_preset="fast")
           for v in videos]  # fmt: skip
    ids.append(_post(nas.url, file_path=str(film), target_lang="es"))  # an existing subtitle
    done = _finished(nas.url, ids, timeout=300)
    assert [j["status"] for j in done] == ["completed"] * 3, [
        (j["status"], j.get("error_code"), j.get("error")) for j in done
    ]
    assert {j["node_id"] for j in done} <= {"w1", "w2"}
    for job, video in zip(done[:2], videos, strict=True):
        assert job["output_path"] == str(video.with_suffix(".eng.srt"))  # the queue's form
        assert "weather" in video.with_suffix(".eng.srt").read_text().lower()
    translated = done[2]
    assert translated["job_type"] == "subtitle_translation", translated
    assert translated["output_path"] == str(library / "Film.spa.srt")
    # the subtitle it read, recorded in the queue's form too (the worker read it at its own path)
    assert translated["source_subtitle"]["path"] == str(library / "Film.en.srt")
    assert translated["source_lang"] == "eng"
    assert (library / "Film.spa.srt").stat().st_size > 50
    log = [m["message"] for m in httpx.get(f"{nas.url}/api/jobs/{ids[2]}/log").json()]
    assert any("instead of listening" in m for m in log), log

    # a redo in another format replaces our own subtitle: the old file goes, through the mapping
    redo = httpx.post(f"{nas.url}/api/jobs/{ids[0]}/redo", json={"output_format": "vtt"},
                      timeout=30)  # fmt: skip
    assert redo.status_code == 201, redo.text
    (again,) = _finished(nas.url, [redo.json()["id"]], timeout=180)
    assert again["status"] == "completed", again
    assert again["output_path"] == str(videos[0].with_suffix(".eng.vtt"))
    assert videos[0].with_suffix(".eng.vtt").read_text().startswith("WEBVTT")
    assert not videos[0].with_suffix(".eng.srt").exists()
    for node in nodes[1:]:
        assert "Errno" not in node.log(), node.log()[-3000:]
