"""Speaker-aware cues (pure): words get the turn that overlaps them most; a cue never mixes
speakers except a hyphenated two-line dual-speaker cue; every format shows speakers its way."""

from __future__ import annotations

import json

import pysubs2
import pytest

from subtitler.jobs.results import cues_document, to_cues, to_segments
from subtitler.subtitles.cues import Cue, CueStyle, Segment, Word, build_cues
from subtitler.subtitles.formats import render
from subtitler.subtitles.speakers import Turn, assign_speakers, speaker_names, summary
from tests import subnorms
from tests.unit.test_cues import seg, words_of

TWO = [
    ("SPEAKER_00", "Are you coming?"),
    ("SPEAKER_01", "In a minute."),
    ("SPEAKER_00", "The train leaves at half past seven, and I do not want to miss it again."),
    ("SPEAKER_01", "Fine."),
    ("SPEAKER_00", "Last time we waited two hours on the platform in the rain."),
    ("SPEAKER_01", "I remember. It was your idea to walk."),
    ("SPEAKER_00", "No."),
    ("SPEAKER_01", "Yes."),
    ("SPEAKER_00", "Well, then let us take a taxi this time and stop arguing about it."),
]
THREE = [
    ("SPEAKER_00", "Good evening and welcome to the show."),
    ("SPEAKER_01", "Thanks for having us."),
    ("SPEAKER_02", "Glad to be here."),
    ("SPEAKER_00", "Let us start with the question everyone has been asking this week."),
    ("SPEAKER_02", "Which one?"),
    ("SPEAKER_01", "The budget, I think."),
    ("SPEAKER_00", "Exactly, the budget, and what it means for the schools in our town."),
    ("SPEAKER_02", "Right."),
    ("SPEAKER_01", "It means fewer teachers, bigger classes, and longer days for everyone."),
]


def scripted(
    lines: list[tuple[str, str]], *, gap: float = 0.25, one_segment: bool = True
) -> tuple[list[Segment], list[Turn], list[str]]:
    """Whisper-like segments without speakers, the diarization's turns, each word's speaker."""
    words: list[Word] = []
    turns: list[Turn] = []
    truth: list[str] = []
    t = 0.5
    for speaker, text in lines:
        spoken = words_of(text, start=t, cps=15.0)
        if words:  # Whisper's leading space on every word after the first
            spoken = [Word(w.start, w.end, " " + w.word.lstrip()) for w in spoken]
        # the diarization's turn edges are a little off Whisper's word times
        turns.append(Turn(spoken[0].start - 0.08, spoken[-1].end + 0.05, speaker))
        words += spoken
        truth += [speaker] * len(spoken)
        t = spoken[-1].end + gap
    if one_segment:  # one Whisper segment across speaker changes: the assignment splits it
        return [seg(words)], turns, truth
    return [seg([w]) for w in words], turns, truth


def speaker_cues(lines: list[tuple[str, str]]) -> tuple[list[Cue], list[Segment]]:
    segments, turns, _ = scripted(lines)
    segments = assign_speakers(segments, turns)
    return build_cues(segments, CueStyle()), segments


def test_each_word_gets_the_turn_that_overlaps_it_most() -> None:
    segments, turns, truth = scripted(THREE)
    got = [w.speaker for s in assign_speakers(segments, turns) for w in s.words]
    assert got == truth
    # a word straddling two turns goes to the one it shares more time with
    word = Word(1.0, 2.0, " overlap")
    turns = [Turn(0.0, 1.3, "SPEAKER_00"), Turn(1.3, 3.0, "SPEAKER_01")]
    assert assign_speakers([seg([word])], turns)[0].words[0].speaker == "SPEAKER_01"
    # a word in no turn takes the nearest one within a second, else the speaker before it
    near = Word(3.4, 3.6, " near")
    far = Word(9.0, 9.2, " far")
    out = assign_speakers([seg([word, near, far])], turns)[0]
    assert [w.speaker for w in out.words] == ["SPEAKER_01", "SPEAKER_01", "SPEAKER_01"]
    assert out.speaker == "SPEAKER_01"


def test_segment_speaker_is_the_one_speaking_most_of_it() -> None:
    segments, turns, _ = scripted(TWO[:3], one_segment=False)
    out = assign_speakers(segments, turns)
    assert all(s.speaker == s.words[0].speaker for s in out)
    whole = assign_speakers(scripted(TWO[:3])[0], turns)[0]
    assert whole.speaker == "SPEAKER_00"  # two of three lines, most of the time


@pytest.mark.parametrize("dialogue", [TWO, THREE], ids=["two speakers", "three speakers"])
def test_no_cue_mixes_speakers_except_dashed_dual_cues(dialogue: list[tuple[str, str]]) -> None:
    cues, segments = speaker_cues(dialogue)
    words = [w for s in segments for w in s.words]
    said = " ".join(text for _, text in dialogue).split()
    shown = " ".join(" ".join(c.lines) for c in cues).replace("-", " ").split()
    assert shown == [w.replace("-", " ").strip() for w in said]  # every word, in order
    position = 0
    for cue in cues:
        assert cue.speakers, cue
        if len(cue.speakers) == 2:  # a dual-speaker cue: one speaker a line, each dashed
            assert cue.speakers[0] != cue.speakers[1]
            assert len(cue.lines) == 2
            assert all(line.startswith("-") and not line.startswith("- ") for line in cue.lines)
        else:
            assert len(cue.speakers) == 1 and not cue.lines[0].startswith("-")
        # the words behind the cue: each line's words belong to that line's speaker
        for line, speaker in zip(cue.lines, cue.speakers * len(cue.lines), strict=False):
            count = len(line.lstrip("-").split())
            assert {w.speaker for w in words[position : position + count]} == {speaker}, cue
            position += count
    assert position == len(words)
    hard, _ = subnorms.check(pysubs2.SSAFile.from_string(render(cues, fmt="srt")))
    assert hard == []


def test_quick_exchanges_become_dual_cues_and_long_lines_do_not() -> None:
    cues, _ = speaker_cues(TWO)
    assert cues[0].lines == ("-Are you coming?", "-In a minute.")
    assert cues[0].speakers == ("SPEAKER_00", "SPEAKER_01")
    duals = [c for c in cues if len(c.speakers) == 2]
    assert ("-No.", "-Yes.") in [c.lines for c in duals]
    # a line too long for one dashed line is never paired
    assert all(max(len(line) for line in c.lines) <= 42 for c in duals)
    long_line = next(c for c in cues if "half past seven" in c.text)
    assert long_line.speakers == ("SPEAKER_00",)


def test_breaks_fall_on_speaker_changes_even_mid_sentence() -> None:
    # no punctuation at all: only the change of speaker can end the first cue
    dialogue = [
        ("SPEAKER_00", "so we went down to the river and sat there for a while"),
        ("SPEAKER_01", "and then the boat came round the bend and everyone started waving"),
    ]
    cues, _ = speaker_cues(dialogue)
    assert [c.speakers for c in cues] == [("SPEAKER_00",), ("SPEAKER_01",)]
    assert cues[0].text.replace("\n", " ") == dialogue[0][1]


def test_no_dual_cue_without_the_dash_setting() -> None:
    segments, turns, _ = scripted(TWO)
    cues = build_cues(assign_speakers(segments, turns), CueStyle(dual_speaker_dash=""))
    assert all(len(c.speakers) == 1 for c in cues)
    styled = CueStyle.from_settings({"dual_speaker_dash": "\u2013 "})
    cues = build_cues(assign_speakers(segments, turns), styled)
    assert cues[0].lines == ("\u2013 Are you coming?", "\u2013 In a minute.")


def test_srt_shows_dashes_and_labels_only_when_asked() -> None:
    cues, _ = speaker_cues(TWO)
    plain = pysubs2.SSAFile.from_string(render(cues, fmt="srt"))
    assert plain.events[0].plaintext == "-Are you coming?\n-In a minute."
    assert "Speaker" not in render(cues, fmt="srt")
    labelled = pysubs2.SSAFile.from_string(render(cues, fmt="srt", speaker_labels=True))
    firsts = [e.plaintext.split("\n")[0] for e in labelled.events]
    assert firsts[1].startswith("Speaker 1: The train leaves")
    assert any(line.startswith("Speaker 2: ") for line in firsts)


def test_vtt_voice_spans_ass_names_and_json_speakers() -> None:
    cues, segments = speaker_cues(THREE)
    vtt = render(cues, fmt="vtt")
    assert "<v Speaker 1>Good evening and welcome to the show.</v>" in vtt
    assert "<v Speaker 2>" in vtt and "<v Speaker 3>" in vtt
    ass = pysubs2.SSAFile.from_string(render(cues, fmt="ass"))
    for event, cue in zip(ass.events, cues, strict=True):
        names = [f"Speaker {int(s[-2:]) + 1}" for s in cue.speakers]
        assert event.name == " / ".join(names)
    doc = json.loads(render(cues, fmt="json", segments=segments))
    words = [w for s in doc["segments"] for w in s["words"]]
    assert {w["speaker"] for w in words} == {"SPEAKER_00", "SPEAKER_01", "SPEAKER_02"}
    assert words[0]["speaker"] == "SPEAKER_00" and words[-1]["speaker"] == "SPEAKER_01"
    assert doc["segments"][0]["speaker"] in {"SPEAKER_00", "SPEAKER_01", "SPEAKER_02"}
    assert doc["cues"][0]["speakers"] == ["SPEAKER_00"]


def test_txt_is_the_speaker_aware_transcript() -> None:
    cues, _ = speaker_cues(TWO)
    txt = render(cues, fmt="txt")
    paragraphs = txt.strip().split("\n\n")
    assert paragraphs[0] == "Speaker 1: Are you coming?"
    assert paragraphs[1] == "Speaker 2: In a minute."
    assert len(paragraphs) == len(TWO)
    assert paragraphs[-1].startswith("Speaker 1: Well, then")


def test_stored_cues_keep_speakers_and_plain_jobs_are_unchanged() -> None:
    cues, segments = speaker_cues(TWO)
    doc = json.loads(json.dumps(cues_document(cues, segments, language="en", duration=30.0)))
    assert to_cues(doc["cues"]) == cues
    assert to_segments(doc["segments"]) == segments
    plain_segments = [seg(words_of("Nobody was diarized here."))]
    plain = build_cues(plain_segments)
    assert plain[0].speakers == ()
    assert "speaker" not in render(plain, fmt="json", segments=plain_segments)
    assert render(plain, fmt="txt") == "Nobody was diarized here.\n"


def test_names_and_summary() -> None:
    assert speaker_names(["SPEAKER_01", "SPEAKER_00"]) == {
        "SPEAKER_01": "Speaker 2",
        "SPEAKER_00": "Speaker 1",
    }
    assert speaker_names(["bob", "alice"]) == {"bob": "Speaker 1", "alice": "Speaker 2"}
    _, turns, _ = scripted(TWO)
    doc = summary(turns)
    assert doc["speakers"] == 2 and doc["turns"] == len(TWO)
    assert list(doc["talk_time"]) == ["SPEAKER_00", "SPEAKER_01"]
    assert doc["talk_time"]["SPEAKER_00"] > doc["talk_time"]["SPEAKER_01"] > 0
