"""Which job a translation request becomes: `subtitle_translation` when the file already has a
text subtitle to translate (a rule's translate_subtitle action asks for it; the
translation_prefer_subtitles setting prefers it whenever the target needs a translation provider
anyway), otherwise the speech pipeline with a translating stage.

A subtitle_translation job records what it does: task `translate`, `source_lang` the subtitle's
language, the subtitle in `options.subtitle_source`; the audio's language (what the request said,
None: detect) is kept in `options.audio_lang` for a fall back to listening."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from subtitler.jobs.states import JobType, Task
from subtitler.translation.sources import SubtitleSource, choose_source
from subtitler.translation.stage import needs_provider


class SettingsLike(Protocol):
    def get(self, key: str) -> Any: ...


def subtitle_job(
    fields: dict[str, Any],
    *,
    sources: Sequence[dict[str, Any]] | Sequence[SubtitleSource],
    audio_language: str | None,
    wants_subtitle: bool,
    settings: SettingsLike | None,
) -> dict[str, Any]:
    """`fields` (queue columns) turned into a subtitle_translation job when that is the plan."""
    target = fields.get("target_lang")
    if not target or not sources:
        return fields
    prefer = bool(settings.get("translation_prefer_subtitles")) if settings else False
    if not wants_subtitle and not prefer:
        return fields
    if not wants_subtitle and not needs_provider(settings or {}, source=audio_language,
                                                 target=target):  # fmt: skip
        # Whisper alone reaches the target (the audio's language, or English by its translate
        # task): the setting only swaps listening + translating for translating a subtitle.
        return fields
    accepted = list(settings.get("translation_source_languages") or []) if settings else []
    candidates = [s if isinstance(s, SubtitleSource) else SubtitleSource(**s) for s in sources]
    chosen = choose_source(candidates, target=target, accepted=accepted,
                           audio_language=audio_language)  # fmt: skip
    if chosen is None:
        return fields
    options = {
        **(fields.get("options") or {}),
        "subtitle_source": chosen.model_dump(),
        "audio_lang": fields.get("source_lang"),
    }
    return {
        **fields,
        "job_type": JobType.SUBTITLE_TRANSLATION,
        "transcribe_or_translate": Task.TRANSLATE,
        "source_lang": chosen.language,
        "options": options,
    }
