"""Models by name: the catalog, a download from a fake Hugging Face hub on 127.0.0.1 (HF_ENDPOINT)
serving a generated tiny CTranslate2 model (interrupted and resumed, a corrupt file refused,
progress on the event stream), the Models API, and a job translating with the installed model."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from subtitler.daemon import Daemon
from subtitler.modelstore.catalog import KINDS, translation_for
from tests.fakehub import COMMIT, FakeHub, fake_hub

NLLB = "nllb-200-distilled-600M"
NLLB_REPO = "JustFrederik/nllb-200-distilled-600M-ct2-int8"
TOKENIZER_REPO = "facebook/nllb-200-distilled-600M"


@pytest.fixture(autouse=True)
def _no_warm_models() -> Iterator[None]:
    from subtitler.translation import ct2

    yield
    ct2._WARM.clear()  # a model loaded here must not count in other tests


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.ct2gen import make_nllb_like

    return make_nllb_like(tmp_path_factory.mktemp("ct2") / "nllb-tiny")


@pytest.fixture
def hub(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    """The conversion repo without its sentencepiece model (like the real one), which comes from
    the original repo, plus a README the store must not fetch."""
    with fake_hub() as server:
        files = {f.name: f.read_bytes() for f in tiny_model.iterdir()}
        spm = files.pop("sentencepiece.bpe.model")
        server.repos[NLLB_REPO] = {**files, "README.md": b"# not needed\n"}
        server.repos[TOKENIZER_REPO] = {"sentencepiece.bpe.model": spm, "config.json": b"{}"}
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        yield server


def test_the_catalog_names_real_repos_sizes_and_languages() -> None:
    translation = {e.name: e for e in KINDS["translation"].entries}
    assert {NLLB, "nllb-200-distilled-1.3B", "m2m100-418M", "opus-mt-en-de"} <= set(translation)
    assert translation[NLLB].repo == NLLB_REPO and translation[NLLB].size_bytes > 500_000_000
    assert translation["opus-mt-en-de"].pair == ("eng", "deu")
    assert translation["opus-mt-en-de"].repo == "gaudi/opus-mt-en-de-ctranslate2"
    assert next(e.name for e in translation_for("eng", "deu")) == "opus-mt-en-de"  # smallest
    assert NLLB in [e.name for e in translation_for("jpn", "kor")]
    assert translation_for("\x00", "\x00") == []  # langcodes' name lookup chokes on it: no 500
    whisper = {e.name: e for e in KINDS["whisper"].entries}
    assert whisper["small"].repo == "Systran/faster-whisper-small"


async def _download(client: httpx.AsyncClient, daemon: Daemon, name: str) -> dict[str, Any]:
    resp = await client.post(f"/api/models/translation/{name}/download")
    assert resp.status_code == 202, resp.text
    return await asyncio.wait_for(daemon.models.wait("translation", name), 60)


async def test_download_is_refused_while_model_download_is_off(
    client: httpx.AsyncClient, hub: FakeHub
) -> None:
    resp = await client.post(f"/api/models/translation/{NLLB}/download")
    assert resp.status_code == 409 and resp.json()["code"] == "model_download_off"
    assert hub.gets == []  # nothing asked of the hub
    unknown = await client.post("/api/models/translation/no-such-model/download")
    assert unknown.status_code == 404


async def test_an_interrupted_download_resumes_verifies_and_installs_offline(
    client: httpx.AsyncClient, daemon: Daemon, hub: FakeHub, tiny_model: Path
) -> None:
    await daemon.settings.bulk_update({"model_download": True})
    events = daemon.bus.subscribe({"model_download"})
    size = (tiny_model / "model.bin").stat().st_size
    hub.break_after["model.bin"] = 5000  # the connection drops after 5000 bytes
    first = await _download(client, daemon, NLLB)
    assert first["state"] == "failed" and "resume" in first["error"], first
    root = daemon.config.models_dir / "translation"
    partial = root / f".download-{NLLB}" / "model.bin"
    assert partial.stat().st_size == 5000 and not (root / NLLB).exists()  # kept, not installed
    row = next(m for m in (await client.get("/api/models")).json()["models"] if m["name"] == NLLB)
    assert not row["installed"] and row["download"]["state"] == "failed"

    second = await _download(client, daemon, NLLB)
    assert second["state"] == "done" and second["bytes_done"] == second["bytes_total"], second
    assert "model.bin:bytes=5000-" in hub.ranges  # resumed, not started over
    installed = root / NLLB
    assert (installed / "model.bin").stat().st_size == size
    assert (installed / "sentencepiece.bpe.model").is_file()  # from the original repo
    assert not (installed / "README.md").exists() and not partial.parent.exists()
    manifest = json.loads((installed / "subtitler-model.json").read_text())
    assert manifest["repo"] == NLLB_REPO and {f["revision"] for f in manifest["files"]} == {COMMIT}
    assert any(f["sha256"] for f in manifest["files"] if f["name"] == "model.bin")

    seen = []
    while (event := await events.get(wait_seconds=0.2)) is not None:
        seen.append(event.data)
    events.close()
    assert seen[0]["state"] == "downloading" and seen[-1]["state"] == "done"
    assert {"failed", "done"} <= {e["state"] for e in seen} and seen[-1]["progress"] == 1.0

    listing = (await client.get("/api/models")).json()
    row = next(m for m in listing["models"] if m["name"] == NLLB)
    assert row["installed"] and row["deletable"] and row["in_use"] == [] and row["download"]
    assert row["size_bytes"] == sum(f.stat().st_size for f in installed.iterdir())
    assert listing["download_allowed"] and listing["free_bytes"] > 0
    again = await client.post(f"/api/models/translation/{NLLB}/download")
    assert again.status_code == 409 and again.json()["code"] == "model_installed"

    # in use by the ctranslate2 provider: named, not deletable; translates offline
    chosen = {"translation_provider": "ctranslate2", "ctranslate2_model_dir": NLLB}
    await daemon.settings.bulk_update({**chosen, "model_download": False})
    hub.gets.clear()
    status = (await client.get("/api/translation/providers")).json()
    assert status["reachable"], status
    assert {"source": "eng", "target": "spa"} in status["pairs"]
    caps = (await client.get("/api/capabilities")).json()
    assert "spa" in caps["translation_targets"] and "eng" in caps["translation_targets"]
    test = await client.post("/api/translation/test", json={"target": "spa", "text": "hello"})
    assert test.status_code == 200 and test.json()["model"].endswith(NLLB), test.text
    assert hub.gets == []  # offline afterwards
    row = next(m for m in (await client.get("/api/models")).json()["models"] if m["name"] == NLLB)
    assert row["in_use"] == ["translation provider ctranslate2"]
    refused = await client.delete(f"/api/models/translation/{NLLB}")
    assert refused.status_code == 409 and refused.json()["code"] == "model_in_use"
    await daemon.settings.bulk_update({"translation_provider": "apertium"})
    assert (await client.delete(f"/api/models/translation/{NLLB}")).status_code == 204
    assert not installed.exists()


async def test_a_corrupt_file_is_refused_and_nothing_is_installed(
    client: httpx.AsyncClient, daemon: Daemon, hub: FakeHub
) -> None:
    await daemon.settings.bulk_update({"model_download": True})
    hub.corrupt.add("model.bin")
    result = await _download(client, daemon, NLLB)
    assert result["state"] == "failed" and "sha256" in result["error"], result
    root = daemon.config.models_dir / "translation"
    assert not (root / NLLB).exists()
    assert not (root / f".download-{NLLB}" / "model.bin").exists()  # the bad bytes are gone
    hub.corrupt.clear()
    resp = await client.post(f"/api/models/translation/{NLLB}/download", params={"use": True})
    assert resp.status_code == 202
    assert (await daemon.models.wait("translation", NLLB))["state"] == "done"
    assert (root / NLLB / "model.bin").is_file()
    # the wizard's offer: once installed, the provider uses the installed models
    assert daemon.settings.get("translation_provider") == "ctranslate2"
    assert daemon.settings.get("ctranslate2_model_dir") == ""
    status = (await client.get("/api/translation/providers")).json()
    assert status["reachable"] and {"source": "eng", "target": "spa"} in status["pairs"]


async def test_no_space_is_said_before_any_byte_is_fetched(
    client: httpx.AsyncClient, daemon: Daemon, hub: FakeHub
) -> None:
    await daemon.settings.bulk_update({"model_download": True, "min_free_disk_mib": 1048576})
    result = await _download(client, daemon, NLLB)
    assert result["state"] == "failed" and result["code"] == "insufficient_storage", result
    assert not any("/resolve/" in path for path in hub.gets)


async def test_the_wizard_offer_names_models_that_reach_a_language(
    client: httpx.AsyncClient,
) -> None:
    offer = (await client.get("/api/models/offer", params={"target": "de", "source": "eng"})).json()
    names = [m["name"] for m in offer]
    assert names[0] == "opus-mt-en-de" and NLLB in names and "opus-mt-de-en" not in names
    assert all(not m["installed"] for m in offer)
    odd = await client.get("/api/models/offer", params={"target": "klingonese"})
    assert odd.status_code == 422 and "target" in odd.json()["detail"]


async def test_a_job_translates_with_the_model_installed_by_name(
    client: httpx.AsyncClient, daemon: Daemon, hub: FakeHub, tmp_path: Path
) -> None:
    from subtitler.workers.pipeline import JobRunner
    from tests.integration.test_translation_apertium import ENGLISH_SRT, Recorder, defaults
    from tests.mediagen import Audio, Spec, make_media

    await daemon.settings.bulk_update({"model_download": True})
    assert (await _download(client, daemon, NLLB))["state"] == "done"
    hub.gets.clear()
    video = make_media(tmp_path / "lib" / "Film.mkv", Spec(audio=(Audio(language="eng"),),
                                                         duration=7))  # fmt: skip
    (tmp_path / "lib" / "Film.en.srt").write_text(ENGLISH_SRT, encoding="utf-8")
    settings = defaults(translation_provider="ctranslate2", ctranslate2_model_dir=NLLB,
                        __models_dir__=str(daemon.config.models_dir))  # fmt: skip
    recorder = Recorder()
    result = await asyncio.to_thread(
        JobRunner(worker_id="test", device="cpu", device_index=0).run,
        job={"id": "t", "quality_preset": "fast", "written_subtitles": {}, "file_path": str(video),
             "job_type": "subtitle_translation", "target_lang": "spa"},
        settings=settings, models_dir=str(daemon.config.models_dir), reporter=recorder,
    )  # fmt: skip
    assert result["translation_provider"] == "ctranslate2", result
    assert result["output_path"].endswith("Film.spa.srt") and result["translated_characters"] > 0
    text = Path(result["output_path"]).read_text(encoding="utf-8")
    assert "00:00:0" in text and "Good evening" not in text  # translated (by a noise model)
    assert hub.gets == []  # the job ran offline


async def test_a_whisper_model_installs_by_name_where_the_worker_finds_it(
    client: httpx.AsyncClient, daemon: Daemon, hub: FakeHub
) -> None:
    from subtitler.workers.models import resolve_model

    files = {"model.bin": b"\0" * 4096, "config.json": b"{}", "tokenizer.json": b"{}",
             "vocabulary.txt": b"a\nb\n", "README.md": b"#"}  # fmt: skip
    hub.repos["Systran/faster-whisper-small"] = files
    await daemon.settings.bulk_update({"model_download": True})
    resp = await client.post("/api/models/whisper/small/download")
    assert resp.status_code == 202
    assert (await daemon.models.wait("whisper", "small"))["state"] == "done"
    models_dir = daemon.config.models_dir
    found = resolve_model("small", models_dir=models_dir)  # no download: it is local now
    assert found.path == models_dir / "small" and found.source == "models_dir"
    assert not (models_dir / "small" / "README.md").exists()
    rows = {m["name"]: m for m in (await client.get("/api/models")).json()["models"]}
    assert rows["small"]["installed"] and rows["small"]["deletable"]
    assert rows["tiny.en"]["installed"] and not rows["tiny.en"]["deletable"]  # from PyPI
    assert (await client.delete("/api/models/whisper/tiny.en")).status_code == 409
    await daemon.settings.bulk_update({"preset_fast": {"model": "small"}})
    assert (
        rows["small"]["in_use"] == []
        and (await client.delete("/api/models/whisper/small")).json()["code"] == "model_in_use"
    )
    await daemon.settings.bulk_update({"preset_fast": {"model": "tiny.en"}})
    assert (await client.delete("/api/models/whisper/small")).status_code == 204
    assert not (models_dir / "small").exists()


async def test_another_kind_of_model_plugs_into_the_store_and_the_view(
    client: httpx.AsyncClient, daemon: Daemon, hub: FakeHub
) -> None:
    """How diarization pipelines join: a Kind with its files, folder and entries; nothing else."""
    import re

    from subtitler.modelstore.catalog import Entry, Kind, register

    pipe = Entry(kind="speakers", name="tiny-pipeline", repo="org/tiny-pipeline", size_bytes=10)
    register(Kind(name="speakers", wanted=re.compile(r"^(config\.yaml|.*\.bin)$"),
                  subdir="speakers", entries=(pipe,), required=("config.yaml",)))  # fmt: skip
    try:
        hub.repos["org/tiny-pipeline"] = {"config.yaml": b"a: 1\n", "seg.bin": b"\1" * 64}
        await daemon.settings.bulk_update({"model_download": True})
        assert (await client.post("/api/models/speakers/tiny-pipeline/download")).status_code == 202
        assert (await daemon.models.wait("speakers", "tiny-pipeline"))["state"] == "done"
        rows = [m for m in (await client.get("/api/models")).json()["models"]
                if m["kind"] == "speakers"]  # fmt: skip
        assert [(m["name"], m["installed"], m["deletable"]) for m in rows] == [
            ("tiny-pipeline", True, True)
        ]
        folder = daemon.config.models_dir / "speakers" / "tiny-pipeline"
        assert (folder / "seg.bin").read_bytes() == b"\1" * 64
        assert (await client.delete("/api/models/speakers/tiny-pipeline")).status_code == 204
        assert not folder.exists()
    finally:
        KINDS.pop("speakers", None)
