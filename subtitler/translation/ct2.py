"""ctranslate2: a local NLLB-200, M2M-100 or OPUS-MT (Marian) model directory converted with
`ct2-transformers-converter`, with its sentencepiece model. Runs in the worker process like
Whisper (CPU int8 or CUDA), kept warm between jobs and unloaded when idle."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from subtitler.media.languages import parse_language
from subtitler.translation import languages
from subtitler.translation.base import Pair, Provider, ensure_pair
from subtitler.translation.errors import ProviderError, TranslationUnavailable

logger = logging.getLogger(__name__)

FAMILIES = ("auto", "nllb", "m2m100", "opus-mt")
_NLLB_TOKEN = re.compile(r"^[a-z]{3}_[A-Z][a-z]{3}$")
_M2M_TOKEN = re.compile(r"^__([a-z]{2,3})__$")
_OPUS_NAME = re.compile(r"opus-mt-([a-z]{2,3})-([a-z]{2,3})(?:$|[^a-z])", re.I)


@dataclass(frozen=True)
class ModelLayout:
    """What a converted model directory holds and how its languages are spelled."""

    path: Path
    family: str  # nllb | m2m100 | opus-mt
    source_spm: Path
    target_spm: Path
    languages: tuple[str, ...]  # ISO 639-2/T codes the model has tokens for (nllb, m2m100)
    opus_pair: Pair | None = None


def read_vocabulary(path: Path) -> list[str]:
    for name in ("shared_vocabulary.json", "target_vocabulary.json"):
        file = path / name
        if file.exists():
            data = json.loads(file.read_text(encoding="utf-8"))
            return [str(t) for t in data]
    for name in ("shared_vocabulary.txt", "target_vocabulary.txt"):
        file = path / name
        if file.exists():
            return file.read_text(encoding="utf-8").splitlines()
    return []


def inspect_model(path: Path, *, family: str = "auto", pair: str = "") -> ModelLayout:
    """The layout of a converted model dir; TranslationUnavailable naming what is missing."""
    if not path.is_dir() or not (path / "model.bin").exists():
        raise TranslationUnavailable(
            f"translation provider ctranslate2: {path} is not a converted model directory "
            "(no model.bin; see ct2-transformers-converter in the README)"
        )
    if family not in FAMILIES:
        raise TranslationUnavailable(f"ctranslate2_model_family must be one of {FAMILIES}")
    vocab = read_vocabulary(path)
    if family == "auto":
        if (path / "source.spm").exists():
            family = "opus-mt"
        elif any(_NLLB_TOKEN.match(t) for t in vocab):
            family = "nllb"
        elif any(_M2M_TOKEN.match(t) for t in vocab):
            family = "m2m100"
        else:
            raise TranslationUnavailable(
                f"translation provider ctranslate2: cannot tell the model family of {path}; "
                "set ctranslate2_model_family"
            )
    if family == "opus-mt":
        src, tgt = path / "source.spm", path / "target.spm"
        opus = _opus_pair(path, pair)
        langs: tuple[str, ...] = ()
    else:
        spm = next((p for p in sorted(path.glob("*.model")) if "sentencepiece" in p.name), None)
        spm = spm or next(iter(sorted(path.glob("*.model"))), None)
        if spm is None:
            raise TranslationUnavailable(
                f"translation provider ctranslate2: no sentencepiece model (*.model) in {path}; "
                "copy sentencepiece.bpe.model from the original model"
            )
        src = tgt = spm
        opus = None
        codes = []
        for token in vocab:
            if family == "nllb" and _NLLB_TOKEN.match(token):
                codes.append(languages.from_provider_code(token))
            elif family == "m2m100" and (m := _M2M_TOKEN.match(token)):
                codes.append(parse_language(m.group(1)))
        langs = tuple(c for c in dict.fromkeys(codes) if c)
    for file in (src, tgt):
        if not file.exists():
            raise TranslationUnavailable(
                f"translation provider ctranslate2: {file.name} is missing in {path}"
            )
    return ModelLayout(path=path, family=family, source_spm=src, target_spm=tgt,
                       languages=langs, opus_pair=opus)  # fmt: skip


def _opus_pair(path: Path, pair: str) -> Pair | None:
    text = pair.strip()
    if text:
        parts = re.split(r"[-_>]+", text)
    else:
        match = _OPUS_NAME.search(path.name)
        parts = [match.group(1), match.group(2)] if match else []
    if len(parts) == 2:
        source, target = parse_language(parts[0]), parse_language(parts[1])
        if source and target:
            return Pair(source, target)
    raise TranslationUnavailable(
        f"translation provider ctranslate2: an OPUS-MT model translates one pair; name it in "
        f"ctranslate2_language_pair (e.g. eng-spa) or keep the opus-mt-xx-yy folder name ({path})"
    )


def source_tokens(layout: ModelLayout, pieces: list[str], source: str) -> list[str]:
    """The encoder input: NLLB `spa_Latn ... </s>`, M2M `__es__ ... </s>`, Marian `... </s>`."""
    if layout.family == "nllb":
        return [languages.nllb_code(source) or source, *pieces, "</s>"]
    if layout.family == "m2m100":
        return [languages.m2m_token(source) or source, *pieces, "</s>"]
    return [*pieces, "</s>"]


def target_prefix(layout: ModelLayout, target: str) -> list[str] | None:
    if layout.family == "nllb":
        return [languages.nllb_code(target) or target]
    if layout.family == "m2m100":
        return [languages.m2m_token(target) or target]
    return None


class _Loaded:
    def __init__(self, layout: ModelLayout, device: str, compute_type: str) -> None:
        import ctranslate2
        import sentencepiece

        self.layout = layout
        try:
            self.translator = ctranslate2.Translator(
                str(layout.path), device=device, compute_type=compute_type
            )
            self.device = device
        except (RuntimeError, ValueError) as exc:
            if device == "cpu":
                raise
            logger.warning("ctranslate2 cannot use %s (%s): falling back to CPU", device, exc)
            self.translator = ctranslate2.Translator(str(layout.path), device="cpu",
                                                     compute_type="int8")  # fmt: skip
            self.device = "cpu"
        self.sp_source = sentencepiece.SentencePieceProcessor(model_file=str(layout.source_spm))
        self.sp_target = sentencepiece.SentencePieceProcessor(model_file=str(layout.target_spm))
        self.last_used = time.monotonic()


_WARM: dict[tuple[str, str, str], _Loaded] = {}
_LOCK = threading.Lock()


def unload_idle(idle_seconds: float) -> int:
    """Drop models unused for `idle_seconds` (0: keep); returns how many went."""
    if idle_seconds <= 0:
        return 0
    now = time.monotonic()
    with _LOCK:
        stale = [k for k, m in _WARM.items() if now - m.last_used > idle_seconds]
        for key in stale:
            logger.info("unloading idle translation model %s", key[0])
            del _WARM[key]
    return len(stale)


def loaded_models() -> list[str]:
    return [key[0] for key in _WARM]


class CTranslate2Provider(Provider):
    name = "ctranslate2"
    keeps_tags = False
    batch_size = 32

    def __init__(
        self,
        *,
        model_dir: str,
        family: str = "auto",
        language_pair: str = "",
        device: str = "cpu",
        compute_type: str = "int8",
        beam_size: int = 2,
    ) -> None:
        if not model_dir:
            raise TranslationUnavailable(
                "translation provider ctranslate2: ctranslate2_model_dir is not set"
            )
        self.path = Path(model_dir)
        self.family = family
        self.language_pair = language_pair
        self.device = "cuda" if device == "cuda" else "cpu"
        self.compute_type = compute_type
        self.beam_size = beam_size
        self.model = str(self.path)
        self._layout: ModelLayout | None = None

    def layout(self) -> ModelLayout:
        if self._layout is None:
            self._layout = inspect_model(self.path, family=self.family, pair=self.language_pair)
        return self._layout

    def check(self) -> None:
        self.layout()

    def pairs(self) -> list[Pair]:
        layout = self.layout()
        if layout.opus_pair is not None:
            return [layout.opus_pair]
        return [Pair(s, t) for s in layout.languages for t in layout.languages if s != t]

    def _model(self) -> _Loaded:
        key = (str(self.path), self.device, self.compute_type)
        with _LOCK:
            loaded = _WARM.get(key)
            if loaded is None:
                started = time.monotonic()
                loaded = _Loaded(self.layout(), self.device, self.compute_type)
                _WARM[key] = loaded
                logger.info("loaded translation model %s on %s in %.1f s", self.path,
                            loaded.device, time.monotonic() - started)  # fmt: skip
            loaded.last_used = time.monotonic()
        return loaded

    def translate(
        self, texts: Sequence[str], *, source: str, target: str, context: Sequence[str] = ()
    ) -> list[str]:
        if not texts:
            return []
        ensure_pair(self, source, target)
        model = self._model()
        layout = model.layout
        batch = [source_tokens(layout, model.sp_source.encode(t, out_type=str), source)
                 for t in texts]  # fmt: skip
        prefix = target_prefix(layout, target)
        kwargs: dict[str, Any] = {"beam_size": self.beam_size, "max_batch_size": 32,
                                  "max_decoding_length": 256}  # fmt: skip
        if prefix is not None:
            kwargs["target_prefix"] = [prefix] * len(batch)
        try:
            results = model.translator.translate_batch(batch, **kwargs)
        except (RuntimeError, ValueError) as exc:
            raise ProviderError(f"ctranslate2: {exc}") from None
        out = []
        for result in results:
            tokens = list(result.hypotheses[0])
            if prefix is not None and tokens[: len(prefix)] == prefix:
                tokens = tokens[len(prefix) :]
            out.append(model.sp_target.decode(tokens).strip())
        model.last_used = time.monotonic()
        return out
