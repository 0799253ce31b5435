"""What the API asks of translation: the configured provider (reachable or not, its pairs) and a
test translation with latency. Providers are blocking: they run in a thread."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from subtitler.errors import SubtitlerError, Unprocessable
from subtitler.media.languages import require_language
from subtitler.settings.specs.translation import PROVIDERS, SPECS
from subtitler.translation.base import ensure_pair
from subtitler.translation.enqueue import quick_settings
from subtitler.translation.planning import SettingsLike
from subtitler.translation.registry import WEB_PROVIDERS, make_provider

logger = logging.getLogger(__name__)

SPEC_BY_KEY = {spec.key: spec for spec in SPECS}
MAX_TEST_CHARS = 2000
DEFAULT_SAMPLE = "Good evening. The weather will be sunny tomorrow."
# The settings each provider reads (besides the translation_* ones), for the UI's fields.
PROVIDER_FIELDS: dict[str, tuple[str, ...]] = {
    "none": (),
    "apertium": (),
    "ctranslate2": ("ctranslate2_model_dir", "ctranslate2_model_family",
                    "ctranslate2_language_pair", "ctranslate2_device", "ctranslate2_compute_type"),
    "openai": ("openai_base_url", "openai_model", "openai_api_key", "openai_prompt"),
    "libretranslate": ("libretranslate_url", "libretranslate_api_key"),
    "deepl": ("deepl_api_key", "deepl_formality", "deepl_api_url"),
}  # fmt: skip
REQUIRED: dict[str, tuple[str, ...]] = {
    "openai": ("openai_base_url", "openai_model"),
    "libretranslate": ("libretranslate_url",),
    "deepl": ("deepl_api_key",),
}
_MASKED = frozenset("*•")


class TranslationService:
    def __init__(self, settings: SettingsLike) -> None:
        self._settings = settings

    def describe_providers(self) -> list[dict[str, Any]]:
        return [
            {"name": name, "offline": name not in WEB_PROVIDERS,
             "fields": [_field(key, required=key in REQUIRED.get(name, ()))
                        for key in PROVIDER_FIELDS[name]]}
            for name in PROVIDERS
        ]  # fmt: skip

    async def status(self) -> dict[str, Any]:
        """The configured provider: reachable or not (and why), the pairs it offers."""
        values = quick_settings(self._settings)
        name = str(values.get("translation_provider") or "none")
        out: dict[str, Any] = {
            "provider": name,
            "english_via": values.get("translation_english_via"),
            "prefer_subtitles": values.get("translation_prefer_subtitles"),
            "reachable": False,
            "any_pair": False,
            "pairs": [],
            "detail": None,
            "code": None,
            "providers": self.describe_providers(),
        }
        if name == "none":
            out["detail"] = "no translation provider is configured"
            out["code"] = "translation_unavailable"
            return out

        def probe() -> None:
            provider = make_provider(values)
            try:
                provider.check()
                pairs = provider.pairs()
            finally:
                provider.close()
            out["reachable"] = True
            out["any_pair"] = pairs is None
            out["pairs"] = [{"source": p.source, "target": p.target} for p in pairs or []]

        try:
            await asyncio.to_thread(probe)
        except SubtitlerError as exc:
            out["detail"], out["code"] = exc.detail, exc.code
        return out

    async def targets(self) -> tuple[list[str], bool]:
        """The subtitle languages reachable now: English when Whisper translates into it, and
        the targets of the configured provider's pairs (an offline provider is asked; a web
        service is not called: it answers `any` = True). Installed models count through the
        ctranslate2 provider, which uses them."""
        values = quick_settings(self._settings)
        found: dict[str, None] = {}
        if str(values.get("translation_english_via") or "whisper") == "whisper":
            found["eng"] = None
        name = str(values.get("translation_provider") or "none")
        if name == "none":
            return list(found), False
        if name in WEB_PROVIDERS:
            return list(found), True

        def probe() -> list[str]:
            provider = make_provider(values)
            try:
                provider.check()
                pairs = provider.pairs()
            finally:
                provider.close()
            return [p.target for p in pairs or []]

        try:
            found.update(dict.fromkeys(sorted(await asyncio.to_thread(probe))))
        except SubtitlerError as exc:
            logger.debug("translation provider %s offers nothing now: %s", name, exc.detail)
        return list(found), False

    async def test(
        self,
        *,
        provider: str | None,
        source: str | None,
        target: str,
        text: str | None,
        overrides: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        values = self.effective(provider=provider, overrides=overrides)
        name = values["translation_provider"]
        src = require_language(source or "eng", field="source")
        tgt = require_language(target, field="target")
        sample = (text or DEFAULT_SAMPLE).strip()
        if not sample:
            raise Unprocessable("text: must not be empty", code="invalid_text")
        if len(sample) > MAX_TEST_CHARS:
            raise Unprocessable(f"text: at most {MAX_TEST_CHARS} characters", code="invalid_text")

        def run() -> tuple[str, float, str]:
            instance = make_provider(values, name=name)
            try:
                instance.check()
                ensure_pair(instance, src, tgt)
                started = time.monotonic()
                (translated,) = instance.translate([sample], source=src, target=tgt)
                return translated, time.monotonic() - started, instance.model
            finally:
                instance.close()

        translation, latency, model = await asyncio.to_thread(run)
        return {
            "provider": name, "model": model, "source": src, "target": tgt, "text": sample,
            "translation": translation, "latency_ms": round(latency * 1000, 1),
            "characters": len(sample),
        }  # fmt: skip

    def effective(
        self, *, provider: str | None, overrides: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """Stored settings + unsaved values from the form, validated (422 naming the field)."""
        values = quick_settings(self._settings)
        for key, raw in (overrides or {}).items():
            spec = SPEC_BY_KEY.get(key)
            if spec is None:
                raise Unprocessable(f"settings.{key}: not a translation setting",
                                    code="invalid_setting")  # fmt: skip
            if spec.secret and (raw is None or (str(raw) and set(str(raw)) <= _MASKED)):
                continue  # a masked or absent secret keeps the stored one
            try:
                values[key] = spec.parse(raw)
            except ValueError as exc:
                raise Unprocessable(f"settings.{key}: {exc}", code="invalid_setting") from None
        name = provider if provider is not None else values["translation_provider"]
        if name not in PROVIDERS:
            raise Unprocessable(
                f"provider: unknown translation provider {name!r}; one of {', '.join(PROVIDERS)}",
                code="unknown_provider",
            )
        if name == "none":
            raise Unprocessable("provider: none translates nothing; pick a provider",
                                code="unknown_provider")  # fmt: skip
        for key in REQUIRED.get(name, ()):
            if not str(values.get(key) or "").strip():
                raise Unprocessable(f"{key}: required for the {name} provider; it is empty",
                                    code="missing_setting")  # fmt: skip
        values["translation_provider"] = name
        return values


def _field(key: str, *, required: bool) -> dict[str, Any]:
    spec = SPEC_BY_KEY[key]
    return {
        "key": key,
        "secret": spec.secret,
        "value_type": spec.value_type,
        "choices": list(spec.choices or []),
        "required": required,
        "description": spec.description,
    }
