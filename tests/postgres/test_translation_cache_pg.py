"""The translation cache on PostgreSQL: keyed rows, a second write of the same key is ignored."""

from __future__ import annotations

from sqlalchemy import delete

from subtitler.daemon import Daemon
from subtitler.db.models_translation import TranslationCacheEntry
from subtitler.translation.cache import CacheKey
from subtitler.translation.cache_store import TranslationCacheStore
from tests.postgres.test_postgres import pg_daemon  # noqa: F401  (fixture)


async def test_translation_cache_on_postgres(pg_daemon: Daemon) -> None:  # noqa: F811
    async with pg_daemon.db.write() as session:
        await session.execute(delete(TranslationCacheEntry))
    store = TranslationCacheStore(pg_daemon.db)
    key = CacheKey("deepl", "deepl", "eng", "spa")
    await store.put_many(key, [("Hello.", "Hola."), ("Bye.", "Adiós.")])
    await store.put_many(key, [("Hello.", "Hola otra vez.")])  # the first answer stays
    assert await store.get_many(key, ["Hello.", "Bye.", "New."]) == {
        "Hello.": "Hola.",
        "Bye.": "Adiós.",
    }
    other = CacheKey("deepl", "deepl", "eng", "fra")
    assert await store.get_many(other, ["Hello."]) == {}
    answer = await store.handle(
        "cache_get", {"key": key.as_dict(), "texts": ["Bye."], "request_id": "r1"}
    )
    assert answer == {"request_id": "r1", "found": {"Bye.": "Adiós."}}
