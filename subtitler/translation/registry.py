"""The configured provider, built from a settings mapping (the worker's snapshot or the
daemon's SettingsService values)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from subtitler.modelstore.store import models_dir_of
from subtitler.settings.specs.translation import PROVIDERS
from subtitler.translation.apertium import ApertiumProvider
from subtitler.translation.base import Provider
from subtitler.translation.ct2 import CTranslate2Provider
from subtitler.translation.deepl import DeepLProvider
from subtitler.translation.errors import TranslationUnavailable
from subtitler.translation.http import HttpProvider
from subtitler.translation.installed import (
    InstalledModelsProvider,
    is_model_name,
    named_model_dir,
)
from subtitler.translation.libretranslate import LibreTranslateProvider
from subtitler.translation.openai_chat import OpenAIProvider

WEB_PROVIDERS = ("openai", "libretranslate", "deepl")


def provider_name(settings: Mapping[str, Any]) -> str:
    return str(settings.get("translation_provider") or "none")


def make_provider(
    settings: Mapping[str, Any],
    *,
    name: str | None = None,
    device: str = "cpu",
    sleep: Callable[[float], None] | None = None,
) -> Provider:
    """The provider `name` (default: translation_provider) configured from `settings`."""
    name = name or provider_name(settings)
    if name == "none":
        raise TranslationUnavailable(
            "no translation provider is configured (setting translation_provider is none)"
        )
    if name not in PROVIDERS:
        raise TranslationUnavailable(f"unknown translation provider {name!r}")
    if name == "apertium":
        return ApertiumProvider()
    if name == "ctranslate2":
        return _ctranslate2(settings, device)
    http = _http(settings, name, sleep)
    if name == "openai":
        return OpenAIProvider(
            base_url=str(settings.get("openai_base_url") or ""),
            model=str(settings.get("openai_model") or ""),
            api_key=str(settings.get("openai_api_key") or ""),
            prompt=str(settings.get("openai_prompt") or ""),
            http=http,
            batch_size=int(settings.get("translation_batch_size", 20)),
            context_cues=int(settings.get("translation_context_cues", 3)),
            concurrency=int(settings.get("translation_concurrency", 2)),
        )
    if name == "libretranslate":
        provider: Provider = LibreTranslateProvider(
            url=str(settings.get("libretranslate_url") or ""),
            api_key=str(settings.get("libretranslate_api_key") or ""),
            http=http,
        )
    else:
        provider = DeepLProvider(
            api_key=str(settings.get("deepl_api_key") or ""),
            http=http,
            formality=str(settings.get("deepl_formality") or "default"),
            url=str(settings.get("deepl_api_url") or ""),
        )
    provider.concurrency = int(settings.get("translation_concurrency", 2))
    return provider


def _ctranslate2(settings: Mapping[str, Any], device: str) -> Provider:
    """A converted model directory, a model installed by name, or (empty) every installed one."""
    wanted = str(settings.get("ctranslate2_device") or "auto")
    kwargs: dict[str, Any] = {
        "family": str(settings.get("ctranslate2_model_family") or "auto"),
        "language_pair": str(settings.get("ctranslate2_language_pair") or ""),
        "device": device if wanted == "auto" else wanted,
        "compute_type": str(settings.get("ctranslate2_compute_type") or "int8"),
    }
    value = str(settings.get("ctranslate2_model_dir") or "").strip()
    models_dir = models_dir_of(settings)
    if not value:
        kwargs.update(family="auto", language_pair="")  # each installed model tells its own
        return InstalledModelsProvider.from_models_dir(models_dir, **kwargs)
    if is_model_name(value):
        value = str(named_model_dir(value, models_dir))
    return CTranslate2Provider(model_dir=value, **kwargs)


def _http(
    settings: Mapping[str, Any], name: str, sleep: Callable[[float], None] | None
) -> HttpProvider:
    extra: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
    return HttpProvider(
        name=name,
        timeout=float(settings.get("translation_timeout_seconds", 60.0)),
        max_retries=int(settings.get("translation_max_retries", 3)),
        backoff_base=float(settings.get("translation_retry_base_seconds", 2.0)),
        requests_per_minute=int(settings.get("translation_requests_per_minute", 0)),
        **extra,
    )
