"""bench/_common.py: the one --quick flag (and its old name), the machine a figure was measured
on, and the JSON head every bench prints."""

from __future__ import annotations

import json
import sys

import pytest

from bench._common import emit, machine, parser


def test_quick_and_its_old_name_smoke_are_one_flag() -> None:
    cli = parser("A bench; prints one JSON object.\n\nMore words.")
    assert cli.description == "A bench; prints one JSON object."
    assert cli.parse_args(["--quick"]).quick and cli.parse_args(["--smoke"]).quick
    assert not cli.parse_args([]).quick


def test_machine_names_cores_ram_cpu_and_load() -> None:
    found = machine()
    assert found["nproc"] >= 1 and found["memory_gib"] > 0 and found["cpu_model"]
    assert len(found["loadavg"]) == 3 and len(found["loadavg_at_start"]) == 3


def test_emit_prints_the_head_and_says_whether_it_failed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["bench/demo.py", "--quick"])
    assert emit({"machine": {"sqlite": "3"}, "figure": 1.5}) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["bench"] == "demo" and report["command"] == "bench/demo.py --quick"
    assert report["figure"] == 1.5 and report["date"].startswith("20")
    assert report["machine"]["sqlite"] == "3" and report["machine"]["nproc"] >= 1
    assert emit({"error": "it broke"}) == 1
