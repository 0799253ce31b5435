"""The rules engine: pure (no I/O). `evaluate(rules, media)` -> job requests, `explain` says why.

Semantics, in one place:
- Enabled rules run in priority order (higher first; ties by id, then name). Each matching rule
  yields at most one job request; requests are deduplicated by output file (video, target language,
  variant tag: the queue's dedup key, whatever the task), so the highest-priority rule wins.
- A (target, task) that subtitler already produced for the file (`produced`) is never requested
  again, whatever the sidecar is named: a "missing spa subtitle" rule cannot re-queue forever.
- The audio track a rule looks at: commentary and audio-description tracks are ignored (unless
  they are all there is); `audio_language_is` picks the first (default-first) track in that
  language, otherwise the default track, otherwise the first.
- Forced subtitles (partial by nature) count neither as "has" nor as a full subtitle for "missing";
  image subtitles (PGS, VobSub) count like text ones. A sidecar with no language in its name
  (`Movie.srt`) counts as no language.
- Unknown audio language (untagged or `und`): `detect` lets the rule match pending detection (the
  job has no source_lang and carries the language constraints the worker must check after
  detecting), `skip` fails the rule, `assume:<code>` treats the track as that language.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from subtitler.jobs.states import FORCED, Task
from subtitler.media.languages import parse_language, require_language
from subtitler.media.probe import AudioTrack, MediaInfo
from subtitler.rules.conditions import ConditionResult, check_conditions
from subtitler.rules.models import RuleAction, RuleConditions
from subtitler.translation.sources import text_sources


class RuleLike(Protocol):
    name: str
    enabled: bool
    priority: int
    conditions: RuleConditions
    action: RuleAction


@dataclass(frozen=True)
class UnknownLanguagePolicy:
    mode: Literal["detect", "skip", "assume"] = "detect"
    language: str | None = None  # for assume

    @classmethod
    def parse(cls, text: str | UnknownLanguagePolicy) -> UnknownLanguagePolicy:
        """`detect`, `skip` or `assume:<language>`; ValueError (user-facing) otherwise."""
        if isinstance(text, UnknownLanguagePolicy):
            return text
        value = str(text).strip()
        if value in ("detect", "skip"):
            return cls(mode=value)  # type: ignore[arg-type]
        if value.startswith("assume:"):
            code = parse_language(value.split(":", 1)[1])
            if code is None:
                raise ValueError(f"unknown language in {value!r}")
            return cls(mode="assume", language=code)
        raise ValueError(f"must be detect, skip or assume:<language>; got {value!r}")

    @classmethod
    def from_settings(cls, settings: Any) -> UnknownLanguagePolicy:
        """From `scanner_unknown_language_policy` (a SettingsService or a dict)."""
        return cls.parse(settings.get("scanner_unknown_language_policy"))


class JobRequest(BaseModel):
    file_path: str
    file_name: str
    source_lang: str | None  # ISO 639-2/T; None: the worker detects it
    target_lang: str | None  # None: the detected source language (transcribe)
    task: str  # transcribe | translate
    quality_preset: str
    priority: int
    rule_id: int | None
    rule_name: str
    audio_track: int | None = None  # audio-relative index (`-map 0:a:N`)
    # Only when source_lang is None: after detection the job runs only if these hold.
    source_lang_must_be: str | None = None
    source_lang_must_not_be: list[str] = []
    # Text subtitles the file has (subtitler.translation.sources), for a subtitle_translation job
    subtitle_sources: list[dict[str, Any]] = []
    wants_subtitle: bool = False  # the rule's action is translate_subtitle
    variant: str = ""  # "forced": a forced subtitle (the rule's action is forced)
    diarize: bool | None = None  # the rule's action asks for speakers (None: the setting)

    @property
    def dedup_key(self) -> tuple[str, str, str]:
        """The output file: (video, output language, variant tag); a transcribe and a translate
        to one language write the same file, so the task is not part of it."""
        return (self.file_path, self.target_lang or "", self.variant)


class RuleEvaluation(BaseModel):
    rule_id: int | None
    rule_name: str
    priority: int
    matched: bool
    conditions: list[ConditionResult]
    job: JobRequest | None = None
    skipped_reason: str | None = None  # matched but no job: already produced, or a duplicate


def evaluate(
    rules: Iterable[RuleLike],
    media: MediaInfo,
    *,
    produced: Iterable[tuple[str | None, str]] = (),
    unknown_language_policy: str | UnknownLanguagePolicy = "detect",
) -> list[JobRequest]:
    """The job requests for one file, highest-priority rule first."""
    results = explain(
        rules, media, produced=produced, unknown_language_policy=unknown_language_policy
    )
    return [r.job for r in results if r.job is not None]


def explain(
    rules: Iterable[RuleLike],
    media: MediaInfo,
    *,
    produced: Iterable[tuple[str | None, str]] = (),
    unknown_language_policy: str | UnknownLanguagePolicy = "detect",
    include_disabled: bool = False,
) -> list[RuleEvaluation]:
    """Every (enabled) rule's verdict on `media`, condition by condition, in evaluation order."""
    policy = UnknownLanguagePolicy.parse(unknown_language_policy)
    done = {(parse_language(t) if t else None, task) for t, task in produced}
    seen: dict[tuple[str, str, str], str] = {}
    out: list[RuleEvaluation] = []
    for rule in _ordered(rules):
        if not rule.enabled and not include_disabled:
            continue
        checks, track = _check(rule.conditions, media, policy)
        evaluation = RuleEvaluation(
            rule_id=getattr(rule, "id", None),
            rule_name=rule.name,
            priority=rule.priority,
            matched=all(c.outcome != "fail" for c in checks),
            conditions=checks,
        )
        out.append(evaluation)
        if not evaluation.matched:
            continue
        job = _job(rule, media, track, checks, policy)
        if _already_produced(job, done):
            evaluation.skipped_reason = (
                f"subtitler already wrote a {job.target_lang or 'source-language'} "
                f"{job.task} subtitle for this file"
            )
        elif job.dedup_key in seen:
            evaluation.skipped_reason = f"duplicate of the job from rule {seen[job.dedup_key]!r}"
        else:
            seen[job.dedup_key] = rule.name
            evaluation.job = job
    return out


def _ordered(rules: Iterable[RuleLike]) -> list[RuleLike]:
    return sorted(rules, key=lambda r: (-r.priority, getattr(r, "id", None) or 0, r.name))


def _already_produced(job: JobRequest, done: set[tuple[str | None, str]]) -> bool:
    if job.variant == FORCED:  # produced pairs of forced subtitles carry the task "forced"
        return (job.target_lang, FORCED) in done
    done = {pair for pair in done if pair[1] != FORCED}
    if job.target_lang is None:  # target follows detection: any subtitle of that task counts
        return any(task == job.task for _, task in done)
    return any(target == job.target_lang for target, _ in done)  # that file exists, any task


def _lang(track: AudioTrack, policy: UnknownLanguagePolicy) -> str | None:
    if track.language is None and policy.mode == "assume":
        return policy.language
    return track.language


def _candidates(media: MediaInfo) -> list[AudioTrack]:
    main = [t for t in media.audio_tracks if not (t.commentary or t.visual_impaired)]
    tracks = main or list(media.audio_tracks)
    return sorted(tracks, key=lambda t: (not t.default, t.index))  # default track first


def _check(
    cond: RuleConditions, media: MediaInfo, policy: UnknownLanguagePolicy
) -> tuple[list[ConditionResult], AudioTrack | None]:
    return check_conditions(
        cond, media, _candidates(media), lambda t: _lang(t, policy), policy.mode
    )


def _task(action_type: str) -> str:
    """The task of a rule's job: a forced subtitle transcribes (then translates) passages."""
    if action_type == "translate_subtitle":
        return Task.TRANSLATE
    return Task.TRANSCRIBE if action_type == FORCED else action_type


def _job(
    rule: RuleLike,
    media: MediaInfo,
    track: AudioTrack | None,
    checks: Sequence[ConditionResult],
    policy: UnknownLanguagePolicy,
) -> JobRequest:
    action = rule.action
    source = _lang(track, policy) if track is not None else None
    target = action.target_language
    if target is None and action.action_type == "transcribe":
        target = source
    pending = source is None and any(c.outcome == "pending" for c in checks)
    cond = rule.conditions
    return JobRequest(
        file_path=media.path,
        file_name=media.file_name,
        source_lang=source,
        target_lang=require_language(target, field="target_language") if target else None,
        task=_task(action.action_type),
        quality_preset=action.quality_preset,
        priority=action.job_priority,
        rule_id=getattr(rule, "id", None),
        rule_name=rule.name,
        audio_track=track.index if track is not None else None,
        source_lang_must_be=cond.audio_language_is if pending else None,
        source_lang_must_not_be=cond.audio_languages_not if pending else [],
        subtitle_sources=[s.model_dump() for s in text_sources(media)],
        wants_subtitle=action.action_type == "translate_subtitle",
        variant=FORCED if action.action_type == FORCED else "",
        diarize=action.diarize,
    )
