"""The Logs page's reads (subtitler.system.logs.tail): server-side filter over the whole file and
paging back with `before`, so no line is out of reach behind a fixed cap."""

from __future__ import annotations

from pathlib import Path

from subtitler.system.logs import TAIL_BYTES, tail


def _write(logs: Path, n: int) -> None:
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / "subtitler.log").open("w", encoding="utf-8") as fh:
        for i in range(n):
            level = "WARNING" if i % 10 == 0 else "INFO"
            fh.write(f"2026-12-03 10:00:00,000 {level:<7} subtitler.x: line {i:06d} {'p' * 80}\n")


def test_paging_back_reaches_every_line_once(tmp_path: Path) -> None:
    n = 3 * TAIL_BYTES // 120  # more than one tail window
    _write(tmp_path, n)
    page = tail(tmp_path, after=None, level=None, q=None, limit=1000)
    assert len(page["lines"]) == 1000 and page["more_before"] and page["truncated"]
    seen = [ln["message"][:11] for ln in page["lines"]]
    while page["more_before"]:
        page = tail(tmp_path, after=None, before=page["start"], level=None, q=None, limit=1000)
        seen = [ln["message"][:11] for ln in page["lines"]] + seen
    assert seen == [f"line {i:06d}" for i in range(n)]


def test_filters_apply_on_the_server(tmp_path: Path) -> None:
    _write(tmp_path, 100)
    found = tail(tmp_path, after=None, level=None, q="LINE 000042", limit=1000)
    assert [ln["message"][:11] for ln in found["lines"]] == ["line 000042"]
    warnings = tail(tmp_path, after=None, level="warning", q=None, limit=1000)
    assert len(warnings["lines"]) == 10 and not warnings["truncated"]
    follow = tail(tmp_path, after=found["offset"], level=None, q=None, limit=1000)
    assert follow["lines"] == []
