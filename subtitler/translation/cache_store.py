"""The database side of the translation cache, run by the supervisor (the node's one DB writer)
for its worker processes' CACHE_GET / CACHE_PUT messages, and by the API's test endpoint."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from subtitler.db import Database
from subtitler.db.models import utcnow
from subtitler.db.models_translation import TranslationCacheEntry
from subtitler.translation.cache import CacheKey, text_hash

logger = logging.getLogger(__name__)

MAX_TEXTS = 20_000  # one lookup's size cap (a 3-hour film has ~2,500 cues)


class TranslationCacheStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_many(self, key: CacheKey, texts: Sequence[str]) -> dict[str, str]:
        wanted = {text_hash(t): t for t in list(texts)[:MAX_TEXTS]}
        found: dict[str, str] = {}
        hashes = list(wanted)
        async with self._db.read() as session:
            for i in range(0, len(hashes), 500):
                rows = await session.execute(
                    select(
                        TranslationCacheEntry.text_sha256, TranslationCacheEntry.translation
                    ).where(
                        TranslationCacheEntry.provider == key.provider,
                        TranslationCacheEntry.model == key.model,
                        TranslationCacheEntry.source_lang == key.source,
                        TranslationCacheEntry.target_lang == key.target,
                        TranslationCacheEntry.text_sha256.in_(hashes[i : i + 500]),
                    )
                )
                for sha, translation in rows.all():
                    found[wanted[sha]] = translation
        return found

    async def put_many(self, key: CacheKey, pairs: Sequence[tuple[str, str]]) -> None:
        if not pairs:
            return
        now = utcnow()
        rows = {
            text_hash(text): {
                "provider": key.provider, "model": key.model, "source_lang": key.source,
                "target_lang": key.target, "text_sha256": text_hash(text), "text": text,
                "translation": translation, "created_at": now,
            }
            for text, translation in list(pairs)[:MAX_TEXTS]
        }  # fmt: skip
        insert = sqlite_insert if self._db.is_sqlite else pg_insert
        async with self._db.write() as session:
            await session.execute(
                insert(TranslationCacheEntry).on_conflict_do_nothing(), list(rows.values())
            )

    async def handle(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """A worker's cache message; the answer to send back for a get."""
        key = CacheKey(**payload["key"])
        if kind == "cache_get":
            try:
                found = await self.get_many(key, payload["texts"])
            except Exception:  # a cache that fails must not fail the job
                logger.exception("translation cache lookup failed")
                found = {}
            return {"request_id": payload["request_id"], "found": found}
        try:
            await self.put_many(key, [tuple(p) for p in payload["pairs"]])
        except Exception:
            logger.exception("translation cache write failed")
        return None
