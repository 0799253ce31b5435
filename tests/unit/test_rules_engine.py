"""The rules engine as a table: (MediaInfo, rules, produced, policy) -> job requests."""
# ruff: noqa: E501
# (the rules table reads best one case a line)

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from subtitler.media.probe import AudioTrack, EmbeddedSubtitle, MediaInfo
from subtitler.media.sidecars import ExternalSubtitle
from subtitler.rules import RuleOut, evaluate, explain
from subtitler.rules.engine import UnknownLanguagePolicy
from subtitler.settings import REGISTRY

_ids = iter(range(1, 10_000))


def media(
    *audio: str | AudioTrack | None,
    emb: tuple[EmbeddedSubtitle, ...] = (),
    ext: tuple[ExternalSubtitle, ...] = (),
    path: str = "/lib/Show/ep1.mkv",
) -> MediaInfo:
    tracks = []
    for i, a in enumerate(audio):
        track = (
            a if isinstance(a, AudioTrack) else AudioTrack(index=i, stream_index=i + 1, language=a)
        )
        tracks.append(track)
    return MediaInfo(
        path=path,
        size=1,
        mtime_ns=1,
        is_video=True,
        audio_tracks=tracks,
        embedded_subtitles=list(emb),
        external_subtitles=list(ext),
    )


def rule(name: str, *, priority: int = 0, enabled: bool = True, **kw: Any) -> RuleOut:
    action = {k: kw.pop(k) for k in ("action_type", "target_language", "quality_preset") if k in kw}
    action.setdefault("target_language", "spa")
    return RuleOut.model_validate(
        {
            "id": next(_ids),
            "name": name,
            "enabled": enabled,
            "priority": priority,
            "conditions": kw,
            "action": {"job_priority": 3, **action},
            "created_at": datetime(2025, 1, 1),
        }
    )


def emb(lang: str, *, forced: bool = False) -> EmbeddedSubtitle:
    return EmbeddedSubtitle(index=0, stream_index=9, language=lang, forced=forced)


def side(lang: str | None, *, forced: bool = False) -> ExternalSubtitle:
    return ExternalSubtitle(
        path=f"/lib/Show/ep1.{lang}.srt", format="srt", language=lang, forced=forced
    )


JPN = media("jpn")
DUB = media("jpn", "eng")
COMMENTARY = media(
    AudioTrack(index=0, stream_index=1, language="eng", commentary=True, default=True),
    AudioTrack(index=1, stream_index=2, language="fra"),
)

# (case id, media, rules, kwargs for evaluate, expected [(rule, source, target, task, track)])
CASES: list[tuple[str, MediaInfo, list[RuleOut], dict[str, Any], list[tuple]]] = [
    ("is-pass", JPN, [rule("a", audio_language_is="jpn")], {}, [("a", "jpn", "spa", "transcribe", 0)]),
    ("is-fail", JPN, [rule("a", audio_language_is="eng")], {}, []),
    ("is-spelling-ja", JPN, [rule("a", audio_language_is="Japanese")], {}, [("a", "jpn", "spa", "transcribe", 0)]),
    ("is-spelling-ger", media("deu"), [rule("a", audio_language_is="ger")], {}, [("a", "deu", "spa", "transcribe", 0)]),
    ("is-spelling-de", media("deu"), [rule("a", audio_language_is="de")], {}, [("a", "deu", "spa", "transcribe", 0)]),
    ("is-second-track", DUB, [rule("a", audio_language_is="eng")], {}, [("a", "eng", "spa", "transcribe", 1)]),
    ("is-ignores-commentary", COMMENTARY, [rule("a", audio_language_is="eng")], {}, []),
    ("primary-skips-commentary", COMMENTARY, [rule("a")], {}, [("a", "fra", "spa", "transcribe", 1)]),
    ("not-pass", JPN, [rule("a", audio_language_not="eng,fre")], {}, [("a", "jpn", "spa", "transcribe", 0)]),
    ("not-fail", JPN, [rule("a", audio_language_not="en, ja")], {}, []),
    ("count-pass", DUB, [rule("a", audio_track_count_min=2)], {}, [("a", "jpn", "spa", "transcribe", 0)]),
    ("count-fail", JPN, [rule("a", audio_track_count_min=2)], {}, []),
    ("has-emb-pass", media("jpn", emb=(emb("eng"),)), [rule("a", has_embedded_subtitle_lang="en")], {}, [("a", "jpn", "spa", "transcribe", 0)]),
    ("has-emb-fail", JPN, [rule("a", has_embedded_subtitle_lang="eng")], {}, []),
    ("has-emb-forced-only", media("jpn", emb=(emb("eng", forced=True),)), [rule("a", has_embedded_subtitle_lang="eng")], {}, []),
    ("missing-emb-pass", media("jpn", emb=(emb("eng"),)), [rule("a", missing_embedded_subtitle_lang="spa")], {}, [("a", "jpn", "spa", "transcribe", 0)]),
    ("missing-emb-fail", media("jpn", emb=(emb("spa"),)), [rule("a", missing_embedded_subtitle_lang="es")], {}, []),
    ("missing-emb-forced-counts-missing", media("jpn", emb=(emb("spa", forced=True),)), [rule("a", missing_embedded_subtitle_lang="spa")], {}, [("a", "jpn", "spa", "transcribe", 0)]),
    ("missing-ext-pass", media("jpn", ext=(side("eng"), side(None))), [rule("a", missing_external_subtitle_lang="spa")], {}, [("a", "jpn", "spa", "transcribe", 0)]),
    ("missing-ext-fail", media("jpn", ext=(side("spa"),)), [rule("a", missing_external_subtitle_lang="Spanish")], {}, []),
    ("ext-pass", JPN, [rule("a", file_extension="MKV,.mp4")], {}, [("a", "jpn", "spa", "transcribe", 0)]),
    ("ext-fail", JPN, [rule("a", file_extension=".mp4")], {}, []),
    ("all-conditions", media("jpn", "eng", emb=(emb("eng"),)), [rule("a", audio_language_is="jpn", audio_language_not="fra", audio_track_count_min=2, has_embedded_subtitle_lang="eng", missing_embedded_subtitle_lang="spa", missing_external_subtitle_lang="spa", file_extension=".mkv")], {}, [("a", "jpn", "spa", "transcribe", 0)]),
    ("no-audio", media(), [rule("a")], {}, []),
    ("disabled", JPN, [rule("a", enabled=False)], {}, []),
    ("priority-wins-dedup", JPN, [rule("low", priority=1), rule("high", priority=9)], {}, [("high", "jpn", "spa", "transcribe", 0)]),
    ("two-targets", JPN, [rule("es", priority=2), rule("en", priority=1, target_language="eng")], {}, [("es", "jpn", "spa", "transcribe", 0), ("en", "jpn", "eng", "transcribe", 0)]),
    # One output file (video, language, variant) whatever the task: the higher-priority rule wins.
    ("same-target-other-task", JPN, [rule("t", priority=2, target_language="eng"), rule("x", priority=1, action_type="translate", target_language="en")], {}, [("t", "jpn", "eng", "transcribe", 0)]),
    ("same-target-other-task-priority", JPN, [rule("t", priority=1, target_language="eng"), rule("x", priority=5, action_type="translate", target_language="en")], {}, [("x", "jpn", "eng", "translate", 0)]),
    ("transcribe-no-target", JPN, [rule("a", target_language=None)], {}, [("a", "jpn", "jpn", "transcribe", 0)]),
    ("produced", JPN, [rule("a")], {"produced": {("es", "transcribe")}}, []),
    # The spa file exists, whichever task wrote it: no second job for that output.
    ("produced-other-task", JPN, [rule("a")], {"produced": {("spa", "translate")}}, []),
    ("produced-falls-to-next-rule", JPN, [rule("a", priority=2), rule("b", priority=1, target_language="eng")], {"produced": {("spa", "transcribe")}}, [("b", "jpn", "eng", "transcribe", 0)]),
    ("unknown-detect", media(None), [rule("a", audio_language_is="jpn")], {}, [("a", None, "spa", "transcribe", 0)]),
    ("unknown-skip", media(None), [rule("a", audio_language_is="jpn")], {"unknown_language_policy": "skip"}, []),
    ("unknown-skip-no-lang-condition", media(None), [rule("a")], {"unknown_language_policy": "skip"}, []),
    ("unknown-skip-other-known", media(None, "jpn"), [rule("a", audio_language_is="jpn")], {"unknown_language_policy": "skip"}, [("a", "jpn", "spa", "transcribe", 1)]),
    ("unknown-assume", media(None), [rule("a", audio_language_is="jpn")], {"unknown_language_policy": "assume:ja"}, [("a", "jpn", "spa", "transcribe", 0)]),
    ("unknown-assume-other", media(None), [rule("a", audio_language_is="jpn")], {"unknown_language_policy": "assume:eng"}, []),
    ("unknown-assume-not", media(None), [rule("a", audio_language_not="eng")], {"unknown_language_policy": "assume:en"}, []),
]  # fmt: skip


@pytest.mark.parametrize(
    ("media_info", "rules", "kwargs", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rules_table(media_info: MediaInfo, rules: list[RuleOut], kwargs: dict[str, Any], expected: list[tuple]) -> None:  # fmt: skip
    jobs = evaluate(rules, media_info, **kwargs)
    got = [(j.rule_name, j.source_lang, j.target_lang, j.task, j.audio_track) for j in jobs]
    assert got == expected
    for job in jobs:
        assert job.file_path == media_info.path and job.file_name == "ep1.mkv"
        assert job.priority == 3 and job.quality_preset == "balanced"
        assert job.rule_id == next(r.id for r in rules if r.name == job.rule_name)


def test_detect_pending_carries_the_language_constraints() -> None:
    r = rule("a", audio_language_is="jpn", audio_language_not="eng,fra")
    (job,) = evaluate([r], media(None))
    assert job.source_lang is None
    assert job.source_lang_must_be == "jpn"
    assert job.source_lang_must_not_be == ["eng", "fra"]
    (known,) = evaluate([r], JPN)
    assert known.source_lang_must_be is None and known.source_lang_must_not_be == []


def test_explain_gives_a_reason_per_condition() -> None:
    r = rule(
        "a", audio_language_is="eng", file_extension=".mkv", missing_external_subtitle_lang="spa"
    )
    (verdict,) = explain([r], media("jpn", ext=(side("spa"),)))
    assert not verdict.matched and verdict.job is None
    by_name = {c.condition: c for c in verdict.conditions}
    assert by_name["audio_language_is"].outcome == "fail"
    assert "#0 jpn" in by_name["audio_language_is"].reason
    assert by_name["file_extension"].outcome == "pass"
    assert by_name["missing_external_subtitle_lang"].outcome == "fail"
    assert "spa" in by_name["missing_external_subtitle_lang"].reason


def test_explain_names_the_rule_a_duplicate_lost_to() -> None:
    rules = [rule("first", priority=5), rule("second", priority=1)]
    first, second = explain(rules, JPN)
    assert first.job is not None and second.matched and second.job is None
    assert second.skipped_reason == "duplicate of the job from rule 'first'"
    produced = explain(rules, JPN, produced={("spa", "transcribe")})
    assert all(v.job is None and "already wrote" in (v.skipped_reason or "") for v in produced)


def test_explain_can_preview_a_disabled_or_unsaved_rule() -> None:
    r = rule("off", enabled=False)
    assert explain([r], JPN) == []
    (verdict,) = explain([r], JPN, include_disabled=True)
    assert verdict.job is not None and verdict.job.target_lang == "spa"


def test_rescan_after_writing_queues_nothing() -> None:
    """The Transcriptarr loop: the written subtitle is named `.es.srt`, a `spa` rule must stop."""
    r = rule("a", missing_external_subtitle_lang="spa")
    (job,) = evaluate([r], JPN)
    after = media("jpn", ext=(side(None),))  # subtitler's file, not recognised as spa by name
    assert evaluate([r], after, produced={(job.target_lang, job.task)}) == []


@pytest.mark.parametrize(
    ("text", "mode", "language"),
    [("detect", "detect", None), ("skip", "skip", None), ("assume:ger", "assume", "deu")],
)
def test_policy_parse(text: str, mode: str, language: str | None) -> None:
    policy = UnknownLanguagePolicy.parse(text)
    assert (policy.mode, policy.language) == (mode, language)
    assert UnknownLanguagePolicy.from_settings({"scanner_unknown_language_policy": text}) == policy


@pytest.mark.parametrize("text", ["", "maybe", "assume:", "assume:klingonx"])
def test_policy_rejects_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match=r"assume|unknown"):
        UnknownLanguagePolicy.parse(text)
    with pytest.raises(ValueError, match=r"assume"):  # the setting refuses the same values
        REGISTRY["scanner_unknown_language_policy"].parse(text)
