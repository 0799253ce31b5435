"""A file's verdict, decided in one place for the scanner, the rule preview and the Library.

`decide(rules, media, state, policy)` is pure. In order:

1. a queued or processing job for the file -> `wanted`, naming the job;
2. what the rules say, on the media as subtitler knows it: an untagged audio track whose language
   a job detected counts as that language (German audio detected on an untagged track does not
   match an "English audio" rule: a skip with the reason, never a job that fails);
   - a rule asks for a job -> `wanted` (the winning rule: highest priority, one job per output);
   - a matching rule's output exists -> `done`;
3. our subtitle next to the file (whatever the rules say now: a "no English subtitle yet" rule no
   longer matches once we wrote one) -> `done`;
4. otherwise `no_rules`, or `no_match` with the first failed condition of the highest-priority
   rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from subtitler.media.probe import MediaInfo
from subtitler.rules.engine import (
    JobRequest,
    RuleEvaluation,
    RuleLike,
    UnknownLanguagePolicy,
    explain,
)

WANTED, DONE, NO_MATCH, NO_RULES, PROBE_FAILED = (
    "wanted",
    "done",
    "no_match",
    "no_rules",
    "probe_failed",
)


@dataclass(frozen=True)
class LiveJob:
    id: str
    status: str
    rule_name: str | None = None


@dataclass
class FileState:
    """What subtitler knows about a file besides its probe (see MediaLibrary.history)."""

    produced: set[tuple[str | None, str]] = field(default_factory=set)
    ours: set[str] = field(default_factory=set)  # languages of the subtitles we wrote
    live: LiveJob | None = None  # a queued or processing job
    # audio track (audio-relative index; None: the track the job chose) -> detected language
    detected: dict[int | None, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str | None = None
    rule_name: str | None = None
    job_id: str | None = None
    evaluations: tuple[RuleEvaluation, ...] = ()

    @property
    def jobs(self) -> list[JobRequest]:
        return [e.job for e in self.evaluations if e.job is not None]


def with_detected(media: MediaInfo, detected: Mapping[int | None, str]) -> MediaInfo:
    """`media` with the detected language on its untagged audio tracks (tagged ones are kept:
    the file's own tag wins)."""
    if not detected or not any(t.language is None for t in media.audio_tracks):
        return media
    tracks = []
    fallback = detected.get(None)
    untagged_main = [
        t
        for t in media.audio_tracks
        if t.language is None and not (t.commentary or t.visual_impaired)
    ]
    first = min(untagged_main or [], key=lambda t: (not t.default, t.index), default=None)
    for track in media.audio_tracks:
        lang = detected.get(track.index)
        if lang is None and fallback is not None and first is not None and track is first:
            lang = fallback
        if track.language is None and lang:
            track = track.model_copy(
                update={"language": lang, "language_tag": f"{lang} (detected)"}
            )
        tracks.append(track)
    return media.model_copy(update={"audio_tracks": tracks})


def detected_languages(media: MediaInfo, detected: Mapping[int | None, str]) -> list[str]:
    """The detected languages that apply to `media` (its untagged audio tracks only)."""
    if not detected:
        return []
    seen = with_detected(media, detected)
    return sorted(
        {
            t.language
            for t, before in zip(seen.audio_tracks, media.audio_tracks, strict=True)
            if before.language is None and t.language
        }
    )


def decide(
    rules: Sequence[RuleLike],
    media: MediaInfo,
    state: FileState | None = None,
    policy: UnknownLanguagePolicy | str = "detect",
    *,
    include_disabled: bool = False,
) -> Verdict:
    state = state or FileState()
    seen = with_detected(media, state.detected)
    evaluations = tuple(
        explain(
            rules,
            seen,
            produced=state.produced,
            unknown_language_policy=policy,
            include_disabled=include_disabled,
        )
    )
    if state.live is not None:
        return Verdict(
            WANTED,
            f"job {state.live.status}",
            state.live.rule_name,
            state.live.id,
            evaluations,
        )
    for e in evaluations:
        if e.job is not None:
            return Verdict(WANTED, None, e.rule_name, None, evaluations)
    for e in evaluations:
        if e.matched:
            return Verdict(DONE, e.skipped_reason, e.rule_name, None, evaluations)
    if state.ours:
        langs = ", ".join(sorted(state.ours))
        return Verdict(DONE, f"subtitler wrote: {langs}", None, None, evaluations)
    if not evaluations:
        return Verdict(NO_RULES, "no enabled rule", None, None, evaluations)
    first = evaluations[0]
    failed = next((c for c in first.conditions if c.outcome == "fail"), None)
    return Verdict(NO_MATCH, failed.reason if failed else None, first.rule_name, None, evaluations)


def states_for(
    paths: Iterable[str],
    *,
    produced: Mapping[str, set[tuple[str | None, str]]],
    ours: Mapping[str, set[str]],
    live: Mapping[str, LiveJob],
    detected: Mapping[str, dict[int | None, str]],
) -> dict[str, FileState]:
    return {
        p: FileState(
            produced=produced.get(p, set()),
            ours=ours.get(p, set()),
            live=live.get(p),
            detected=detected.get(p, {}),
        )
        for p in paths
    }
