"""Sidecar names: language, forced / hearing-impaired tags, and which media file owns them."""

from __future__ import annotations

from pathlib import Path

import pytest

from subtitler.media.sidecars import find_sidecars, parse_sidecar_name, sidecars_by_media


@pytest.mark.parametrize(
    ("name", "language", "tag", "forced", "hi", "fmt", "is_text", "tags"),
    [
        ("Movie.en.srt", "eng", "en", False, False, "srt", True, []),
        ("Movie.eng.forced.srt", "eng", "eng", True, False, "srt", True, []),
        ("Movie.English.sdh.srt", "eng", "English", False, True, "srt", True, []),
        ("Movie.pt-BR.srt", "por", "pt-BR", False, False, "srt", True, []),
        ("Movie.srt", None, None, False, False, "srt", True, []),
        ("Movie.ger.vtt", "deu", "ger", False, False, "vtt", True, []),
        ("Movie.fr.cc.ASS", "fra", "fr", False, True, "ass", True, []),
        ("Movie.es.hi.ssa", "spa", "es", False, True, "ssa", True, []),
        ("Movie.hi.srt", "hin", "hi", False, False, "srt", True, []),  # alone, hi is Hindi
        ("Movie.forced.srt", None, None, True, False, "srt", True, []),
        ("Movie.jpn.ai.sdh.srt", "jpn", "jpn", False, True, "srt", True, ["ai"]),
        ("Movie.en.sup", "eng", "en", False, False, "sup", False, []),
        ("Movie.en.idx", "eng", "en", False, False, "vobsub", False, []),
        ("Movie.en.sub", "eng", "en", False, False, "sub", True, []),
    ],
)
def test_parse_names(
    name: str,
    language: str | None,
    tag: str | None,
    forced: bool,
    hi: bool,
    fmt: str,
    is_text: bool,
    tags: list[str],
) -> None:
    sub = parse_sidecar_name("Movie", name)
    assert sub is not None
    assert (sub.language, sub.language_tag, sub.forced, sub.hearing_impaired) == (
        language,
        tag,
        forced,
        hi,
    )
    assert (sub.format, sub.is_text, sub.tags) == (fmt, is_text, tags)


@pytest.mark.parametrize("name", ["Movie.mkv", "Movie.en.txt", "Moviex.en.srt", "Other.srt"])
def test_not_a_sidecar(name: str) -> None:
    assert parse_sidecar_name("Movie", name) is None


def test_longest_stem_owns_the_sidecar_and_vobsub_pairs_once() -> None:
    names = [
        "Movie.mkv",
        "Movie.Part2.mkv",
        "Movie.en.srt",
        "Movie.Part2.en.srt",
        "Movie.Part2.de.idx",
        "Movie.Part2.de.sub",
        "Movie.2020.1080p.mkv",
        "Movie.2020.1080p.spa.srt",
        "notes.txt",
    ]
    media = [n for n in names if n.endswith(".mkv")]
    found = sidecars_by_media("/lib/Films", names=names, media_names=media)
    assert [s.path for s in found["Movie.mkv"]] == ["/lib/Films/Movie.en.srt"]
    assert [(s.path, s.format) for s in found["Movie.Part2.mkv"]] == [
        ("/lib/Films/Movie.Part2.de.idx", "vobsub"),
        ("/lib/Films/Movie.Part2.en.srt", "srt"),
    ]
    assert [s.language for s in found["Movie.2020.1080p.mkv"]] == ["spa"]


def test_find_sidecars_uses_a_given_listing_without_touching_disk() -> None:
    subs = find_sidecars(
        "/nowhere/Show S01E01.mkv",
        names=["Show S01E01.mkv", "Show S01E01.en.srt", "Show S01E01.extended.mkv"],
    )
    assert [s.path for s in subs] == ["/nowhere/Show S01E01.en.srt"]


def test_find_sidecars_lists_the_folder(tmp_path: Path) -> None:
    video = tmp_path / "Film ünïcode.mkv"
    video.write_bytes(b"")
    (tmp_path / "Film ünïcode.Français.forced.srt").write_text("", encoding="utf-8")
    (tmp_path / "Film ünïcode.nfo").write_text("", encoding="utf-8")
    (sub,) = find_sidecars(video)
    assert (sub.language, sub.forced, sub.path) == (
        "fra",
        True,
        str(tmp_path / "Film ünïcode.Français.forced.srt"),
    )
    assert find_sidecars(tmp_path / "missing" / "x.mkv") == []
