"""Translation quality on the project's own parallel set (tests/data/parallel_eng_spa.tsv).

chrF (character 6-grams, beta 2, as sacrebleu's CHRF with its defaults; sacrebleu is not a
dependency) of three Spanish texts against the written reference, the whole text as one document
(cue boundaries differ from the reference's sentences):
- provider: the provider alone on the reference English sentences (the ceiling the issue names),
  and the same with the target's conventions applied (numbers, ¿ ¡: the stricter ceiling),
- srt: English cues built from the reference text (sentences spanning cues) -> spa,
- speech: the English text spoken by espeak-ng, transcribed by Whisper, translated (a real job).
`ratio` = speech / provider; the norms of every output are counted with tests/subnorms.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pysubs2

from subtitler.subtitles.cues import Cue, CueStyle, Segment, build_cues
from subtitler.translation import conventions
from subtitler.translation.cache import NoCache
from subtitler.translation.engine import translate_texts
from subtitler.translation.output import render_translated
from subtitler.translation.registry import make_provider
from subtitler.translation.stage import source_cues, translate_cues
from tests.subnorms import check

PARALLEL = Path(__file__).resolve().parent.parent / "tests" / "data" / "parallel_eng_spa.tsv"


def pairs(limit: int | None = None) -> list[tuple[str, str]]:
    rows = []
    for line in PARALLEL.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            english, spanish = line.split("\t")
            rows.append((english.strip(), spanish.strip()))
    return rows[:limit] if limit else rows


def _ngrams(text: str, n: int) -> Counter[str]:
    return Counter(text[i : i + n] for i in range(len(text) - n + 1))


def chrf(hypothesis: str, reference: str, *, order: int = 6, beta: float = 2.0) -> float:
    """chrF in 0-100 (Popović 2015; sacrebleu's averaging: precision and recall averaged over
    the orders, then F-beta; whitespace removed)."""
    hyp, ref = "".join(hypothesis.split()), "".join(reference.split())
    precisions, recalls = [], []
    for n in range(1, order + 1):
        h, r = _ngrams(hyp, n), _ngrams(ref, n)
        if not h or not r:
            continue
        match = sum((h & r).values())
        precisions.append(match / sum(h.values()))
        recalls.append(match / sum(r.values()))
    if not precisions:
        return 0.0
    p, r = sum(precisions) / len(precisions), sum(recalls) / len(recalls)
    if p + r == 0:
        return 0.0
    return round(100 * (1 + beta**2) * p * r / (beta**2 * p + r), 2)


def plain_text(srt: str) -> str:
    return " ".join(ev.plaintext.replace("\n", " ") for ev in pysubs2.SSAFile.from_string(srt))


def norms(srt: str) -> dict[str, int]:
    hard, soft = check(pysubs2.SSAFile.from_string(srt))
    style = CueStyle()
    events = pysubs2.SSAFile.from_string(srt).events
    return {
        "cues": len(events),
        "hard_violations": len(hard),
        "under_min_duration": sum(
            (e.end - e.start) / 1000 < style.min_duration - 0.001 for e in events
        ),
        "over_cps": sum("characters/s" in s for s in soft),
    }


class _Quiet:
    translation_cache = None

    def progress(self, progress: float, **_: Any) -> None:
        return None

    def log(self, message: str, *, level: str = "info") -> None:
        return None

    def cancelled(self) -> bool:
        return False


def english_cues(sentences: Sequence[str]) -> list[Cue]:
    """Cues the cue builder makes of the text read at 15 characters a second."""
    segments, t = [], 0.5
    for sentence in sentences:
        seconds = len(sentence) / 15
        segments.append(Segment(start=t, end=t + seconds, text=sentence))
        t += seconds + 0.4
    return build_cues(segments, CueStyle())


def quality(
    settings: dict[str, Any], speech_job: Callable[[str], str], *, limit: int | None = None
) -> dict[str, Any]:
    rows = pairs(limit)
    english = [e for e, _ in rows]
    reference = " ".join(s for _, s in rows)
    provider = make_provider(settings)
    try:
        raw = translate_texts(provider, english, source="eng", target="spa", cache=NoCache())
    finally:
        provider.close()
    provider_chrf = chrf(" ".join(raw.texts), reference)
    fixed = [
        conventions.apply(t, source_text=e, source="eng", target="spa")
        for t, e in zip(raw.texts, english, strict=True)
    ]
    provider_conventions_chrf = chrf(" ".join(fixed), reference)
    cues = english_cues(english)
    srt_cues = translate_cues(
        source_cues(cues), provider=make_provider(settings), source="eng", target="spa",
        style=CueStyle(), reporter=_Quiet(), low=0, high=1, fields={},
    )  # fmt: skip
    srt = render_translated(srt_cues, fmt="srt", language="spa")
    speech = speech_job(" ".join(english))
    speech_chrf = chrf(plain_text(speech), reference)
    srt_chrf = chrf(plain_text(srt), reference)
    return {
        "sentences": len(rows),
        "words": sum(len(e.split()) for e in english),
        "chrf_provider_on_reference": provider_chrf,
        "chrf_provider_with_conventions": provider_conventions_chrf,
        "chrf_srt": srt_chrf,
        "chrf_speech": speech_chrf,
        "ratio": round(speech_chrf / provider_chrf, 4) if provider_chrf else None,
        "srt_ratio": round(srt_chrf / provider_chrf, 4) if provider_chrf else None,
        "ratio_to_provider_with_conventions": round(speech_chrf / provider_conventions_chrf, 4)
        if provider_conventions_chrf
        else None,
        "norms_srt": norms(srt),
        "norms_speech": norms(speech),
    }
