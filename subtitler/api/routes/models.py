"""Models by name: /api/models (Whisper and translation models: installed, available, size, in
use, download state), download from the Hugging Face hub, delete. Logic in ModelsService."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from subtitler.api.deps import get_daemon
from subtitler.daemon import Daemon
from subtitler.modelstore.service import ModelsService

router = APIRouter(prefix="/api/models", tags=["models"])


class DownloadOut(BaseModel):
    state: str
    bytes_done: int
    bytes_total: int
    progress: float
    file: str
    error: str | None
    code: str | None


class ModelRowOut(BaseModel):
    kind: str
    name: str
    description: str
    repo: str | None
    family: str | None
    license: str | None
    languages: list[str]
    any_language: bool
    pair: list[str] | None
    size_bytes: int
    installed: bool
    source: str | None
    deletable: bool
    in_catalog: bool
    in_use: list[str]
    download: DownloadOut | None


class ModelsOut(BaseModel):
    models: list[ModelRowOut]
    download_allowed: bool
    free_bytes: int
    models_dir: str


def _service(daemon: Daemon = Depends(get_daemon)) -> ModelsService:
    return daemon.models


@router.get("", response_model=ModelsOut)
async def list_models(service: ModelsService = Depends(_service)) -> dict[str, Any]:
    """Every catalog model and every installed one, with its download state."""
    return service.listing()


@router.get("/offer", response_model=list[ModelRowOut])
async def offer(
    target: str = Query(description="the subtitle language wanted, e.g. deu or de"),
    source: str | None = Query(default=None, description="the audio's or subtitle's language"),
    service: ModelsService = Depends(_service),
) -> list[dict[str, Any]]:
    """Translation models that would make source -> target reachable offline, smallest first."""
    return service.offer_for(target, source)


@router.post("/{kind}/{name}/download", response_model=DownloadOut, status_code=202)
async def download(
    kind: str,
    name: str,
    use: bool = Query(
        default=False,
        description="translation: make the ctranslate2 provider use the installed models "
        "once it is installed (the wizard's offer)",
    ),
    service: ModelsService = Depends(_service),
) -> dict[str, Any]:
    """Start downloading a catalog model (progress: `model_download` events); 409 when
    model_download is off or it is installed."""
    return service.start_download(kind, name, use=use)


@router.delete("/{kind}/{name}", status_code=204, response_class=Response)
async def delete(kind: str, name: str, service: ModelsService = Depends(_service)) -> Response:
    """Delete an installed model (409 while it is in use)."""
    service.delete(kind, name)
    return Response(status_code=204)
