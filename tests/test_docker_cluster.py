"""The CUDA image and the compose examples, checked as text (no Docker engine here): hadolint
for Dockerfile.cuda; the compose files parsed as YAML and held to what each example promises,
and their subtitler settings validated by the daemon's own start-up config."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest
import yaml

from subtitler.cluster.paths import PathMapper
from subtitler.config import load_config
from tests.test_dockerfile import ROOT, _hadolint

CUDA = ROOT / "Dockerfile.cuda"
COMPOSE = ROOT / "docker" / "compose"


def _compose(name: str) -> dict[str, Any]:
    data = yaml.safe_load((COMPOSE / name).read_text())
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


def _config_of(service: dict[str, Any]) -> Any:
    """The service's SUBTITLER_* environment through load_config (passwords filled in)."""
    env = {k: re.sub(r"\$\{[^}]+\}", "pw", str(v)) for k, v in service["environment"].items()}
    fields = {k.removeprefix("SUBTITLER_").lower(): v for k, v in env.items()
              if k.startswith("SUBTITLER_")}  # fmt: skip
    return load_config(**fields)


def test_cuda_dockerfile_is_hadolint_clean() -> None:
    result = subprocess.run([_hadolint(), "--no-color", str(CUDA)], capture_output=True,
                            text=True, check=False, timeout=60)  # fmt: skip
    assert result.returncode == 0 and (result.stdout + result.stderr).strip() == ""


def test_cuda_image_brings_cuda12_cublas_and_cudnn9_on_the_library_path() -> None:
    text = CUDA.read_text()
    # the CUDA wheels come from the image lock (requirements/cuda.txt): CUDA 12, cuDNN 9
    assert "--require-hashes -r requirements/cuda.txt" in text
    lock = (ROOT / "requirements" / "cuda.txt").read_text()
    assert re.search(r"^nvidia-cublas-cu12==12\.[\d.]+", lock, re.M)
    assert re.search(r"^nvidia-cudnn-cu12==9\.[\d.]+", lock, re.M)
    (ld,) = re.findall(r"LD_LIBRARY_PATH=(\S+)", text)
    assert {p.rsplit("/nvidia/", 1)[1] for p in ld.split(":")} == {"cublas/lib", "cudnn/lib"}
    # the wheels land in the base image's interpreter: the path names its version
    base = text.split("FROM ")[-1].split("\n")[0]
    assert base == "python:3.11-slim-bookworm" and "/python3.11/site-packages/" in ld
    # the same base, packages and runtime contract as the CPU image
    cpu = (ROOT / "Dockerfile").read_text()
    for needle in ("FROM python:3.11-slim-bookworm", "scripts/install-system", "VOLUME /config",
                   "HEALTHCHECK", 'CMD ["subtitler", "serve"]', "STOPSIGNAL SIGTERM"):  # fmt: skip
        assert needle in cpu and needle in text


def test_every_image_can_reach_postgresql() -> None:
    # the images install the package's core dependencies: asyncpg must be one of them
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(d.startswith("asyncpg") for d in deps)


def test_cpu_example_is_one_node_on_sqlite() -> None:
    (service,) = _compose("cpu.yml")["services"].values()
    assert service["build"]["dockerfile"] == "Dockerfile" and "8000:8000" in service["ports"]
    assert any(v.endswith(":/config") for v in service["volumes"])
    assert _config_of(service).is_postgres is False
    assert "deploy" not in service


@pytest.mark.parametrize("name", ["gpu.yml", "cluster-gpu-worker.yml"])
def test_gpu_examples_reserve_the_gpu(name: str) -> None:
    (service,) = _compose(name)["services"].values()
    assert service["build"]["dockerfile"] == "Dockerfile.cuda"
    (device,) = service["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]


def test_nas_and_gpu_worker_share_one_queue_with_mapped_paths() -> None:
    nas = _compose("cluster-nas.yml")["services"]
    worker = _compose("cluster-gpu-worker.yml")["services"]["subtitler-worker"]
    assert nas["postgres"]["image"].startswith("postgres:")
    assert "5432:5432" in nas["postgres"]["ports"]
    full = nas["subtitler"]
    assert full["depends_on"]["postgres"]["condition"] == "service_healthy"
    full_config, worker_config = _config_of(full), _config_of(worker)
    assert full_config.is_postgres and worker_config.is_postgres
    assert worker["command"] == ["subtitler", "worker"]
    # the same database (user, port, name), reached by service name on the NAS, by host outside
    strip = re.compile(r"@[^:/]+:")
    assert strip.sub("@H:", full_config.database_url) == strip.sub(
        "@H:", worker_config.database_url
    )
    # the NAS's library is /media in the queue; the worker maps /media onto its own mount
    assert "/volume1/media:/media" in full["volumes"]
    mapper = PathMapper.from_config(worker_config.path_mappings)
    local = mapper.to_local("/media/TV/Show/S01E01.mkv")
    assert local == "/mnt/nas/media/TV/Show/S01E01.mkv"
    assert any(v.split(":")[1] == "/mnt/nas/media" for v in worker["volumes"])
    assert mapper.to_queue(local.replace(".mkv", ".en.srt")) == "/media/TV/Show/S01E01.en.srt"
    port = worker["environment"]["SUBTITLER_PORT"]
    assert f"{port}:{port}" in worker["ports"] and worker_config.node_url.endswith(f":{port}")
    assert full_config.node_id != worker_config.node_id
    # the PC's own worker counts: GPU workers only, whatever the shared settings say
    assert (worker_config.cpu_workers, worker_config.gpu_workers) == (0, -1)


def test_each_machine_names_its_own_node_and_every_example_its_host_names() -> None:
    worker = _compose("cluster-gpu-worker.yml")["services"]["subtitler-worker"]["environment"]
    # copied to a second PC, the worker example cannot start under the first one's id
    assert worker["SUBTITLER_NODE_ID"].startswith("${NODE_ID:?")
    assert "${NODE_ID}" in worker["SUBTITLER_ADVERTISE_URL"]
    for name in ("cpu.yml", "gpu.yml", "cluster-nas.yml"):
        services = _compose(name)["services"]
        env = services.get("subtitler", next(iter(services.values())))["environment"]
        hosts = _config_of({"environment": env}).extra_hosts
        assert hosts, name
