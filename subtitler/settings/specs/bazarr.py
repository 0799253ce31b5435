"""The ASR provider (Bazarr's /asr, /detect-language; OpenAI-style /v1/audio/*): read by
subtitler.asr and the worker's ASR pipeline."""

from __future__ import annotations

from subtitler.settings.registry import SettingSpec
from subtitler.settings.specs.transcription import QUALITY_PRESETS

SPECS = [
    SettingSpec(
        key="asr_heartbeat",
        advanced=True,
        category="bazarr",
        value_type="boolean",
        default=True,
        description=(
            "Answer /asr at once with 200 and a newline every few seconds until the subtitle is "
            "ready, so Bazarr's read timeout never fires (srt, vtt, txt and json). Off: errors "
            "are non-200 JSON with detail."
        ),
    ),
    SettingSpec(
        key="asr_heartbeat_seconds",
        advanced=True,
        category="bazarr",
        value_type="float",
        default=5.0,
        minimum=0.2,
        maximum=60,
        description="Seconds between heartbeat newlines on a waiting /asr answer.",
    ),
    SettingSpec(
        key="asr_result_ttl_hours",
        advanced=True,
        category="bazarr",
        value_type="float",
        default=6.0,
        minimum=0,
        maximum=24 * 30,
        description=(
            "Hours a finished /asr or /detect-language result is kept, so Bazarr's retries of "
            "the same audio are answered at once."
        ),
    ),
    SettingSpec(
        key="asr_job_priority",
        category="bazarr",
        value_type="integer",
        default=100,
        minimum=-1000,
        maximum=1000,
        description="Queue priority of ASR jobs (higher runs first; library jobs default to 0).",
    ),
    SettingSpec(
        key="asr_quality_preset",
        category="bazarr",
        value_type="string",
        default="balanced",
        choices=QUALITY_PRESETS,
        description="Quality preset of ASR jobs (fast, balanced or best).",
    ),
    SettingSpec(
        key="asr_strip_sound_annotations",
        category="bazarr",
        value_type="boolean",
        default=True,
        description=(
            "Drop sound and music annotations ([Music], (laughs), ♪ … ♪) from ASR answers, so "
            "Bazarr does not save them as hearing-impaired (.hi.srt) files."
        ),
    ),
    SettingSpec(
        key="path_mappings",
        advanced=True,
        category="bazarr",
        value_type="json",
        default=[],
        check=lambda v: _check_mappings(v),
        description=(
            'Path mappings from Bazarr\'s paths to ours, e.g. [["/tv", "/media/tv"]]: a '
            "video_file Bazarr names is looked up here and recorded in the job's log."
        ),
    ),
]


def _check_mappings(value: object) -> None:
    if not isinstance(value, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
        for pair in value
    ):
        raise ValueError('expected a list of ["from", "to"] pairs')
