"""Bazarr on a cluster, as real processes on a real PostgreSQL: a full node with no workers (the
README's NAS) answers /asr and /detect-language with 503 + Retry-After within seconds while no
worker exists anywhere (nothing is left queued), then, once a worker node is up, sends them to it
and streams its answer back (heartbeat included); the worker node serves them itself too. The
OpenAI-compatible /v1/audio/transcriptions is routed the same way."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.acceptance.test_bazarr import bazarr_body, pcm_of
from tests.postgres.nodes import TINY_FAST, NodeProcess, prepare_database, start
from tests.speechgen import ENGLISH, MediaFactory

pytestmark = pytest.mark.slow


def _post(url: str, path: str, audio: bytes, *, timeout: float = 240) -> httpx.Response:
    body, boundary = bazarr_body(audio)
    form = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    return httpx.post(f"{url}{path}", content=body, timeout=timeout, headers=form)


ASR = "/asr?task=transcribe&language=en&output=srt&encode=false"
OPENAI = "/v1/audio/transcriptions"


def _openai(url: str, wav: Path, *, timeout: float = 240) -> httpx.Response:
    return httpx.post(
        f"{url}{OPENAI}", files={"file": ("talk.wav", wav.read_bytes(), "audio/wav")},
        data={"model": "fast", "language": "en", "response_format": "srt"}, timeout=timeout,
    )  # fmt: skip


DETECT = "/detect-language?encode=false"


def test_bazarr_reaches_the_worker_node_through_a_node_without_workers(
    pg_url: str, tmp_path: Path, nodes: list[NodeProcess]
) -> None:
    prepare_database(
        pg_url, cluster_lease_seconds=4, worker_cpu_count=1, worker_gpu_count=0,
        preset_fast=TINY_FAST, asr_quality_preset="fast", asr_heartbeat=True,
        asr_heartbeat_seconds=0.5,
    )  # fmt: skip
    media = MediaFactory(tmp_path / "gen")
    wav = media.speech(ENGLISH)
    audio = pcm_of(media, wav)
    nas = start("serve", tmp_path, "nas", db_url=pg_url, env={"SUBTITLER_START_WORKERS": "false"})
    nodes.append(nas)

    # no worker anywhere: a quick 503 that tells Bazarr when to come back, nothing queued
    for path in (ASR, DETECT):
        began = time.monotonic()
        refused = _post(nas.url, path, audio, timeout=30)
        assert refused.status_code == 503, refused.text
        assert time.monotonic() - began < 10
        assert int(refused.headers["Retry-After"]) > 0
        assert refused.json()["code"] == "no_worker"
    refused = _openai(nas.url, wav, timeout=30)
    assert refused.status_code == 503 and int(refused.headers["Retry-After"]) > 0, refused.text
    assert refused.json()["error"]["code"] == "no_worker"
    jobs = httpx.get(f"{nas.url}/api/jobs", params={"page_size": 100}, timeout=10).json()
    assert jobs["jobs"] == []
    assert list((tmp_path / "nas" / "spool").iterdir()) == []

    gpu = start("worker", tmp_path, "gpu", db_url=pg_url)
    nodes.append(gpu)
    # the NAS learns of the worker from its heartbeat (a quarter lease)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        nodes_seen = httpx.get(f"{nas.url}/api/cluster/nodes", timeout=10).json()
        if any(n["node_id"] == "gpu" and n["workers"] for n in nodes_seen):
            break
        time.sleep(0.3)

    answered = _post(nas.url, ASR, audio)
    assert answered.status_code == 200, answered.text
    assert answered.headers["X-Subtitler-Node"] == "gpu"
    assert answered.headers["Content-Disposition"].startswith("attachment")
    assert "weather" in answered.text.lower() and "-->" in answered.text
    openai = _openai(nas.url, wav)  # the form fields travel with the file
    assert openai.status_code == 200, openai.text
    assert openai.headers["X-Subtitler-Node"] == "gpu"
    assert "weather" in openai.text.lower() and "-->" in openai.text
    detected = _post(nas.url, DETECT, audio)
    assert detected.status_code == 200, detected.text
    assert set(detected.json()) == {"detected_language", "language_code", "confidence"}
    jobs = httpx.get(f"{nas.url}/api/jobs", params={"page_size": 100}, timeout=10).json()["jobs"]
    # both ran on the worker node (tiny.en is English-only: its detection answers "und")
    assert {(j["job_type"], j["node_id"]) for j in jobs} == {
        ("asr", "gpu"), ("language_detection", "gpu")}  # fmt: skip
    assert {j["status"] for j in jobs if j["job_type"] == "asr"} == {"completed"}
    assert list((tmp_path / "nas" / "spool").iterdir()) == []

    # the worker node answers Bazarr itself (the identical request: from its result)
    direct = _post(gpu.url, ASR, audio)
    assert direct.status_code == 200 and direct.text.strip() == answered.text.strip()
    assert "X-Subtitler-Node" not in direct.headers
