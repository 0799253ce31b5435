"""Models by name in a real browser (tests/e2e/models.spec.mjs does the clicking): the wizard's
offer installs the translation model that reaches German from a fake Hugging Face hub on
127.0.0.1, System > Models shows it installed and in use, a model the hub lacks fails with its
reason; axe-core on both pages in both themes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.conftest import start_server
from tests.e2e.test_ui import CHROMIUM, _missing
from tests.fakehub import fake_hub

SPEC = Path(__file__).with_name("models.spec.mjs")

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_wizard_offer_and_models_view(tmp_path: Path) -> None:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from tests.ct2gen import make_nllb_like

    languages = ("eng_Latn", "spa_Latn", "deu_Latn")  # German: what the wizard asks for
    model = make_nllb_like(tmp_path / "gen" / "nllb-tiny", languages=languages)
    library = tmp_path / "library"
    library.mkdir()
    shots = Path(os.environ.get("SUBTITLER_E2E_SHOTS", tmp_path / "screenshots")) / "models"
    shutil.rmtree(shots, ignore_errors=True)
    with fake_hub() as hub:
        files = {f.name: f.read_bytes() for f in model.iterdir()}
        spm = files.pop("sentencepiece.bpe.model")
        hub.repos["JustFrederik/nllb-200-distilled-600M-ct2-int8"] = files
        hub.repos["facebook/nllb-200-distilled-600M"] = {"sentencepiece.bpe.model": spm}
        server = start_server(
            tmp_path / "data",
            env={"SUBTITLER_START_WORKERS": "false", "HF_ENDPOINT": hub.url},
        )
        try:
            proc = subprocess.run(
                ["node", str(SPEC)],
                env={
                    **os.environ,
                    "SUBTITLER_URL": server.url,
                    "SHOTS_DIR": str(shots),
                    "LIBRARY_DIR": str(library),
                    "CHROMIUM": CHROMIUM,
                },
                capture_output=True,
                text=True,
                timeout=300,
            )
        finally:
            server.stop(signal.SIGTERM)
    output = proc.stdout + proc.stderr
    print(output)
    assert proc.returncode == 0, output[-4000:] + "\n" + server.log()[-3000:]
    installed = tmp_path / "data" / "models" / "translation" / "nllb-200-distilled-600M"
    assert (installed / "model.bin").is_file() and (installed / "subtitler-model.json").is_file()
    assert any(p.startswith("/api/models/gaudi/opus-mt-en-de") for p in hub.gets)
