"""Subtitle settings: cue readability limits (subtitler.subtitles.cues.CueStyle.from_settings) and
output naming/format/overwrite (subtitler.subtitles.naming.OutputOptions.from_settings)."""

from __future__ import annotations

import re
from typing import Any

from subtitler.settings.registry import SettingSpec

SUBTITLE_FORMATS = ("srt", "vtt", "ass", "lrc", "txt", "json")
LANGUAGE_STYLES = ("639-2b", "639-1", "639-2t", "name")
_TAG = re.compile(r"^[A-Za-z0-9_-]{0,32}$")


def _check_tag(value: str) -> None:
    if not _TAG.match(value):
        raise ValueError("must be empty or 1-32 letters, digits, '-' or '_'")


def _spec(key: str, value_type: str, default: object, description: str, **kw: Any) -> SettingSpec:
    return SettingSpec(
        key=key, category="subtitles", value_type=value_type, default=default,
        description=description, **kw,
    )  # fmt: skip


SPECS = [
    _spec("max_line_chars", "integer", 42, "Most characters on one subtitle line.", minimum=20,
          maximum=80),
    _spec("max_line_chars_cjk", "integer", 16,
          "Most characters on one line for Chinese, Japanese and Korean.", minimum=8, maximum=40),
    _spec("max_lines", "integer", 2, "Most lines in one cue.", minimum=1, maximum=3),
    _spec("min_cue_duration_ms", "integer", 833, "Shortest time a cue stays on screen (ms).",
          minimum=300, maximum=3000),
    _spec("max_cue_duration_ms", "integer", 7000, "Longest time a cue stays on screen (ms).",
          minimum=3000, maximum=15000),
    _spec("max_cps", "float", 20.0,
          "Reading speed limit in characters per second, met where the speech allows "
          "(17 suits children). Words are never dropped to meet it.", minimum=5, maximum=40),
    _spec("max_cps_cjk", "float", 11.0, "Reading speed limit for CJK text (characters/s).",
          minimum=3, maximum=30),
    _spec("min_gap_ms", "integer", 83,
          "Smallest gap between two cues (ms); 83 = 2 frames at 24 fps.", minimum=0, maximum=500),
    _spec("strip_sound_annotations", "boolean", False,
          "Remove sound and music annotations such as [Music], (laughs) and lyrics in notes."),
    _spec("subtitle_format", "string", "srt", "Default subtitle file format.",
          choices=SUBTITLE_FORMATS),
    _spec("subtitle_language_style", "string", "639-2b",
          "Language code style in file names: 639-2b (episode.ger.srt), 639-1 (episode.de.srt), "
          "639-2t (episode.deu.srt) or name (episode.German.srt).", choices=LANGUAGE_STYLES),
    _spec("subtitle_provenance_tag", "string", "",
          "Optional tag in file names marking generated subtitles, e.g. 'ai' -> "
          "episode.eng.ai.srt.",
          check=_check_tag),
    _spec("overwrite_existing_subtitles", "boolean", False,
          "Replace a subtitle file subtitler did not write; off means such a job fails with "
          "output_exists."),
]  # fmt: skip
