"""GET /api/capabilities: what this server can do, for integrators to discover (no I/O beyond
listing the models folder, asking NVML for devices and an offline translation provider for its
pairs). Limits are the ones in force: the worker cap and the upload cap as settings make them."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from subtitler.api.deps import get_daemon
from subtitler.daemon import Daemon
from subtitler.jobs.control import MAX_BULK
from subtitler.jobs.states import CHANNELS
from subtitler.media.languages import WHISPER_LANGUAGES
from subtitler.security.limits import worker_cap
from subtitler.settings.specs.transcription import QUALITY_PRESETS
from subtitler.subtitles.formats import FORMATS
from subtitler.tokens import SCOPES
from subtitler.translation.service import TranslationService
from subtitler.workers.diarize import capabilities as diarization_capabilities
from subtitler.workers.models import available_models

router = APIRouter(prefix="/api", tags=["system"])


class ModelOut(BaseModel):
    name: str
    source: str


class PresetOut(BaseModel):
    name: str
    model: str
    compute_type: str
    beam_size: int
    batch_size: int
    installed: bool = True  # its model loads without a download
    falls_back_to: str | None = None  # the model used instead when it is not installed


class DeviceOut(BaseModel):
    type: str
    id: int | None
    name: str


class LimitsOut(BaseModel):
    max_upload_bytes: int | None
    max_workers: int
    max_page_size: int
    max_bulk_ids: int
    idempotency_window_hours: int


# --- diarization (issue 24): who is speaking; nothing is imported to answer -----------------
class DiarizationOut(BaseModel):
    engine: str  # pyannote.audio
    installed: bool  # the diarization extra is importable
    pipeline: str  # the diarization_pipeline setting: a hub name or a local folder
    local: bool
    token_set: bool
    ready: bool  # installed, and a local pipeline folder or a token for the hub's
    enabled_by_default: bool


# --- end of the diarization part ------------------------------------------------------------


class CapabilitiesOut(BaseModel):
    version: str
    models: list[ModelOut]
    presets: list[PresetOut]
    devices: list[DeviceOut]
    output_formats: list[str]
    asr_languages: list[str]
    translation_targets: list[str]
    translation_any_target: bool = False  # a web service: any language it knows
    channels: list[str]
    token_scopes: list[str]
    limits: LimitsOut
    diarization: DiarizationOut | None = None


@router.get("/capabilities", response_model=CapabilitiesOut)
async def capabilities(daemon: Daemon = Depends(get_daemon)) -> CapabilitiesOut:
    models = await asyncio.to_thread(available_models, models_dir=daemon.config.models_dir)
    gpus: list[dict[str, Any]] = await asyncio.to_thread(daemon.nvml.gpus)
    presets = []
    have = [m.name for m in models]
    for name in QUALITY_PRESETS:
        raw = daemon.settings.get(f"preset_{name}") or {}
        model = str(raw.get("model", ""))
        installed = model in have or bool(daemon.settings.get("model_download"))
        presets.append(PresetOut(
            name=name, model=model,
            compute_type=str(raw.get("compute_type", "")),
            beam_size=int(raw.get("beam_size", 0)), batch_size=int(raw.get("batch_size", 0)),
            installed=installed,
            falls_back_to=None if installed or not have else have[0],
        ))  # fmt: skip
    targets, any_target = await TranslationService(daemon.settings).targets()
    devices = [DeviceOut(type="cpu", id=None, name="CPU")] + [
        DeviceOut(type="gpu", id=int(g["id"]), name=str(g.get("name", "GPU"))) for g in gpus
    ]
    return CapabilitiesOut(
        version=daemon.version,
        models=[ModelOut(name=m.name, source=m.source) for m in models],
        presets=presets,
        devices=devices,
        output_formats=list(FORMATS),
        asr_languages=sorted(WHISPER_LANGUAGES),
        translation_targets=targets,
        translation_any_target=any_target,
        channels=list(CHANNELS),
        token_scopes=list(SCOPES),
        limits=LimitsOut(
            max_upload_bytes=int(daemon.settings.get("max_upload_mib")) * 1024 * 1024,
            max_workers=worker_cap(daemon.settings.get),
            max_page_size=500,
            max_bulk_ids=MAX_BULK,
            idempotency_window_hours=24,
        ),
        diarization=DiarizationOut(
            **diarization_capabilities(
                {
                    key: daemon.settings.get(key)
                    for key in ("diarization_pipeline", "huggingface_token", "diarization_enabled")
                }
            )
        ),
    )
