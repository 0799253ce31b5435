"""Translation providers and the translate stage (issue 9), read by subtitler.translation."""

from __future__ import annotations

from urllib.parse import urlsplit

from subtitler.security.outbound import setting_check as outbound_setting_check
from subtitler.settings.registry import SettingSpec

PROVIDERS = ("none", "apertium", "ctranslate2", "openai", "libretranslate", "deepl")
ENGLISH_VIA = ("whisper", "provider")
FORMALITIES = ("default", "more", "less", "prefer_more", "prefer_less")
CT2_FAMILIES = ("auto", "nllb", "m2m100", "opus-mt")


def check_url(value: object) -> None:
    """Empty, or an http(s) URL with a host (no credentials in it)."""
    text = str(value or "").strip()
    if not text:
        return
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http:// or https:// URL with a host, got {text!r}")
    if parts.username or parts.password:
        raise ValueError("must not carry credentials; use the key setting")
    if parts.query or parts.fragment:
        raise ValueError("must not have a query or fragment")
    outbound_setting_check(text)


def _check_languages(values: list[str]) -> None:
    from subtitler.media.languages import parse_language

    for item in values:
        if parse_language(item) is None:
            raise ValueError(f"{item!r} is not a language")


def _spec(
    key: str, value_type: str, default: object, description: str, **kw: object
) -> SettingSpec:
    return SettingSpec(key=key, category="translation", value_type=value_type, default=default,
                       description=description, **kw)  # type: ignore[arg-type]  # fmt: skip


SPECS: list[SettingSpec] = [
    _spec("translation_provider", "string", "apertium", "Translates cues when a job's target "
          "language is not the audio's: none, apertium (offline, few pairs), ctranslate2 (local "
          "NLLB/M2M-100/OPUS-MT model), openai (any OpenAI-compatible chat endpoint), "
          "libretranslate or deepl.", choices=PROVIDERS),
    _spec("translation_english_via", "string", "whisper", "An English target from other audio: "
          "whisper (Whisper's translate task, no provider needed) or provider (transcribe in the "
          "audio's language, then translate).", choices=ENGLISH_VIA),
    _spec("translation_prefer_subtitles", "boolean", True, "When a file already has a text "
          "subtitle (sidecar or embedded) in an accepted source language, translate it instead "
          "of listening to the audio (job type subtitle_translation)."),
    _spec("translation_source_languages", "list", [], "Subtitle languages accepted as a source "
          "for subtitle_translation, in order of preference (empty: any the provider can "
          "translate from; the audio's language first).", check=_check_languages),
    _spec("translation_max_retries", "integer", 3, "Retries of a transient provider error "
          "(timeout, HTTP 429/5xx) before the job fails with translation_provider_error.",
          minimum=0, maximum=10),
    _spec("translation_retry_base_seconds", "float", 2.0, "First retry delay; doubles each "
          "retry (a Retry-After header wins).", minimum=0, maximum=60),
    _spec("translation_timeout_seconds", "float", 60.0, "Timeout of one provider request.",
          minimum=1, maximum=600),
    _spec("translation_batch_size", "integer", 20, "Cues per request to a chat (openai) "
          "provider; other providers take larger batches.", minimum=1, maximum=200),
    _spec("translation_context_cues", "integer", 3, "Earlier cues sent with each chat batch "
          "as context (not translated).", minimum=0, maximum=20),
    _spec("translation_concurrency", "integer", 2, "Requests in flight at once to a web "
          "provider.", minimum=1, maximum=16),
    _spec("translation_requests_per_minute", "integer", 0, "Most requests a minute to a web "
          "provider (0: no limit).", minimum=0, maximum=10000),
    _spec("openai_base_url", "string", "", "OpenAI-compatible API base, e.g. "
          "http://localhost:11434/v1 (Ollama), http://localhost:8080/v1 (llama.cpp), "
          "https://api.openai.com/v1.", check=check_url),
    _spec("openai_model", "string", "", "Chat model name, e.g. qwen2.5:7b or gpt-4o-mini."),
    _spec("openai_api_key", "string", "", "Bearer key of the chat endpoint (write-only).",
          secret=True),
    _spec("openai_prompt", "string", "", "System prompt ({source} and {target} are filled in); "
          "empty: the built-in subtitle translator prompt."),
    _spec("libretranslate_url", "string", "", "LibreTranslate base URL, e.g. "
          "http://localhost:5000.", check=check_url),
    _spec("libretranslate_api_key", "string", "", "LibreTranslate API key, if the server "
          "wants one (write-only).", secret=True),
    _spec("deepl_api_key", "string", "", "DeepL API key (write-only); keys ending in :fx use "
          "the free endpoint.", secret=True),
    _spec("deepl_formality", "string", "default", "DeepL formality: default, more, less, "
          "prefer_more, prefer_less.", choices=FORMALITIES),
    _spec("deepl_api_url", "string", "", "Override the DeepL endpoint (empty: from the key).",
          check=check_url),
    _spec("ctranslate2_model_dir", "string", "", "A model installed by name in System > Models "
          "(e.g. nllb-200-distilled-600M), or the directory of a model converted with "
          "ct2-transformers-converter (+ its sentencepiece model); empty: every installed "
          "translation model."),
    _spec("ctranslate2_model_family", "string", "auto", "nllb, m2m100, opus-mt or auto "
          "(from the directory's files).", choices=CT2_FAMILIES),
    _spec("ctranslate2_language_pair", "string", "", "An OPUS-MT model's pair, e.g. eng-spa "
          "(empty: from an opus-mt-xx-yy folder name)."),
    _spec("ctranslate2_device", "string", "auto", "auto (the worker's device), cpu or cuda.",
          choices=("auto", "cpu", "cuda")),
    _spec("ctranslate2_compute_type", "string", "int8", "CTranslate2 compute type.",
          choices=("int8", "int8_float32", "float32", "float16", "int8_float16", "default")),
]  # fmt: skip
