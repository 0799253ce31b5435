"""ctranslate2 over the models installed by name (System > Models): `ctranslate2_model_dir`
names one (`nllb-200-distilled-600M`, `opus-mt-en-de`) or is empty, meaning every installed
translation model, each pair going to the first (catalog order) that offers it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from subtitler.modelstore.catalog import TRANSLATION
from subtitler.modelstore.store import installed_translation_models
from subtitler.translation.base import Pair, Provider, ensure_pair
from subtitler.translation.ct2 import CTranslate2Provider
from subtitler.translation.errors import TranslationUnavailable


def is_model_name(value: str) -> bool:
    """A bare name (no path separator): a model installed by name."""
    return bool(value) and "/" not in value and "\\" not in value and not value.startswith(".")


def named_model_dir(name: str, models_dir: Path | None) -> Path:
    if models_dir is None:
        raise TranslationUnavailable(f"translation provider ctranslate2: no models dir for {name}")
    path = TRANSLATION.root(models_dir) / name
    if not (path / "model.bin").is_file():
        raise TranslationUnavailable(
            f"translation provider ctranslate2: model {name} is not installed; install it in "
            "System > Models (setting model_download on) or set ctranslate2_model_dir to a "
            "converted model directory"
        )
    return path


class InstalledModelsProvider(Provider):
    name = "ctranslate2"
    keeps_tags = False
    batch_size = 32

    def __init__(self, providers: Sequence[CTranslate2Provider]) -> None:
        if not providers:
            raise TranslationUnavailable(
                "translation provider ctranslate2: no translation model is installed; install "
                "one in System > Models (setting model_download on) or set ctranslate2_model_dir"
            )
        self.providers = list(providers)
        self.model = ",".join(p.path.name for p in self.providers)

    @classmethod
    def from_models_dir(cls, models_dir: Path | None, **kwargs: object) -> InstalledModelsProvider:
        dirs = installed_translation_models(models_dir)
        return cls([CTranslate2Provider(model_dir=str(d), **kwargs) for d in dirs])  # type: ignore[arg-type]

    def check(self) -> None:
        for p in self.providers:
            p.check()

    def pairs(self) -> list[Pair]:
        out: dict[Pair, None] = {}
        for p in self.providers:
            out.update(dict.fromkeys(p.pairs()))
        return list(out)

    def _for(self, source: str, target: str) -> CTranslate2Provider:
        for p in self.providers:
            if p.supports(source, target):
                return p
        ensure_pair(self, source, target)  # raises naming what is offered
        raise AssertionError("unreachable")

    def translate(
        self, texts: Sequence[str], *, source: str, target: str, context: Sequence[str] = ()
    ) -> list[str]:
        return self._for(source, target).translate(texts, source=source, target=target,
                                                   context=context)  # fmt: skip
