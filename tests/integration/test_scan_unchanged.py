"""A rescan at stat speed (issue 21): an unchanged file costs a stat and a comparison (no probe
decoded, no rule evaluated, no database write); a file whose size, mtime, inode or sidecars
changed is picked up, and only its Library row is written."""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event, select

from subtitler.daemon import Daemon
from subtitler.db.models import MediaProbe
from subtitler.db.models_library import LibraryFile
from subtitler.media.probe import MediaInfo, NotMedia, probe_file
from subtitler.scanner import library as scanner_library
from subtitler.scanner import service as scanner_service
from subtitler.scanner.cache import ProbeFailure
from subtitler.scanner.planner import ScanMemo
from subtitler.scanner.walker import walk
from tests.mediagen import Audio, Spec, make_media, write_srt
from tests.waiting import wait_until

RULE = {
    "name": "Japanese to English",
    "conditions": {"audio_language_is": "jpn", "missing_external_subtitle_lang": "eng"},
    "action": {"target_language": "eng"},
}


@contextmanager
def writes(daemon: Daemon) -> Iterator[list[tuple[str, int]]]:
    """(table, rows) of every write statement the database runs meanwhile."""
    seen: list[tuple[str, int]] = []

    def on_execute(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        word = statement.lstrip().split(None, 1)[0].upper()
        if word in {"INSERT", "UPDATE", "DELETE", "REPLACE"}:
            table = re.search(r"(?:INTO|FROM|UPDATE)\s+\"?(\w+)", statement, re.I)
            rows = len(params) if many and isinstance(params, list | tuple) else 1
            seen.append((table.group(1) if table else "?", rows))

    engine = daemon.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


@contextmanager
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """How many cached probes were decoded and how many files the rules engine decided."""
    calls = {"decode": 0, "decide": 0}
    decode, verdict = scanner_library.decode, scanner_service.file_verdict

    def counting_decode(*args: Any, **kwargs: Any) -> Any:
        calls["decode"] += 1
        return decode(*args, **kwargs)

    def counting_verdict(*args: Any, **kwargs: Any) -> Any:
        calls["decide"] += 1
        return verdict(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(scanner_library, "decode", counting_decode)
        patch.setattr(scanner_service, "file_verdict", counting_verdict)
        yield calls


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """24 episodes (copies of 2 generated files: Japanese and German audio), 4 a folder, a
    German sidecar beside every third."""
    sources = [
        make_media(tmp_path / "src" / "jpn.mkv", Spec(audio=(Audio(language="jpn"),))),
        make_media(tmp_path / "src" / "ger.mkv", Spec(audio=(Audio(language="ger"),))),
    ]
    root = tmp_path / "library"
    for i in range(24):
        folder = root / "Show" / f"Season {i // 4 + 1:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sources[i % 2], folder / f"Show S{i // 4 + 1:02d}E{i:02d}.mkv")
        if i % 3 == 0:
            write_srt(folder / f"Show S{i // 4 + 1:02d}E{i:02d}.de.srt")
    return root


async def _rows(daemon: Daemon) -> dict[str, tuple[Any, ...]]:
    async with daemon.db.read() as session:
        rows = await session.execute(
            select(LibraryFile.path, LibraryFile.mtime_ns, LibraryFile.verdict,
                   LibraryFile.external_langs, LibraryFile.indexed_at)
        )  # fmt: skip
        return {path: tuple(rest) for path, *rest in rows}


def _figures(result: Any) -> dict[str, Any]:
    data = result.model_dump()
    return {k: v for k, v in data.items() if k not in {"duration_seconds", "trigger"}}


async def test_an_unchanged_rescan_writes_nothing_and_decides_nothing(
    daemon: Daemon, library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await daemon.settings.update("library_paths", [str(library)])
    await daemon.rules.create(RULE)
    first = await daemon.scanner.scan()
    assert (first.scanned_files, first.jobs_created, first.probed_files) == (24, 12, 24)
    rows = await _rows(daemon)
    assert len(rows) == 24
    wanted = [p for p, r in rows.items() if r[1] == "wanted"]
    assert len(wanted) == 12  # Japanese, no English sidecar: the job named on the row already

    second = await daemon.scanner.scan()  # its state: the first scan's jobs, now in the database
    with counted(monkeypatch) as calls, writes(daemon) as written:
        third = await daemon.scanner.scan()
    assert calls == {"decode": 0, "decide": 0}
    tables = {table for table, _ in written}
    assert tables <= {"settings"}, written  # the scan counters; no library, probe or job row
    assert await _rows(daemon) == rows  # indexed_at included: not even rewritten
    assert _figures(third) == _figures(second)
    assert (third.jobs_created, third.already_queued, third.matched_files) == (0, 12, 12)
    assert (third.probed_files, third.cached_files) == (0, 24)

    # a restarted daemon has no memo: every file is decided again, and still nothing written
    monkeypatch.setattr(daemon.scanner, "_files", ScanMemo())
    with counted(monkeypatch) as calls, writes(daemon) as written:
        fourth = await daemon.scanner.scan()
    assert calls == {"decode": 24, "decide": 24}
    assert {table for table, _ in written} <= {"settings"}, written
    assert await _rows(daemon) == rows
    assert _figures(fourth) == _figures(second)


async def test_a_changed_file_is_picked_up_and_only_its_row_written(
    daemon: Daemon, library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await daemon.settings.update("library_paths", [str(library)])
    await daemon.rules.create(RULE)
    await daemon.scanner.scan()
    await daemon.scanner.scan()
    before = await _rows(daemon)
    episodes = sorted(library.rglob("*.mkv"))

    # a new mtime: probed again, its row (mtime_ns) rewritten, nothing else
    touched = episodes[1]
    st = touched.stat()
    os.utime(touched, ns=(st.st_atime_ns, st.st_mtime_ns + 7_000_000_000))
    with counted(monkeypatch) as calls, writes(daemon) as written:
        result = await daemon.scanner.scan()
    assert result.probed_files == 1 and calls["decide"] == 1
    assert [rows for table, rows in written if table == "library_files"] == [1]
    after = await _rows(daemon)
    assert after[str(touched)][0] == st.st_mtime_ns + 7_000_000_000
    assert {p: r for p, r in after.items() if p != str(touched)} == {
        p: r for p, r in before.items() if p != str(touched)
    }

    # replaced in place (same size and mtime, a new inode): probed again, though the probe
    # cache (size, mtime) would not see it; the row is the same, so it is not rewritten
    replaced = episodes[2]
    st = replaced.stat()
    fresh = replaced.with_name("incoming.tmp")
    shutil.copyfile(replaced, fresh)
    os.utime(fresh, ns=(st.st_atime_ns, st.st_mtime_ns))
    fresh.replace(replaced)
    assert replaced.stat().st_ino != st.st_ino
    with counted(monkeypatch) as calls, writes(daemon) as written:
        result = await daemon.scanner.scan()
    assert result.probed_files == 1 and calls["decide"] == 1
    assert not [t for t, _ in written if t == "library_files"]

    # a sidecar appears (the media file is untouched): the verdict follows, one row written
    japanese = next(p for p in episodes if before[str(p)][1] == "wanted")
    write_srt(japanese.with_suffix(".en.srt"))
    with counted(monkeypatch) as calls, writes(daemon) as written:
        result = await daemon.scanner.scan()
    assert calls["decide"] == 1 and result.probed_files == 0
    assert [rows for table, rows in written if table == "library_files"] == [1]
    row = (await _rows(daemon))[str(japanese)]
    assert ",eng," in row[2] and row[1] != "no_rules"

    # a file gone: its row is deleted, nothing else written to the index
    gone = episodes[5]
    gone.unlink()
    with writes(daemon) as written:
        result = await daemon.scanner.scan()
    assert result.scanned_files == 23
    assert str(gone) not in await _rows(daemon)
    assert [t for t, _ in written if t == "library_files"] == ["library_files"]  # one DELETE


async def test_a_first_scan_probes_in_the_probe_processes(daemon: Daemon, library: Path) -> None:
    """The probe processes give what an in-process probe gives (a broken file included, the
    walk's sidecars kept), and a first scan through them creates the jobs."""
    broken = library / "Show" / "Broken.mkv"
    broken.write_bytes(b"\x1a\x45\xdf\xa3 not really a video" * 50)
    candidates = list(walk([str(library)]))
    assert len(candidates) == 25

    in_processes = await daemon.library.cache.probe_many(candidates)
    assert daemon.probes.running
    for cand, result in zip(candidates, in_processes, strict=True):
        try:
            expected: MediaInfo | str = probe_file(cand.path, sidecars=cand.sidecars)
        except NotMedia:
            expected = "not_media"
        assert result == expected or (isinstance(result, ProbeFailure) and result.code == expected)
    assert sum(isinstance(r, ProbeFailure) for r in in_processes) == 1
    with_sidecar = [r for r in in_processes if isinstance(r, MediaInfo) and r.external_subtitles]
    assert len(with_sidecar) == 8

    await daemon.settings.update("library_paths", [str(library)])
    await daemon.rules.create(RULE)
    async with daemon.db.write() as session:  # a first scan: nothing cached
        await session.execute(delete(MediaProbe))
    result = await daemon.scanner.scan()
    assert (result.scanned_files, result.probed_files, result.jobs_created) == (25, 25, 12)
    assert result.skipped == {"no_rule_matched": 12, "not_media": 1}  # the broken file
    daemon.probes.close()
    await wait_until(lambda: not multiprocessing.active_children(), timeout=30)
