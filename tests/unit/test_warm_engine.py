"""A worker keeps one engine warm between jobs: the same model and settings never load again.

On a GPU the CPU presets' int8 runs as float16 (pick_device); the warm engine must count as a
fit there too, or a GPU worker reloads its model for every job."""

from __future__ import annotations

from pathlib import Path

import pytest

from subtitler.workers.models import ResolvedModel
from subtitler.workers.pipeline import JobRunner

MODEL = ResolvedModel(name="tiny.en", path=Path("/models/tiny.en"), source="path")
OTHER = ResolvedModel(name="base.en", path=Path("/models/base.en"), source="path")


@pytest.mark.parametrize(
    ("device", "preset_compute", "resolved"),
    [
        ("cpu", "int8", "int8"),
        ("cpu", "float16", "int8"),  # a GPU type on the CPU falls back
        ("cuda", "int8", "float16"),  # the presets' int8 on a GPU
        ("cuda", "int8_float16", "int8_float16"),
    ],
)
def test_the_warm_engine_is_kept_for_the_next_job(
    device: str, preset_compute: str, resolved: str
) -> None:
    runner = JobRunner(worker_id="w1", device=device, device_index=0)
    first = runner._engine_for(MODEL, preset_compute, 2)
    assert first.compute_type == resolved
    assert runner._engine_for(MODEL, preset_compute, 2) is first


def test_another_model_or_compute_type_replaces_the_engine() -> None:
    runner = JobRunner(worker_id="w1", device="cuda", device_index=0)
    first = runner._engine_for(MODEL, "int8", 0)
    second = runner._engine_for(MODEL, "int8_float16", 0)
    assert second is not first and second.compute_type == "int8_float16"
    third = runner._engine_for(OTHER, "int8_float16", 0)
    assert third is not second and third.model_info == OTHER
