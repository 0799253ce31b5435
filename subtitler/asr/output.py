"""The answer formats of the ASR endpoints: whisper-asr-webservice's txt/vtt/srt/tsv/json and
OpenAI's json/verbose_json. Subtitles go through the same readable cue builder as library jobs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from subtitler.subtitles.cues import Cue, Segment
from subtitler.subtitles.formats import render
from subtitler.subtitles.speakers import speaker_runs

MEDIA_TYPES = {
    "json": "application/json",
    "verbose_json": "application/json",
    "openai_json": "application/json",
    "diarized_json": "application/json",
    "vtt": "text/vtt; charset=utf-8",
}


def media_type(output: str) -> str:
    return MEDIA_TYPES.get(output, "text/plain; charset=utf-8")


def full_text(segments: Sequence[Segment]) -> str:
    return " ".join(seg.text.strip() for seg in segments if seg.text.strip())


def render_asr(
    output: str,
    *,
    cues: Sequence[Cue],
    segments: Sequence[Segment],
    language: str,
    language_name: str,
    duration: float,
    task: str,
) -> str:
    if output in ("srt", "vtt"):
        return render(cues, fmt=output)
    if output == "txt":
        return "".join(seg.text.strip() + "\n" for seg in segments if seg.text.strip())
    if output == "tsv":
        rows = ["start\tend\ttext"]
        rows += [f"{round(c.start * 1000)}\t{round(c.end * 1000)}\t{' '.join(c.lines)}"
                 for c in cues]  # fmt: skip
        return "\n".join(rows) + "\n"
    if output == "json":
        doc: dict[str, Any] = {
            "text": full_text(segments),
            "language": language,
            "segments": [_segment(i, seg) for i, seg in enumerate(segments)],
        }
        return json.dumps(doc, ensure_ascii=False)
    if output == "diarized_json":  # OpenAI's TranscriptionDiarized
        return json.dumps(
            {
                "task": "transcribe",
                "duration": round(duration, 3),
                "text": full_text(segments),
                "segments": [
                    {
                        "type": "transcript.text.segment",
                        "id": f"seg_{i}",
                        "start": round(start, 3),
                        "end": round(end, 3),
                        "text": text,
                        "speaker": speaker,
                    }
                    for i, (speaker, start, end, text) in enumerate(speaker_runs(segments))
                ],
                "usage": {"type": "duration", "seconds": round(duration)},
            },
            ensure_ascii=False,
        )
    if output == "openai_json":
        return json.dumps({"text": full_text(segments)}, ensure_ascii=False)
    if output == "verbose_json":
        return json.dumps(
            {
                "task": task,
                "language": language_name.lower(),
                "duration": round(duration, 3),
                "text": full_text(segments),
                "segments": [_segment(i, seg) for i, seg in enumerate(segments)],
                "words": [_word(w) for seg in segments for w in seg.words],
            },
            ensure_ascii=False,
        )
    raise ValueError(f"unknown output {output!r}")


def _segment(index: int, seg: Segment) -> dict[str, Any]:
    return {
        "id": index,
        "start": round(seg.start, 3),
        "end": round(seg.end, 3),
        "text": seg.text.strip(),
        "avg_logprob": round(seg.avg_logprob, 4),
        "no_speech_prob": round(seg.no_speech_prob, 4),
        **({"speaker": seg.speaker} if seg.speaker else {}),
        "words": [_word(w) for w in seg.words],
    }


def _word(word: Any) -> dict[str, Any]:
    return {
        "word": word.word.strip(),
        "start": round(word.start, 3),
        "end": round(word.end, 3),
        "probability": round(word.probability, 4),
        **({"speaker": word.speaker} if getattr(word, "speaker", None) else {}),
    }
