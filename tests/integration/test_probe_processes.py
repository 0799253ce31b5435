"""The daemon's probes run in child processes (issue 21: PyAV never loads in the daemon): they
answer as an in-process probe would, a file that kills its child fails alone, the children stop
when idle and at once on close, and nothing restarts them after a close."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from subtitler.errors import SubtitlerError
from subtitler.media import probe_processes
from subtitler.media.probe import MediaInfo, NotMedia, probe_file
from subtitler.media.probe_processes import CRASHED, ProbeProcesses, error_of
from tests.mediagen import Audio, Spec, make_media, write_srt
from tests.waiting import wait_until

CRASH_MARK = "kills-the-prober"


def crashing_probe(paths: list[str]) -> list[str]:
    """Runs in the child: dies on a file whose name says so, as a native crash would."""
    if any(CRASH_MARK in p for p in paths):
        os._exit(139)
    return probe_processes.probe_paths(paths)


@pytest.fixture
def media(tmp_path: Path) -> list[Path]:
    files = [
        make_media(tmp_path / "a.mkv", Spec(audio=(Audio(language="jpn"), Audio(language="eng")))),
        make_media(tmp_path / "b.mkv", Spec(audio=(Audio(language="ger"),))),
    ]
    write_srt(tmp_path / "a.en.srt")
    return files


def children() -> list[multiprocessing.Process]:
    return multiprocessing.active_children()


async def test_answers_as_an_in_process_probe_would(media: list[Path], tmp_path: Path) -> None:
    broken = tmp_path / "broken.mkv"
    broken.write_bytes(b"\x1a\x45\xdf\xa3 not a video" * 40)
    probes = ProbeProcesses(processes=2)
    try:
        info = await probes.probe(media[0])
        assert info == probe_file(media[0])  # sidecars found by the parent
        assert [s.language for s in info.external_subtitles] == ["eng"]
        with pytest.raises(NotMedia) as not_media:
            await probes.probe(broken)
        assert not_media.value.status == 422 and "Not a media file" in not_media.value.detail
        with pytest.raises(SubtitlerError) as missing:
            await probes.probe(tmp_path / "gone.mkv")
        assert (missing.value.status, missing.value.code) == (404, "not_found")
        with pytest.raises(SubtitlerError) as folder:
            await probes.probe(tmp_path)
        assert (folder.value.status, folder.value.code) == (400, "not_a_file")

        texts = await probes.probe_json([str(p) for p in [*media, broken] * 120])  # 3 tasks
        assert len(texts) == 360
        assert MediaInfo.model_validate_json(texts[1]).audio_tracks[0].language == "deu"
        assert isinstance(error_of(texts[2]), NotMedia)
        assert probes.started_pools == 1
    finally:
        probes.close()


async def test_a_file_that_kills_its_child_fails_alone(
    media: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    killer = tmp_path / f"{CRASH_MARK}.mkv"
    killer.write_bytes(media[0].read_bytes())
    monkeypatch.setattr(probe_processes, "probe_paths", crashing_probe)
    probes = ProbeProcesses(processes=1)
    try:
        texts = await probes.probe_json([str(media[0]), str(killer), str(media[1])])
        assert MediaInfo.model_validate_json(texts[0]).path == str(media[0])
        crashed = error_of(texts[1])
        assert crashed is not None and crashed.code == CRASHED and str(killer) in crashed.detail
        assert MediaInfo.model_validate_json(texts[2]).path == str(media[1])
        assert probes.started_pools >= 2  # a fresh child after each death
        assert (await probes.probe(media[1])).path == str(media[1])  # and it goes on
    finally:
        probes.close()


async def test_children_stop_when_idle_and_start_again(media: list[Path]) -> None:
    probes = ProbeProcesses(processes=2, idle_seconds=0.5)
    try:
        await probes.probe(media[0])
        assert probes.running and children()
        await wait_until(lambda: not probes.running, timeout=30, what="the idle stop")
        await wait_until(lambda: not children(), timeout=30, what="the children's exit")
        await probes.probe(media[1])
        assert probes.running and probes.started_pools == 2
    finally:
        probes.close()
    await wait_until(lambda: not children(), timeout=30, what="the children killed at close")


async def test_a_close_during_a_probe_ends_it_without_a_restart(media: list[Path]) -> None:
    probes = ProbeProcesses(processes=1)
    task = probes.submit([str(media[0])] * 100)
    await wait_until(lambda: probes.running and children(), timeout=30, what="a child")
    probes.close()
    texts = await task
    assert len(texts) == 100
    assert all(error_of(t) is not None or MediaInfo.model_validate_json(t) for t in texts)
    assert not probes.running  # what the close broke is not retried in a new child
    await wait_until(lambda: not children(), timeout=30, what="the children killed at close")
