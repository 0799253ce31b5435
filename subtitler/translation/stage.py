"""The `translating` stage of a job: the pre-check before any work, and cues -> translated,
re-flowed cues with progress, ETA and what it cost (characters, provider) on the job."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from subtitler.errors import SubtitlerError
from subtitler.jobs.states import Stage
from subtitler.media.languages import parse_language, same_language
from subtitler.subtitles.cues import Cue, CueStyle
from subtitler.translation import conventions
from subtitler.translation.base import Provider, ensure_pair
from subtitler.translation.cache import cache_of
from subtitler.translation.engine import translate_texts
from subtitler.translation.errors import TranslationUnavailable
from subtitler.translation.markup import SourceCue, Unit
from subtitler.translation.reflow import TranslatedCue, reflow
from subtitler.translation.registry import make_provider
from subtitler.translation.sentences import continue_case, hand_back, sentences

logger = logging.getLogger(__name__)

ENGLISH = "eng"


class StageReporter(Protocol):
    def progress(
        self, progress: float, *, stage: str | None = None, eta_seconds: float | None = None,
        **fields: Any,
    ) -> None: ...  # fmt: skip

    def log(self, message: str, *, level: str = "info") -> None: ...

    def cancelled(self) -> bool: ...


def needs_provider(settings: Any, *, source: str | None, target: str | None) -> bool:
    """True when the target is another language than the audio's and Whisper will not do it."""
    if not target or not source or same_language(source, target):
        return False
    via = str(settings.get("translation_english_via") or "whisper")
    return not (same_language(target, ENGLISH) and via == "whisper")


def precheck(
    settings: Mapping[str, Any], *, source: str | None, target: str | None, device: str = "cpu"
) -> Provider:
    """The provider for source -> target, ready; raises translation_unavailable or
    translation_unsupported_pair (detail naming provider and pair) before any work is done."""
    if not source or not target:
        raise TranslationUnavailable("translation needs a known source and target language")
    source, target = parse_language(source) or source, parse_language(target) or target
    try:
        provider = make_provider(settings, device=device)
        provider.check()
        ensure_pair(provider, source, target)
    except SubtitlerError as exc:
        if exc.code == "translation_unavailable" and f"{source}->{target}" not in exc.detail:
            exc.detail = f"{exc.detail} (needed for {source}->{target})"
        elif exc.code == "translation_provider_error":  # unreachable or refusing before work
            exc.detail = f"{exc.detail} (needed for {source}->{target})"
            exc.code = "translation_unavailable"
        raise
    return provider


def translate_cues(
    cues: Sequence[SourceCue],
    *,
    provider: Provider,
    source: str,
    target: str,
    style: CueStyle,
    reporter: StageReporter,
    low: float,
    high: float,
    fields: dict[str, Any],
) -> list[Cue]:
    """Translated, re-flowed cues; every cue or none (an error leaves nothing half-done)."""
    source, target = parse_language(source) or source, parse_language(target) or target
    fields["translation_provider"] = provider.name
    target_style = style.for_language(target)
    grouped = sentences(cues, target_style)
    texts = [u.text for sentence in grouped for u in sentence.units]
    reporter.progress(low, stage=Stage.TRANSLATING, translation_provider=provider.name)

    def on_progress(done: int, total: int, eta: float | None) -> None:
        fraction = done / total if total else 1.0
        reporter.progress(low + (high - low) * fraction, stage=Stage.TRANSLATING,
                          eta_seconds=round(eta, 1) if eta is not None else None)  # fmt: skip

    try:
        result = translate_texts(
            provider, texts, source=source, target=target, cache=cache_of(reporter),
            progress=on_progress, cancelled=reporter.cancelled,
        )  # fmt: skip
    except SubtitlerError as exc:
        exc.fields = {**getattr(exc, "fields", {}), **fields}  # type: ignore[attr-defined]
        reporter.log(f"translation with {provider.name} failed: {exc.detail}", level="error")
        raise
    finally:
        provider.close()
    fields["translated_characters"] = result.characters
    translated: list[TranslatedCue] = []
    it = iter(result.texts)
    for i, sentence in enumerate(grouped):
        out = []
        for unit in sentence.units:
            text = continue_case(unit.text, next(it))
            text = conventions.apply(text, source_text=unit.text, source=source, target=target)
            out.append(Unit(text=text, italic=unit.italic))
        if not sentence.joined:
            translated.append(TranslatedCue(source=sentence.cues[0], units=tuple(out)))
            continue
        before = grouped[i - 1].cues[-1].end if i else -target_style.min_gap
        after = grouped[i + 1].cues[0].start if i + 1 < len(grouped) else math.inf
        translated.extend(
            hand_back(sentence, out[0].text, target_style, before=before, after=after)
        )
    final = reflow(translated, target_style)
    reporter.log(
        f"translated {len(cues)} cues as {len(grouped)} sentences {source}->{target} "
        f"with {provider.name}"
        + (f" ({provider.model})" if provider.model and provider.model != provider.name else "")
        + f": {result.characters} characters sent, {result.cached} from the cache, "
        f"{result.elapsed:.1f} s; {len(final)} cues after re-flow"
    )
    return final


def source_cues(cues: Sequence[Cue]) -> list[SourceCue]:
    """Cues the cue builder made from speech, as translation input."""
    return [SourceCue(start=c.start, end=c.end, lines=c.lines) for c in cues]
