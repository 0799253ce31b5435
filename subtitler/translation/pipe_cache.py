"""The translation cache as a worker process sees it: requests over its pipe to the supervisor,
which owns the database. A lost answer is a miss, never an error."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from subtitler.translation.cache import CacheKey

CACHE_GET = "cache_get"
CACHE_PUT = "cache_put"
PUT_CHUNK = 200


class _Requester(Protocol):
    def request(self, kind: str, payload: dict[str, Any], *, timeout: float = 30.0) -> Any: ...

    def _send(self, kind: str, payload: Any) -> None: ...


class PipeCache:
    def __init__(self, reporter: _Requester) -> None:
        self._reporter = reporter

    def get_many(self, key: CacheKey, texts: Sequence[str]) -> dict[str, str]:
        answer = self._reporter.request(CACHE_GET, {"key": key.as_dict(), "texts": list(texts)})
        if not answer:
            return {}
        found = answer.get("found") or {}
        return {str(k): str(v) for k, v in found.items()}

    def put_many(self, key: CacheKey, pairs: Sequence[tuple[str, str]]) -> None:
        items = [list(p) for p in pairs]
        for i in range(0, len(items), PUT_CHUNK):
            self._reporter._send(
                CACHE_PUT, {"key": key.as_dict(), "pairs": items[i : i + PUT_CHUNK]}
            )
