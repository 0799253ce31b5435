"""What can be installed by name, per kind. Another kind (diarization pipelines) adds a `Kind`
to KINDS: the store, the service and the Models view need no change beyond that.

Translation models are public CTranslate2 conversions on the Hugging Face hub (converted with
`ct2-transformers-converter`, int8 where one exists); a conversion that left the sentencepiece
model out takes it from the original repository (`extra`). Sizes are what the hub listed when
the catalog was written (the download checks the hub's own sizes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from subtitler.media.languages import parse_language

MB = 1_000_000


@dataclass(frozen=True)
class Entry:
    kind: str  # "whisper" | "translation" (| "diarization" later)
    name: str  # the name users and settings use; also the installed folder's name
    repo: str
    size_bytes: int  # approximate download size
    description: str = ""
    revision: str = "main"
    family: str = ""  # translation: nllb | m2m100 | opus-mt
    languages: tuple[str, ...] = ()  # ISO 639-2/T; () = see `any_language`
    any_language: bool = False  # NLLB/M2M-100: any pair of their many languages
    pair: tuple[str, str] | None = None  # OPUS-MT: its one pair
    # (repo, filename) fetched when the main repo lacks a file of that name
    extra: tuple[tuple[str, str], ...] = ()
    license: str = ""

    def translates(self, source: str | None, target: str) -> bool:
        if self.kind != "translation":
            return False
        if self.pair is not None:
            return (source is None or self.pair[0] == source) and self.pair[1] == target
        if self.any_language:
            return target in self.languages or not self.languages
        return target in self.languages


@dataclass(frozen=True)
class Kind:
    name: str
    # which files of the repo a model needs (the rest: READMEs, PyTorch weights, tokenizer.json)
    wanted: re.Pattern[str]
    # where installed models of this kind live, under the daemon's models dir
    subdir: str = ""
    entries: tuple[Entry, ...] = field(default=())
    # the files an installed model of this kind has (CTranslate2 models: these two)
    required: tuple[str, ...] = ("model.bin", "config.json")

    def root(self, models_dir: Path) -> Path:
        return models_dir / self.subdir if self.subdir else models_dir


# NLLB-200 and M2M-100 both cover these (and many more); the list is what the UI and the
# wizard match a target against. NLLB covers every FLORES-200 language; M2M-100 its 100.
COMMON = (
    "eng",
    "spa",
    "fra",
    "deu",
    "ita",
    "por",
    "nld",
    "swe",
    "dan",
    "nor",
    "fin",
    "pol",
    "ces",
    "slk",
    "hun",
    "ron",
    "bul",
    "ell",
    "rus",
    "ukr",
    "tur",
    "ara",
    "heb",
    "fas",
    "hin",
    "ben",
    "urd",
    "tam",
    "tel",
    "tha",
    "vie",
    "ind",
    "msa",
    "zho",
    "jpn",
    "kor",
    "cat",
    "eus",
    "glg",
    "hrv",
    "srp",
    "slv",
    "est",
    "lav",
    "lit",
    "isl",
    "gle",
    "cym",
    "swa",
    "afr",
    "tgl",
)

_WHISPER_REPOS = {
    "tiny.en": ("Systran/faster-whisper-tiny.en", 75),
    "tiny": ("Systran/faster-whisper-tiny", 75),
    "base.en": ("Systran/faster-whisper-base.en", 145),
    "base": ("Systran/faster-whisper-base", 145),
    "small.en": ("Systran/faster-whisper-small.en", 484),
    "small": ("Systran/faster-whisper-small", 484),
    "medium.en": ("Systran/faster-whisper-medium.en", 1530),
    "medium": ("Systran/faster-whisper-medium", 1530),
    "large-v1": ("Systran/faster-whisper-large-v1", 3090),
    "large-v2": ("Systran/faster-whisper-large-v2", 3090),
    "large-v3": ("Systran/faster-whisper-large-v3", 3090),
    "large-v3-turbo": ("mobiuslabsgmbh/faster-whisper-large-v3-turbo", 1620),
    "distil-large-v3": ("Systran/faster-distil-whisper-large-v3", 1510),
    "distil-large-v3.5": ("distil-whisper/distil-large-v3.5-ct2", 1510),
    "distil-medium.en": ("Systran/faster-distil-whisper-medium.en", 789),
    "distil-small.en": ("Systran/faster-distil-whisper-small.en", 332),
}

WHISPER = Kind(
    name="whisper",
    wanted=re.compile(
        r"^(model\.bin|config\.json|tokenizer\.json|vocabulary\.(txt|json)"
        r"|preprocessor_config\.json)$"
    ),
    entries=tuple(
        Entry(
            kind="whisper",
            name=name,
            repo=repo,
            size_bytes=mb * MB,
            license="MIT",
            description="English only" if name.endswith(".en") else "multilingual",
        )
        for name, (repo, mb) in _WHISPER_REPOS.items()
    ),
)

# OPUS-MT pairs converted by the `gaudi` account (one model per direction, Apache-2.0).
_OPUS_PAIRS = (
    "en-es",
    "es-en",
    "en-fr",
    "fr-en",
    "en-de",
    "de-en",
    "en-it",
    "it-en",
    "en-nl",
    "nl-en",
    "en-sv",
    "sv-en",
    "en-ru",
    "ru-en",
    "en-zh",
    "zh-en",
)


def _opus(pair: str) -> Entry:
    src, tgt = pair.split("-")
    codes = (parse_language(src) or src, parse_language(tgt) or tgt)
    return Entry(
        kind="translation",
        name=f"opus-mt-{pair}",
        repo=f"gaudi/opus-mt-{pair}-ctranslate2",
        size_bytes=300 * MB,
        family="opus-mt",
        pair=codes,
        languages=codes,
        license="Apache-2.0",
        description=f"OPUS-MT {codes[0]}→{codes[1]} (one direction, small and fast)",
    )


TRANSLATION = Kind(
    name="translation",
    subdir="translation",
    wanted=re.compile(
        r"^(model\.bin|config\.json|(shared|source|target)_vocabulary\.(txt|json)"
        r"|source\.spm|target\.spm|[^/]*sentencepiece[^/]*\.model)$"
    ),
    entries=(
        Entry(
            kind="translation",
            name="nllb-200-distilled-600M",
            repo="JustFrederik/nllb-200-distilled-600M-ct2-int8",
            size_bytes=628 * MB,
            family="nllb",
            any_language=True,
            languages=COMMON,
            license="CC-BY-NC-4.0",
            extra=(("facebook/nllb-200-distilled-600M", "sentencepiece.bpe.model"),),
            description="NLLB-200 distilled 600M: any pair of 200 languages",
        ),
        Entry(
            kind="translation",
            name="nllb-200-distilled-1.3B",
            repo="OpenNMT/nllb-200-distilled-1.3B-ct2-int8",
            size_bytes=1380 * MB,
            family="nllb",
            any_language=True,
            languages=COMMON,
            license="CC-BY-NC-4.0",
            extra=(("facebook/nllb-200-distilled-1.3B", "sentencepiece.bpe.model"),),
            description="NLLB-200 distilled 1.3B: better, slower, 200 languages",
        ),
        Entry(
            kind="translation",
            name="m2m100-418M",
            repo="michaelfeil/ct2fast-m2m100_418M",
            size_bytes=970 * MB,
            family="m2m100",
            any_language=True,
            languages=COMMON,
            license="MIT",
            extra=(("facebook/m2m100_418M", "sentencepiece.bpe.model"),),
            description="M2M-100 418M: any pair of 100 languages",
        ),
        *(_opus(p) for p in _OPUS_PAIRS),
    ),
)

KINDS: dict[str, Kind] = {k.name: k for k in (WHISPER, TRANSLATION)}


def register(kind: Kind) -> None:
    """Add a kind of model (diarization pipelines) to the store and the Models view."""
    KINDS[kind.name] = kind


def entry(kind: str, name: str) -> Entry | None:
    k = KINDS.get(kind)
    return next((e for e in k.entries if e.name == name), None) if k else None


def translation_for(source: str | None, target: str) -> list[Entry]:
    """Catalog models that would translate source -> target, smallest first."""
    target = parse_language(target) or target
    source = parse_language(source) if source else None
    found = [
        e
        for e in TRANSLATION.entries
        if e.translates(source, target)
        and (source is None or e.pair is not None or source in e.languages)
    ]
    return sorted(found, key=lambda e: e.size_bytes)
