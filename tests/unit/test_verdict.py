"""The one verdict function (subtitler.library.verdict) the scanner, the rule preview and the
Library share: a table of (media, what subtitler knows, rules) -> verdict."""

from __future__ import annotations

from subtitler.library.verdict import FileState, LiveJob, decide, detected_languages
from subtitler.media.probe import AudioTrack
from subtitler.rules.engine import UnknownLanguagePolicy
from subtitler.scanner.planner import plan
from tests.unit.test_rules_engine import media, rule, side

EVERYTHING = rule(  # the wizard's default rule
    "Subtitles for everything",
    missing_external_subtitle_lang="eng",
    target_language="eng",
    action_type="transcribe",
)
ENGLISH_AUDIO = rule("English audio", audio_language_is="eng", target_language="eng")
POLICY = UnknownLanguagePolicy()
UNTAGGED = media(None)
OURS_WRITTEN = media("eng", ext=(side("eng"),))


def test_a_file_that_needs_a_subtitle_is_wanted_by_the_winning_rule() -> None:
    low = rule("low", priority=0, target_language="eng")
    high = rule("high", priority=5, target_language="eng")
    v = decide([low, high], media("eng"))
    assert (v.verdict, v.rule_name, v.reason) == ("wanted", "high", None)
    assert [j.rule_name for j in v.jobs] == ["high"]  # one job per output: the winner's


def test_a_queued_or_processing_job_makes_the_file_wanted_with_that_job() -> None:
    state = FileState(live=LiveJob(id="abc", status="processing", rule_name="Everything"))
    v = decide([EVERYTHING], media("eng"), state)
    assert (v.verdict, v.job_id, v.rule_name) == ("wanted", "abc", "Everything")
    assert v.reason == "job processing"


def test_our_subtitle_present_is_done_even_when_the_rule_no_longer_matches() -> None:
    """The wizard's rule asks for "no English sidecar yet": once we wrote one the rule fails,
    yet the file is Done (not "no rule matches")."""
    state = FileState(produced={("eng", "transcribe")}, ours={"eng"})
    v = decide([EVERYTHING], OURS_WRITTEN, state)
    assert v.verdict == "done" and v.reason == "subtitler wrote: eng"
    # and a matching rule whose output exists: done, with the engine's reason
    v2 = decide([ENGLISH_AUDIO], media("eng"), FileState(produced={("eng", "transcribe")}))
    assert v2.verdict == "done" and "already wrote" in (v2.reason or "")


def test_a_users_own_subtitle_is_a_skip_with_the_reason() -> None:
    v = decide([EVERYTHING], media("eng", ext=(side("eng"),)))
    assert v.verdict == "no_match" and "eng" in (v.reason or "")
    assert v.rule_name == "Subtitles for everything"


def test_untagged_audio_detected_as_another_language_is_a_skip_not_a_job() -> None:
    # before detection: the rule matches pending detection (a job that detects first)
    before = decide([ENGLISH_AUDIO], UNTAGGED)
    assert before.verdict == "wanted"
    # a job detected German on track 0: the rule no longer matches, with the reason
    after = decide([ENGLISH_AUDIO], UNTAGGED, FileState(detected={0: "deu"}))
    assert after.verdict == "no_match" and "deu" in (after.reason or "")
    assert detected_languages(UNTAGGED, {0: "deu"}) == ["deu"]
    # the scanner plans with the same knowledge: no job re-queued for it
    found: dict[str, dict[int | None, str]] = {UNTAGGED.path: {0: "deu"}}
    requests, matched, _ = plan([ENGLISH_AUDIO], [UNTAGGED], {}, POLICY, detected=found)
    assert (requests, matched) == ([], 0)


def test_a_detection_never_overrides_the_files_own_tag() -> None:
    tagged = media("eng")
    assert decide([ENGLISH_AUDIO], tagged, FileState(detected={0: "deu"})).verdict == "wanted"
    assert detected_languages(tagged, {0: "deu"}) == []
    # a detection without a track index applies to the main untagged track
    two = media(AudioTrack(index=0, stream_index=1, language=None, commentary=True), None)
    assert detected_languages(two, {None: "fra"}) == ["fra"]
    seen = decide([ENGLISH_AUDIO], two, FileState(detected={None: "fra"}))
    assert seen.verdict == "no_match"


def test_no_rule_and_no_match() -> None:
    assert decide([], media("eng")).verdict == "no_rules"
    v = decide([ENGLISH_AUDIO], media("jpn"))
    assert v.verdict == "no_match" and "jpn" in (v.reason or "")
