"""Each rule condition checked against a MediaInfo, with a human reason (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel

from subtitler.media.probe import AudioTrack, MediaInfo
from subtitler.rules.models import RuleConditions

Outcome = Literal["pass", "fail", "pending"]
LangOf = Callable[[AudioTrack], str | None]


class ConditionResult(BaseModel):
    condition: str  # a condition field, or has_audio / audio_language_known
    expected: str | int | None = None
    outcome: Outcome  # pending: decided by the worker's language detection
    reason: str


def _result(
    condition: str, expected: str | int | None, outcome: str, reason: str
) -> ConditionResult:
    return ConditionResult.model_validate(
        {"condition": condition, "expected": expected, "outcome": outcome, "reason": reason}
    )


def _describe(tracks: list[AudioTrack], lang_of: LangOf) -> str:
    return ", ".join(f"#{t.index} {lang_of(t) or 'unknown'}" for t in tracks) or "none"


def check_conditions(
    cond: RuleConditions,
    media: MediaInfo,
    candidates: list[AudioTrack],
    lang_of: LangOf,
    mode: str,
) -> tuple[list[ConditionResult], AudioTrack | None]:
    """The results of every condition set on the rule, and the audio track the job would use."""
    out: list[ConditionResult] = []
    if not media.audio_tracks:
        out.append(_result("has_audio", None, "fail", "the file has no audio track"))
        return out, None
    track = candidates[0]
    if cond.audio_language_is:
        want = cond.audio_language_is
        matching = [t for t in candidates if lang_of(t) == want]
        unknown = [t for t in candidates if lang_of(t) is None]
        if matching:
            track = matching[0]
            out.append(
                _result("audio_language_is", want, "pass", f"audio track #{track.index} is {want}")
            )
        elif unknown and mode == "detect":
            track = unknown[0]
            reason = (
                f"audio track #{track.index} has no language tag: queued only if detected as {want}"
            )
            out.append(_result("audio_language_is", want, "pending", reason))
        else:
            reason = f"no {want} audio track (tracks: {_describe(candidates, lang_of)})"
            out.append(_result("audio_language_is", want, "fail", reason))
    lang = lang_of(track)
    if mode == "skip" and lang is None:
        reason = f"audio track #{track.index} has no language tag and the policy is skip"
        out.append(_result("audio_language_known", None, "fail", reason))
    if cond.audio_language_not:
        banned = cond.audio_languages_not
        if lang is None:
            outcome = "pending" if mode == "detect" else "fail"
            reason = f"audio track #{track.index} language unknown" + (
                f": queued only if not detected as {', '.join(banned)}"
                if outcome == "pending"
                else ""
            )
        elif lang in banned:
            outcome, reason = "fail", f"audio track #{track.index} is {lang}"
        else:
            outcome, reason = "pass", f"audio track #{track.index} is {lang}"
        out.append(_result("audio_language_not", cond.audio_language_not, outcome, reason))
    if cond.audio_track_count_min is not None:
        count = len(media.audio_tracks)
        ok = count >= cond.audio_track_count_min
        reason = f"{count} audio track{'s' if count != 1 else ''}"
        out.append(_result("audio_track_count_min", cond.audio_track_count_min, _ok(ok), reason))
    embedded = {s.language for s in media.embedded_subtitles if s.language and not s.forced}
    external = {s.language for s in media.external_subtitles if s.language and not s.forced}
    if cond.has_embedded_subtitle_lang:
        want = cond.has_embedded_subtitle_lang
        out.append(
            _subs("has_embedded_subtitle_lang", want, want in embedded, "embedded", embedded)
        )
    if cond.missing_embedded_subtitle_lang:
        want = cond.missing_embedded_subtitle_lang
        ok = want not in embedded
        out.append(_subs("missing_embedded_subtitle_lang", want, ok, "embedded", embedded))
    if cond.missing_external_subtitle_lang:
        want = cond.missing_external_subtitle_lang
        ok = want not in external
        out.append(_subs("missing_external_subtitle_lang", want, ok, "external", external))
    if cond.file_extension:
        ext = media.extension or "(none)"
        ok = media.extension in cond.file_extensions
        out.append(_result("file_extension", cond.file_extension, _ok(ok), f"extension is {ext}"))
    return out, track


def _ok(ok: bool) -> str:
    return "pass" if ok else "fail"


def _subs(name: str, want: str, ok: bool, where: str, found: set[str]) -> ConditionResult:
    listing = ", ".join(sorted(found)) or "none"
    return _result(name, want, _ok(ok), f"{where} full subtitles: {listing}")
