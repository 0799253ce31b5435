"""Subtitle file names: language styles, provenance tag, forced/SDH, odd video names."""

from __future__ import annotations

from pathlib import Path

import pytest

from subtitler.errors import BadRequest
from subtitler.settings import REGISTRY
from subtitler.subtitles.naming import OutputOptions, language_label, subtitle_path

VIDEO = Path("/media/anime/episode.mkv")


@pytest.mark.parametrize(
    ("language", "style", "expected"),
    [
        ("spa", "639-2b", "episode.spa.srt"),
        ("es", "639-2b", "episode.spa.srt"),
        ("deu", "639-2b", "episode.ger.srt"),
        ("de", "639-2t", "episode.deu.srt"),
        ("ger", "639-1", "episode.de.srt"),
        ("fre", "639-1", "episode.fr.srt"),
        ("jpn", "name", "episode.Japanese.srt"),
        ("German", "639-2b", "episode.ger.srt"),
        (None, "639-2b", "episode.und.srt"),
        ("und", "639-1", "episode.und.srt"),
        ("haw", "639-1", "episode.haw.srt"),  # no 2-letter code: falls back to 639-2
    ],
)
def test_language_styles(language: str | None, style: str, expected: str) -> None:
    path = subtitle_path(VIDEO, language=language, options=OutputOptions(language_style=style))
    assert path == VIDEO.with_name(expected)


@pytest.mark.parametrize(
    ("options", "flags", "expected"),
    [
        (OutputOptions(tag="ai"), {}, "episode.eng.ai.srt"),
        (OutputOptions(), {"forced": True}, "episode.eng.forced.srt"),
        (OutputOptions(tag="ai", fmt="vtt"), {"sdh": True}, "episode.eng.ai.sdh.vtt"),
        (OutputOptions(fmt="ass"), {}, "episode.eng.ass"),
        (OutputOptions(fmt="lrc"), {}, "episode.eng.lrc"),
        (OutputOptions(fmt="json"), {}, "episode.eng.json"),
    ],
)
def test_tag_flags_and_formats(
    options: OutputOptions, flags: dict[str, bool], expected: str
) -> None:
    assert subtitle_path(VIDEO, language="eng", options=options, **flags).name == expected


def test_names_with_spaces_dots_and_unicode_keep_their_base() -> None:
    video = Path("/media/Films/Amélie (2001) 1080p.x264.mkv")
    path = subtitle_path(video, language="fra")
    assert path == video.parent / "Amélie (2001) 1080p.x264.fre.srt"


@pytest.mark.parametrize(
    ("options", "flags", "code"),
    [
        (OutputOptions(tag="a b"), {}, "bad_provenance_tag"),
        (OutputOptions(fmt="docx"), {}, "bad_format"),
        (OutputOptions(language_style="iso"), {}, "bad_language_style"),
        (OutputOptions(), {"forced": True, "sdh": True}, "bad_request"),
    ],
)
def test_bad_options_are_refused(options: OutputOptions, flags: dict[str, bool], code: str) -> None:
    with pytest.raises(BadRequest) as err:
        subtitle_path(VIDEO, language="eng", options=options, **flags)
    assert err.value.code == code


def test_options_from_settings() -> None:
    settings = {key: spec.default for key, spec in REGISTRY.items()}
    assert OutputOptions.from_settings(settings) == OutputOptions()
    custom = OutputOptions.from_settings(
        {
            **settings,
            "subtitle_format": "vtt",
            "subtitle_language_style": "639-1",
            "subtitle_provenance_tag": "ai",
            "overwrite_existing_subtitles": True,
        }
    )
    assert custom == OutputOptions(fmt="vtt", language_style="639-1", tag="ai", overwrite=True)
    assert subtitle_path(VIDEO, language="spa", options=custom).name == "episode.es.ai.vtt"
    assert OutputOptions.from_settings(settings, fmt="json").fmt == "json"
    assert language_label("spa", "name") == "Spanish"
