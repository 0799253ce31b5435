"""Probe real generated media with PyAV: tags, dispositions, subtitles, durations, errors."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from subtitler.errors import BadRequest, NotFound
from subtitler.media.probe import MediaInfo, NotMedia, probe_file
from tests.mediagen import Audio, Spec, Sub, make_media, write_srt


@pytest.fixture(scope="module")
def gen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("probe")


def test_mkv_tracks_languages_and_dispositions(gen: Path) -> None:
    spec = Spec(
        audio=(
            Audio(language="ger", default=True, channels=2),
            Audio(language="eng", title="Director's Commentary"),
            Audio(language="jpn", visual_impaired=True),
            Audio(),
        ),
        subs=(
            Sub(language="fre", title="Full"),
            Sub(language="eng", forced=True),
            Sub(language="eng", hearing_impaired=True),
            Sub(language="fre", image=True),
        ),
        duration=2.0,
    )
    info = probe_file(make_media(gen / "Multi Track ünï.mkv", spec))
    assert info.is_video and info.container == "matroska,webm"
    assert info.duration_seconds == pytest.approx(2.0, abs=0.1)  # from the container/DURATION tag
    ger, com, desc, untagged = info.audio_tracks
    assert [t.index for t in info.audio_tracks] == [0, 1, 2, 3]
    assert [t.stream_index for t in info.audio_tracks] == [1, 2, 3, 4]
    assert (ger.language, ger.language_tag, ger.channels, ger.default, ger.codec) == (
        "deu",
        "ger",
        2,
        True,
        "aac",
    )
    assert com.commentary and com.title == "Director's Commentary" and not ger.commentary
    assert desc.visual_impaired and desc.language == "jpn"
    assert (untagged.language, untagged.language_tag) == (None, None)  # mkv: no tag at all
    full, forced, sdh, pgs = info.embedded_subtitles
    assert (full.codec, full.language, full.title, full.is_text) == ("subrip", "fra", "Full", True)
    assert forced.forced and not full.forced
    assert sdh.hearing_impaired
    assert (pgs.codec, pgs.is_text, pgs.language, pgs.index) == (
        "hdmv_pgs_subtitle",
        False,
        "fra",
        3,
    )


def test_mp4_untagged_audio_is_und_and_mov_text_is_text(gen: Path) -> None:
    spec = Spec(
        audio=(Audio(), Audio(language="spa", title="Commentary")), subs=(Sub(language="eng"),)
    )
    info = probe_file(make_media(gen / "clip.mp4", spec))
    first, second = info.audio_tracks
    assert (first.language, first.language_tag) == (None, "und")
    assert second.commentary and second.language == "spa"
    (sub,) = info.embedded_subtitles
    assert (sub.codec, sub.is_text, sub.language) == ("mov_text", True, "eng")
    assert info.duration_seconds == pytest.approx(1.0, abs=0.1)


def test_audio_only_file_is_not_video(gen: Path) -> None:
    info = probe_file(
        make_media(gen / "talk.m4a", Spec(video=False, audio=(Audio(language="fra"),)))
    )
    assert not info.is_video and [t.language for t in info.audio_tracks] == ["fra"]


def test_sidecars_and_json_round_trip(gen: Path) -> None:
    folder = gen / "side"
    video = make_media(folder / "Film.mkv")
    write_srt(folder / "Film.pt-BR.srt")
    write_srt(folder / "Film.eng.forced.srt")
    info = probe_file(video)
    assert {(s.language, s.forced) for s in info.external_subtitles} == {
        ("por", False),
        ("eng", True),
    }
    st = video.stat()
    assert (info.size, info.mtime_ns, info.path) == (st.st_size, st.st_mtime_ns, str(video))
    cached = MediaInfo.model_validate(info.model_dump(mode="json"))  # MediaProbe.info
    assert cached == info
    assert probe_file(video, sidecars=[]).external_subtitles == []


@pytest.mark.parametrize("content", [b"", b"\x00" * 4096, b"just some text\n" * 50])
def test_garbage_is_not_media(gen: Path, content: bytes) -> None:
    bad = gen / "bad.mkv"
    bad.write_bytes(content)
    with pytest.raises(NotMedia) as err:
        probe_file(bad)
    assert (err.value.status, err.value.code) == (422, "not_media")
    assert "Not a media file" in err.value.detail


def test_subtitle_only_file_is_not_media(gen: Path) -> None:
    srt = write_srt(gen / "only.srt")
    with pytest.raises(NotMedia, match="no audio or video"):
        probe_file(srt)


def test_missing_and_directory(gen: Path) -> None:
    with pytest.raises(NotFound) as missing:
        probe_file(gen / "nope.mkv")
    assert missing.value.status == 404
    with pytest.raises(BadRequest) as folder:
        probe_file(gen)
    assert folder.value.status == 400 and folder.value.code == "not_a_file"


def test_probe_is_cheap(gen: Path) -> None:
    video = make_media(gen / "speed.mkv", Spec(audio=(Audio(language="eng"), Audio())))
    probe_file(video, sidecars=[])
    start = time.perf_counter()
    for _ in range(50):
        probe_file(video, sidecars=[])
    per_file = (time.perf_counter() - start) / 50
    assert per_file < 0.02, f"{per_file * 1000:.1f} ms a file"
