"""Translation API: /api/translation (providers, test)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from subtitler.api.deps import get_daemon
from subtitler.daemon import Daemon
from subtitler.translation.service import TranslationService

router = APIRouter(prefix="/api/translation", tags=["translation"])


class TranslationTest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str | None = Field(default=None, description="default: translation_provider")
    source: str | None = Field(default=None, description="source language (default eng)")
    target: str = Field(description="target language, e.g. spa or es")
    text: str | None = Field(default=None, max_length=2000, description="sample to translate")
    settings: dict[str, Any] | None = Field(
        default=None, description="unsaved translation settings to try (e.g. the form's values)"
    )


class TranslationTestOut(BaseModel):
    provider: str
    model: str
    source: str
    target: str
    text: str
    translation: str
    latency_ms: float
    characters: int


def _service(daemon: Daemon = Depends(get_daemon)) -> TranslationService:
    return TranslationService(daemon.settings)


@router.get("/providers")
async def providers(service: TranslationService = Depends(_service)) -> dict[str, Any]:
    """The configured provider, whether it is reachable, the pairs it offers, and every
    provider with the settings it reads."""
    return await service.status()


@router.post("/test", response_model=TranslationTestOut)
async def test(
    body: TranslationTest, service: TranslationService = Depends(_service)
) -> dict[str, Any]:
    """Translate a sample with the configured provider (or the form's unsaved values)."""
    return await service.test(provider=body.provider, source=body.source, target=body.target,
                              text=body.text, overrides=body.settings)  # fmt: skip
