"""Translate many short texts with a provider: cache first, then batches (with the source texts
before each batch as context) run `provider.concurrency` at a time, progress and ETA per batch.
All or nothing: any batch that fails fails the whole call, so nothing half-translated is used."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from subtitler.errors import SubtitlerError
from subtitler.translation.base import Provider
from subtitler.translation.cache import CacheKey, TranslationCache
from subtitler.translation.errors import ProviderError, TransientError
from subtitler.translation.markup import clean_translation, strip_tags

logger = logging.getLogger(__name__)

Progress = Callable[[int, int, float | None], None]  # (done, total, eta seconds)


class TranslationCancelled(SubtitlerError):
    code = "cancelled"


@dataclass(frozen=True)
class Translated:
    texts: list[str]  # one per input text
    characters: int  # characters sent to the provider (cache hits cost nothing)
    cached: int  # texts answered from the cache
    elapsed: float


def translate_texts(
    provider: Provider,
    texts: Sequence[str],
    *,
    source: str,
    target: str,
    cache: TranslationCache,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> Translated:
    started = time.monotonic()
    prepared = [t if provider.keeps_tags else strip_tags(t) for t in texts]
    key = CacheKey(provider.name, provider.model, source, target)
    unique = list(dict.fromkeys(t for t in prepared if t.strip()))
    done: dict[str, str] = dict(cache.get_many(key, unique)) if unique else {}
    cached = sum(1 for t in prepared if t in done)
    todo = [t for t in unique if t not in done]
    size = max(1, provider.batch_size)
    batches = [todo[i : i + size] for i in range(0, len(todo), size)]
    position = {t: i for i, t in enumerate(prepared)}
    finished = 0

    def run(batch: list[str]) -> list[str]:
        if cancelled():
            raise TranslationCancelled("cancelled")
        first = position.get(batch[0], 0)
        context = [t for t in prepared[max(0, first - 5) : first] if t.strip()]
        try:
            out = provider.translate(batch, source=source, target=target, context=context)
        except TransientError as exc:
            raise ProviderError(
                f"{provider.name}: {exc.detail}", http_status=exc.http_status
            ) from None
        if len(out) != len(batch):
            raise ProviderError(f"{provider.name} returned {len(out)} texts for {len(batch)}")
        return [clean_translation(t) for t in out]

    if progress is not None:
        progress(0, len(batches), None)
    workers = max(1, min(provider.concurrency, len(batches)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="translate") as pool:
        pending: dict[Future[list[str]], list[str]] = {}
        queue = list(batches)
        try:
            while queue or pending:
                while queue and len(pending) < workers:
                    batch = queue.pop(0)
                    pending[pool.submit(run, batch)] = batch
                ready, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in ready:
                    batch = pending.pop(future)
                    out = future.result()
                    done.update(zip(batch, out, strict=True))
                    cache.put_many(key, list(zip(batch, out, strict=True)))
                    finished += 1
                    if progress is not None:
                        elapsed = time.monotonic() - started
                        eta = elapsed / finished * (len(batches) - finished)
                        progress(finished, len(batches), eta)
                if cancelled():
                    raise TranslationCancelled("cancelled")
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    result = [done.get(t, t) if t.strip() else t for t in prepared]
    return Translated(
        texts=result,
        characters=sum(len(t) for t in todo),
        cached=cached,
        elapsed=time.monotonic() - started,
    )
