"""The translation cache: (provider, model, source, target, text) -> translation.

The database holds it (table translation_cache, written by the supervisor, the one DB writer of
a node). Worker processes reach it over their pipe (see subtitler.workers.child.Reporter);
`MemoryCache` serves the CLI and tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class CacheKey:
    provider: str
    model: str
    source: str
    target: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class TranslationCache(Protocol):
    def get_many(self, key: CacheKey, texts: Sequence[str]) -> dict[str, str]: ...

    def put_many(self, key: CacheKey, pairs: Sequence[tuple[str, str]]) -> None: ...


class MemoryCache:
    def __init__(self) -> None:
        self.entries: dict[tuple[CacheKey, str], str] = {}

    def get_many(self, key: CacheKey, texts: Sequence[str]) -> dict[str, str]:
        return {t: self.entries[(key, t)] for t in texts if (key, t) in self.entries}

    def put_many(self, key: CacheKey, pairs: Sequence[tuple[str, str]]) -> None:
        for text, translation in pairs:
            self.entries[(key, text)] = translation


class NoCache:
    def get_many(self, key: CacheKey, texts: Sequence[str]) -> dict[str, str]:
        return {}

    def put_many(self, key: CacheKey, pairs: Sequence[tuple[str, str]]) -> None:
        return None


def cache_of(reporter: Any) -> TranslationCache:
    """The reporter's cache when it offers one (a worker process's pipe), else none."""
    cache = getattr(reporter, "translation_cache", None)
    return cache if cache is not None else NoCache()
