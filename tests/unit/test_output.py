"""Formats (pysubs2 and ours) and the atomic writer."""

from __future__ import annotations

import json
from pathlib import Path

import pysubs2
import pytest

from subtitler.errors import BadRequest, Conflict
from subtitler.subtitles.cues import Cue, Segment, Word
from subtitler.subtitles.formats import FORMATS, render
from subtitler.subtitles.writer import (
    ensure_writable,
    file_sha256,
    remove_stale_temp_files,
    write_atomic,
)

CUES = [
    Cue(start=1.0, end=3.5, lines=("Hello there,", "how are you?")),
    Cue(start=3.583, end=5.0, lines=("Fine, thanks.",)),
    Cue(start=9.0, end=10.25, lines=("Ünïcödé — 日本語",)),
]
SEGMENTS = [
    Segment(
        start=1.0,
        end=5.0,
        text=" Hello there, how are you? Fine, thanks.",
        words=(Word(1.0, 1.4, " Hello", 0.98), Word(1.4, 1.9, " there,", 0.9)),
    )
]


@pytest.mark.parametrize("fmt", ["srt", "vtt", "ass"])
def test_pysubs2_formats_round_trip(fmt: str) -> None:
    subs = pysubs2.SSAFile.from_string(render(CUES, fmt=fmt))
    second = 3590 if fmt == "ass" else 3583  # ASS has centiseconds: starts round up
    assert [(e.start, e.end) for e in subs] == [(1000, 3500), (second, 5000), (9000, 10250)]
    assert subs[0].plaintext == "Hello there,\nhow are you?"
    assert subs[2].plaintext == "Ünïcödé — 日本語"


def test_lrc_lines_and_clearing_stamps() -> None:
    text = render(CUES, fmt="lrc")
    assert text.splitlines() == [
        "[00:01.00]Hello there, how are you?",
        "[00:03.58]Fine, thanks.",
        "[00:05.00]",
        "[00:09.00]Ünïcödé — 日本語",
        "[00:10.25]",
    ]


def test_txt_and_json() -> None:
    assert render(CUES, fmt="txt").splitlines()[0] == "Hello there, how are you?"
    doc = json.loads(render(CUES, fmt="json", segments=SEGMENTS, language="en", duration=10.5))
    assert doc["language"] == "en" and doc["duration"] == 10.5
    assert doc["segments"][0]["words"][1] == {
        "start": 1.4,
        "end": 1.9,
        "word": "there,",
        "probability": 0.9,
    }
    assert len(doc["cues"]) == 3


def test_unknown_format_is_refused() -> None:
    with pytest.raises(BadRequest) as err:
        render(CUES, fmt="docx")
    assert err.value.code == "bad_format"
    assert set(FORMATS) == {"srt", "vtt", "ass", "lrc", "txt", "json"}


def test_atomic_write_replaces_and_returns_the_checksum(tmp_path: Path) -> None:
    target = tmp_path / "show" / "episode.eng.srt"
    digest = write_atomic(target, render(CUES))
    assert digest == file_sha256(target)
    assert pysubs2.load(str(target))[1].plaintext == "Fine, thanks."
    second = write_atomic(target, "1\n00:00:01,000 --> 00:00:02,000\nNew\n")
    assert second != digest and file_sha256(target) == second
    assert sorted(p.name for p in target.parent.iterdir()) == ["episode.eng.srt"]


def test_stale_temp_files_are_removed(tmp_path: Path) -> None:
    (tmp_path / ".subtitler-abc.tmp").write_text("partial")
    (tmp_path / "keep.srt").write_text("x")
    assert remove_stale_temp_files(tmp_path) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["keep.srt"]


def test_a_foreign_subtitle_is_not_overwritten(tmp_path: Path) -> None:
    theirs = tmp_path / "episode.eng.srt"
    theirs.write_text("someone else's subtitle")
    ours: set[str] = set()
    with pytest.raises(Conflict) as err:
        ensure_writable(theirs, overwrite=False, written_by_us=lambda _p, sha: sha in ours)
    assert err.value.code == "output_exists"
    ensure_writable(theirs, overwrite=True, written_by_us=lambda _p, sha: False)
    ours.add(write_atomic(theirs, render(CUES)))
    ensure_writable(theirs, overwrite=False, written_by_us=lambda _p, sha: sha in ours)
    ensure_writable(tmp_path / "new.srt", overwrite=False, written_by_us=lambda _p, _s: False)
