"""The provider interface every translation backend implements, and the pair check."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from subtitler.media.languages import parse_language
from subtitler.translation.errors import UnsupportedPair


@dataclass(frozen=True, slots=True)
class Pair:
    source: str  # ISO 639-2/T
    target: str

    def __str__(self) -> str:
        return f"{self.source}->{self.target}"


class Provider(ABC):
    """Translates lists of short texts. Texts may carry inline <i>/<b>/<u> tags; a provider that
    cannot keep tags says so (`keeps_tags`) and gets plain text."""

    name: str = ""
    keeps_tags: bool = True
    batch_size: int = 50  # texts per request
    # The model is part of the cache key: a different model must not reuse another's output.
    model: str = ""

    @abstractmethod
    def check(self) -> None:
        """Raise TranslationUnavailable when the provider cannot run or be reached."""

    @abstractmethod
    def pairs(self) -> list[Pair] | None:
        """The pairs offered; None when any pair of known languages may be asked."""

    concurrency: int = 1  # batches in flight at once

    @abstractmethod
    def translate(
        self, texts: Sequence[str], *, source: str, target: str, context: Sequence[str] = ()
    ) -> list[str]:
        """One translation per text, in order (raises ProviderError). `context`: the source
        texts just before these, for providers that can use them (not to be translated)."""

    def supports(self, source: str, target: str) -> bool:
        pairs = self.pairs()
        if pairs is None:
            return True
        return Pair(source, target) in set(pairs)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections or models."""


def normalise_pair(source: str, target: str) -> tuple[str, str]:
    return parse_language(source) or source, parse_language(target) or target


def ensure_pair(provider: Provider, source: str, target: str) -> None:
    """UnsupportedPair naming the provider and pair (and what it offers) when it cannot."""
    source, target = normalise_pair(source, target)
    if provider.supports(source, target):
        return
    offered = provider.pairs() or []
    shown = ", ".join(str(p) for p in offered[:12]) + (" ..." if len(offered) > 12 else "")
    raise UnsupportedPair(
        f"translation provider {provider.name} cannot translate {source}->{target}"
        + (f" (it offers {shown})" if offered else "")
    )
