"""The cue builder and hallucination filter against the norms of subtitle-style.md (pure)."""

from __future__ import annotations

import itertools

import pysubs2
import pytest

from subtitler.settings import REGISTRY
from subtitler.subtitles.cleanup import clean_segments
from subtitler.subtitles.cues import Cue, CueStyle, Segment, Word, build_cues, wrap
from subtitler.subtitles.formats import render
from tests import subnorms

LONG = (
    "Hello and welcome to the evening news. Today we are talking about the weather in London, "
    "which has been rainy for three weeks, and about the trains that stopped running on Monday "
    "because of the floods. The number of visitors fell sharply this month, and the shops on the "
    "high street say they have never seen a quieter summer. Thank you for listening, and see you "
    "next time."
)


def words_of(text: str, *, start: float = 0.0, cps: float = 15.0, gap: float = 0.0) -> list[Word]:
    """Word timings for `text` spoken at `cps` characters a second, `gap` s between words."""
    out, t = [], start
    for i, token in enumerate(text.split()):
        length = max(0.12, (len(token) + 1) / cps)
        out.append(Word(start=t, end=t + length, word=(" " if i else "") + token))
        t += length + gap
    return out


def seg(words: list[Word], **kw: float) -> Segment:
    return Segment(
        start=words[0].start,
        end=words[-1].end,
        text="".join(w.word for w in words),
        words=tuple(words),
        **kw,
    )


def as_subs(cues: list[Cue]) -> pysubs2.SSAFile:
    return pysubs2.SSAFile.from_string(render(cues, fmt="srt"))


def spoken(cues: list[Cue]) -> list[str]:
    return " ".join(" ".join(c.lines) for c in cues).split()


@pytest.mark.parametrize(
    ("name", "text", "cps", "gap"),
    [
        ("normal speech", LONG, 15.0, 0.0),
        ("slow speech with pauses", LONG, 10.0, 0.3),
        ("fast speech", LONG, 30.0, 0.0),
        ("very fast speech", LONG, 45.0, 0.0),
    ],
)
def test_every_norm_holds_and_no_word_is_lost(name: str, text: str, cps: float, gap: float) -> None:
    cues = build_cues([seg(words_of(text, cps=cps, gap=gap))])
    hard, soft = subnorms.check(as_subs(cues))
    assert hard == [], name
    assert spoken(cues) == text.split(), "words are never dropped or reordered"
    if cps <= 15:
        assert soft == [], name
    for a, b in itertools.pairwise(cues):
        assert b.start - a.end >= 0.083 - 1e-9


def test_fast_speech_extends_into_the_following_gap_first() -> None:
    burst = words_of("This sentence is spoken far too fast for anyone to read it.", cps=60)
    later = words_of("Then a pause.", start=burst[-1].end + 4.0)
    cues = build_cues([seg(burst), seg(later)])
    first = cues[0]
    assert first.start == pytest.approx(burst[0].start, abs=0.001)  # not moved earlier
    chars = sum(len(line) for line in first.lines)
    assert chars / (first.end - first.start) <= 20.0 + 0.01
    assert cues[1].start - first.end >= 0.083


def test_fast_speech_without_a_gap_keeps_every_word() -> None:
    text = "One two three four five six seven eight nine ten eleven twelve thirteen fourteen."
    packed = words_of(text, cps=80)
    following = words_of("And more words right after.", start=packed[-1].end + 0.05, cps=80)
    cues = build_cues([seg(packed + following)])
    assert spoken(cues) == (text + " And more words right after.").split()
    hard, _ = subnorms.check(as_subs(cues))
    assert hard == []


def test_short_cue_is_shown_for_the_minimum_duration() -> None:
    yes = words_of("Yes.", cps=15)
    after = words_of("Later on we spoke again.", start=5.0)
    cue = build_cues([seg(yes), seg(after)])[0]
    assert cue.lines == ("Yes.",)
    assert cue.end - cue.start >= 0.833 - 1e-9


def test_long_speech_without_pauses_is_split_under_seven_seconds() -> None:
    slow = words_of("so " * 40, cps=4.0)  # 40 words over 30 s, no punctuation, no pauses
    cues = build_cues([seg(slow)])
    assert len(cues) >= 5
    assert all(c.end - c.start <= 7.0 + 1e-9 for c in cues)


def test_a_long_pause_ends_the_cue() -> None:
    first = words_of("We waited", cps=15)
    second = words_of("for the bus.", start=first[-1].end + 2.0)
    cues = build_cues([seg(first + second)])
    assert [c.text for c in cues] == ["We waited", "for the bus."]
    assert cues[0].end < second[0].start


def test_cues_break_at_sentence_ends() -> None:
    text = (
        "The storm reached the coast late on Sunday night. Nobody expected the sea wall to hold "
        "for so long, but it did."
    )
    cues = build_cues([seg(words_of(text))])
    assert cues[0].text.replace("\n", " ") == "The storm reached the coast late on Sunday night."


def test_lines_are_balanced_and_prefer_one_line() -> None:
    style = CueStyle()
    short = words_of("Only a few words here.")
    assert wrap(short, style) == ["Only a few words here."]
    lines = wrap(
        words_of("The weather in London has been rainy and cold for three weeks now."), style
    )
    assert lines is not None and len(lines) == 2
    assert abs(len(lines[0]) - len(lines[1])) <= 14
    assert all(len(line) <= 42 for line in lines)


def test_line_breaks_after_a_comma() -> None:
    lines = wrap(
        words_of("When the rain stopped at last, everyone went out to the park."), CueStyle()
    )
    assert lines == ["When the rain stopped at last,", "everyone went out to the park."]


def test_numbers_are_never_split() -> None:
    text = "Les chiffres officiels parlent de 1 000 000 de personnes dans la rue aujourd'hui"
    style = CueStyle()
    for cue in build_cues([seg(words_of(text))], style):
        for line in cue.lines:
            assert not line.endswith(("1", "000")) or "1 000 000" in line
    lines = wrap(words_of("Il y avait exactement 1 000 000 000 000 de votes ce jour"), style)
    assert lines is not None and any("1 000 000 000 000" in line for line in lines)


def test_a_word_longer_than_a_line_stays_whole() -> None:
    giant = "Donaudampfschifffahrtselektrizitaetenhauptbetriebswerkbauunterbeamtengesellschaft"
    cues = build_cues([seg(words_of(f"Das ist die {giant} in Wien."))])
    assert any(giant in line for c in cues for line in c.lines)
    assert spoken(cues) == f"Das ist die {giant} in Wien.".split()
    assert all(len(c.lines) <= 2 for c in cues)


def test_cjk_lines_are_counted_in_characters_with_a_lower_limit() -> None:
    chars = (
        "今日はとても良い天気ですね。明日も晴れるといいですね。週末は家族と一緒に公園へ行きます。"
    )
    words = [Word(start=i * 0.2, end=i * 0.2 + 0.18, word=ch) for i, ch in enumerate(chars)]
    style = CueStyle().for_language("ja")
    cues = build_cues([seg(words)], style)
    assert "".join("".join(c.lines) for c in cues) == chars
    assert all(len(line) <= 16 for c in cues for line in c.lines)
    assert all(" " not in line for c in cues for line in c.lines)
    hard, _ = subnorms.check(as_subs(cues), style)
    assert hard == []
    # CJK is recognised from the text too when no language is given
    auto = build_cues([seg(words)])
    assert all(len(line) <= 16 for c in auto for line in c.lines)


def test_overlapping_word_timestamps_never_overlap_cues() -> None:
    words = []
    for i in range(30):
        words.append(Word(start=i * 0.3, end=i * 0.3 + 0.5, word=f" word{i}."))  # overlap
    cues = build_cues([seg(words)])
    hard, _ = subnorms.check(as_subs(cues))
    assert hard == []
    assert all(c.end > c.start for c in cues)


def test_style_from_registry_defaults_is_the_norm() -> None:
    settings = {key: spec.default for key, spec in REGISTRY.items()}
    style = CueStyle.from_settings(settings)
    assert (style.max_line_chars, style.max_lines, style.max_cps) == (42, 2, 20.0)
    assert (style.min_duration, style.max_duration, style.min_gap) == (0.833, 7.0, 0.083)
    assert CueStyle.from_settings(settings, language="jpn").line_chars == 16
    custom = CueStyle.from_settings({**settings, "max_line_chars": 32, "max_lines": 1})
    cues = build_cues([seg(words_of(LONG))], custom)
    assert all(len(c.lines) == 1 and len(c.lines[0]) <= 32 for c in cues)


# --- hallucination filter -------------------------------------------------------------------


def _text_seg(text: str, start: float, end: float, no_speech: float = 0.0) -> Segment:
    words = words_of(text, start=start)
    return Segment(
        start=start, end=end, text=" " + text, words=tuple(words), no_speech_prob=no_speech
    )


@pytest.mark.parametrize(
    ("name", "segments", "speech", "kept"),
    [
        (
            "loop of the same line",
            [_text_seg("You're a man.", i * 3.0, i * 3.0 + 2) for i in range(4)],
            None,
            ["You're a man."],
        ),
        (
            "two repeats are real speech",
            [_text_seg("No.", 0, 1), _text_seg("No.", 1.5, 2.5), _text_seg("Stop it.", 3, 4)],
            None,
            ["No.", "No.", "Stop it."],
        ),
        (
            "boilerplate the model doubted",
            [_text_seg("It was late.", 0, 2), _text_seg("Thanks for watching!", 2, 4, 0.9)],
            [(0.0, 4.0)],
            ["It was late."],
        ),
        (
            "boilerplate outside speech",
            [
                _text_seg("It was late.", 0, 2),
                _text_seg("Subtitles by the Amara.org community", 10, 12),
            ],
            [(0.0, 2.0), (11.5, 11.6)],
            ["It was late."],
        ),
        (
            "boilerplate really spoken",
            [_text_seg("Thanks for watching, everyone.", 0, 2, 0.05)],
            [(0.0, 2.0)],
            ["Thanks for watching, everyone."],
        ),
        (
            "text where VAD heard nothing",
            [_text_seg("Hello there.", 0, 2), _text_seg("You", 20, 21)],
            [(0.0, 2.0)],
            ["Hello there."],
        ),
    ],
)
def test_hallucination_filter(
    name: str, segments: list[Segment], speech: list[tuple[float, float]] | None, kept: list[str]
) -> None:
    assert [s.text.strip() for s in clean_segments(segments, speech=speech)] == kept, name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[Music] Hello there.", "Hello there."),
        ("I told you (laughs) it works.", "I told you it works."),
        ("♪ la la la ♪ And now the news.", "And now the news."),
        ("(door closes) Who is it?", "Who is it?"),
        ("[MUSIC PLAYING]", ""),
    ],
)
def test_sound_annotations_are_stripped_on_request(text: str, expected: str) -> None:
    segment = _text_seg(text, 0.0, 3.0)
    cleaned = clean_segments([segment], strip_annotations=True)
    assert [s.text for s in cleaned] == ([expected] if expected else [])
    if expected:
        assert " ".join(w.word.strip() for w in cleaned[0].words) == expected
    assert clean_segments([segment])[0].text.strip() == text  # off by default


def test_a_phrase_looping_inside_one_segment_is_kept_once() -> None:
    looped = "I'm sorry. " * 6 + "Let me explain what happened."
    cleaned = clean_segments([_text_seg(looped.strip(), 0.0, 12.0)])
    assert cleaned[0].text.split() == ["I'm", "sorry.", "Let", "me", "explain", "what", "happened."]
    spoken_thrice = "no no no, not again"  # a single word said three times is speech
    assert clean_segments([_text_seg(spoken_thrice, 0, 3)])[0].text.strip() == spoken_thrice


def test_segments_without_word_timestamps_still_make_cues() -> None:
    segments = [
        Segment(start=0.0, end=6.0, text=" " + LONG[:150]),
        Segment(start=6.5, end=9.0, text="今日はとても良い天気ですね。"),
    ]
    cues = build_cues(segments)
    assert spoken(cues)[:5] == LONG.split()[:5]
    assert cues[0].start == 0.0 and cues[-1].end <= 9.0 + 7.0
    assert cues[-1].text.endswith("天気ですね。")
    hard, _ = subnorms.check(as_subs(cues))
    assert hard == []
