"""Walk a generated library: candidates, sidecars from the same listing, skips by reason."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from subtitler.scanner import WalkOptions, WalkStats, file_skip_reason, is_ignored, walk
from subtitler.settings import REGISTRY
from tests.mediagen import Library, make_library


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Library:
    return make_library(tmp_path_factory.mktemp("library"))


def test_walk_finds_media_with_sidecars_and_counts_skips(lib: Library) -> None:
    stats = WalkStats()
    found = {Path(c.path): c for c in walk([lib.root], stats=stats)}
    assert set(found) == set(lib.media.values())
    film = found[lib.media["film_untagged"]]
    assert [(Path(s.path).name, s.language, s.forced) for s in film.sidecars] == [
        ("Untagged Film.en.srt", "eng", False),
        ("Untagged Film.eng.forced.srt", "eng", True),
        ("Untagged Film.srt", None, False),
    ]
    assert [s.language for s in found[lib.media["anime_e1"]].sidecars] == ["spa"]
    assert found[lib.media["anime_e2"]].sidecars == []
    st = lib.media["film_mp4"].stat()
    assert (found[lib.media["film_mp4"]].size, found[lib.media["film_mp4"]].mtime_ns) == (
        st.st_size,
        st.st_mtime_ns,
    )
    # .DS_Store, ._Film, @eaDir, #recycle, .Trash-1000 / .part, .!qB / -sample / notes.txt / Extras
    assert stats.skipped == {"junk": 5, "partial": 2, "sample": 1, "not_media": 1, "ignored": 1}
    assert stats.media_files == 6 and stats.sidecar_files == 6 and stats.errors == []
    # root, Anime, Show, Season 01, Films, Nested, Deep, Audio, Extras (listed, then ignored)
    assert stats.directories == 9


def test_non_recursive_and_several_roots(lib: Library) -> None:
    films = lib.root / "Films"
    shallow = [Path(c.path) for c in walk([films], options=WalkOptions(recursive=False))]
    assert sorted(shallow) == sorted([lib.media["film_untagged"], lib.media["film_mp4"]])
    both = [Path(c.path) for c in walk([films / "Nested", lib.root / "Audio"])]
    assert both == [lib.media["film_pgs"], lib.media["podcast"]]


def test_sample_threshold_and_extensions_come_from_settings(lib: Library) -> None:
    defaults = {key: spec.default for key, spec in REGISTRY.items()}
    from_defaults = WalkOptions.from_settings(defaults)
    assert from_defaults.confine  # the allowed folders (here SUBTITLER_ALLOWED_PATHS), resolved
    assert dataclasses.replace(from_defaults, confine=()) == WalkOptions()
    keep_samples = WalkOptions.from_settings({**defaults, "scanner_sample_max_mb": 0})
    names = {Path(c.path).name for c in walk([lib.root / "Films"], options=keep_samples)}
    assert "Untagged Film-sample.mkv" in names
    video_only = WalkOptions.from_settings({**defaults, "scanner_media_extensions": [".mkv"]})
    stats = WalkStats()
    paths = {Path(c.path) for c in walk([lib.root], options=video_only, stats=stats)}
    assert lib.media["podcast"] not in paths and lib.media["film_mp4"] not in paths
    assert stats.skipped["not_media"] == 3  # notes.txt, Film Two.mp4, episode.m4a


def test_symlink_loop_is_walked_once(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.mkv").write_bytes(b"\0")
    (tmp_path / "a" / "loop").symlink_to(tmp_path)
    assert [Path(c.path).name for c in walk([tmp_path])] == ["x.mkv"]


def test_unreadable_folder_is_counted_not_fatal(tmp_path: Path) -> None:
    stats = WalkStats()
    assert list(walk([tmp_path / "missing"], stats=stats)) == []
    assert stats.skipped["unreadable"] == 1 and "missing" in stats.errors[0]


@pytest.mark.parametrize(
    ("rel", "size", "reason"),
    [
        ("Films/Movie.mkv", 10, None),
        ("Films/.DS_Store", 10, "junk"),
        ("Films/@eaDir/Movie.mkv", 10, "junk"),
        ("Films/._Movie.mkv", 10, "junk"),
        ("Films/Movie.mkv.part", 10, "partial"),
        ("Films/Movie.mkv.crdownload", 10, "partial"),
        ("Films/Movie.sample.mkv", 10, "sample"),
        ("Films/Sample/Movie.mkv", 10, "sample"),
        ("Films/Movie-sample.mkv", 10**10, None),
        ("Films/Movie.nfo", 10, "not_media"),
    ],
)
def test_file_skip_reason_for_watcher_events(rel: str, size: int, reason: str | None) -> None:
    assert file_skip_reason(Path("/lib") / rel, size=size, options=WalkOptions()) == reason


def test_a_hidden_library_root_is_not_junk() -> None:
    movie = Path("/mnt/.media/Films/Movie.mkv")
    assert file_skip_reason(movie, size=10, options=WalkOptions()) == "junk"
    assert file_skip_reason(movie, size=10, options=WalkOptions(), root="/mnt/.media") is None


def test_is_ignored_checks_marker_folders_up_to_the_root(lib: Library) -> None:
    assert is_ignored(lib.ignored[0], roots=[lib.root])
    assert not is_ignored(lib.media["film_pgs"], roots=[lib.root])
    assert not is_ignored(lib.ignored[0], roots=[lib.root / "Films"])  # not under that root
