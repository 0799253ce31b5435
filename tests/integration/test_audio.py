"""Audio track choice and extraction with real ffmpeg on generated media."""

from __future__ import annotations

import numpy as np
import pytest

from subtitler.errors import SubtitlerError
from subtitler.media.audio import SAMPLE_RATE, choose_audio_track, extract_audio, probe_audio
from subtitler.workers.engine import Cancelled, speech_spans
from tests.speechgen import ENGLISH, GERMAN, MediaFactory, Track


@pytest.fixture(scope="module")
def two_tracks(media: MediaFactory):
    german = media.speech(GERMAN[:120], voice="de")
    english = media.speech(ENGLISH[:120], voice="en-us+f3")
    commentary = media.speech("This is the director speaking about the scene.", voice="en-gb")
    return media.mkv(
        [
            Track(german, language="ger", default=True),
            Track(english, language="eng"),
            Track(commentary, language="eng", title="Director's Commentary"),
        ]
    )


def test_probe_and_choice_of_track(two_tracks) -> None:
    tracks, duration = probe_audio(two_tracks)
    assert [(t.index, t.language, t.default, t.commentary) for t in tracks] == [
        (0, "deu", True, False),
        (1, "eng", False, False),
        (2, "eng", False, True),
    ]
    assert duration and duration > 3
    assert choose_audio_track(tracks, source_lang="en")[0].index == 1
    assert choose_audio_track(tracks, source_lang="fre")[0].index == 0  # default flag
    chosen, why = choose_audio_track(tracks, preferred_languages=["jpn", "eng"])
    assert chosen.index == 1 and "preferred" in why
    no_default = [t for t in tracks if not t.default]
    assert choose_audio_track(no_default)[0].index == 1  # commentary skipped
    with pytest.raises(SubtitlerError) as err:
        choose_audio_track([])
    assert err.value.code == "no_audio_stream"


def test_extracts_the_chosen_track(two_tracks) -> None:
    german = extract_audio(two_tracks, track=0)
    english = extract_audio(two_tracks, track=1)
    assert german.samples.dtype == np.float32 and german.samples.ndim == 1
    assert abs(german.duration - english.duration) > 0.2  # different speech, different length
    assert speech_spans(english.samples)  # speech found
    with pytest.raises(SubtitlerError) as err:
        extract_audio(two_tracks, track=5)
    assert err.value.code == "no_audio_stream"


def test_audio_start_time_is_compensated(media: MediaFactory) -> None:
    speech = media.speech("Start time test, one two three.", voice="en-us")
    late = media.mkv([Track(speech, language="eng", delay=2.0)])
    tracks, _ = probe_audio(late)
    assert tracks[0].start_time == pytest.approx(2.0, abs=0.05)
    audio = extract_audio(late)
    assert audio.offset == pytest.approx(2.0, abs=0.05)
    assert not np.any(audio.samples[: int(1.9 * SAMPLE_RATE)])  # padded with silence
    assert np.any(audio.samples[int(2.0 * SAMPLE_RATE) : int(2.5 * SAMPLE_RATE)])
    assert speech_spans(audio.samples)[0][0] >= 1.5  # VAD pads speech by 0.4 s
    plain = extract_audio(media.mkv([Track(speech, language="eng")]))
    assert plain.offset == 0.0
    assert audio.duration - plain.duration == pytest.approx(2.0, abs=0.1)


def test_names_with_spaces_and_unicode(media: MediaFactory) -> None:
    speech = media.speech("A file with an odd name.", voice="en-us")
    odd = media.mkv([Track(speech)], name="Amélie été (2001) – 日本 .mkv")
    assert extract_audio(odd).decoded_seconds > 1


def test_bad_media(media: MediaFactory) -> None:
    long = media.concat([media.silence(14.0), media.speech(ENGLISH, voice="en-us")])
    whole = media.mkv([Track(long, language="eng")])
    assert extract_audio(whole).decoded_seconds > 20
    cases = {
        media.truncated(whole, keep=0.4): "media_truncated",
        media.empty(): "media_unreadable",
        media.garbage(): "media_unreadable",
        media.mkv([], video=True): "no_audio_stream",
        whole.with_name("missing.mkv"): "media_not_found",
    }
    for path, code in cases.items():
        with pytest.raises(SubtitlerError) as err:
            extract_audio(path)
        assert err.value.code == code, path.name
        if code == "media_unreadable":  # what ffmpeg says, not where the file lies
            assert str(path.parent) not in err.value.detail and "Errno" not in err.value.detail


def test_extraction_can_be_cancelled(media: MediaFactory) -> None:
    speech = media.mkv([Track(media.speech(ENGLISH, voice="en-us"))])
    with pytest.raises(Cancelled):
        extract_audio(speech, cancel=lambda: True)
