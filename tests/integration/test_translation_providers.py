"""The web providers against in-test servers speaking each API's documented shapes (127.0.0.1):
batching and the exact-count check, 429 then success, 401/403, timeouts, unsupported pairs."""

from __future__ import annotations

import time
from typing import Any

import pytest

from subtitler.settings import REGISTRY
from subtitler.translation.base import ensure_pair
from subtitler.translation.cache import MemoryCache
from subtitler.translation.deepl import FREE_URL, PRO_URL, deepl_endpoint
from subtitler.translation.engine import translate_texts
from subtitler.translation.errors import ProviderError, TranslationUnavailable, UnsupportedPair
from subtitler.translation.registry import make_provider
from tests.translation_servers import FakeState, fake_provider, mark

CUES = [f"Line number {i}, spoken." for i in range(1, 8)]
sleeps: list[float] = []


def settings(**values: Any) -> dict[str, Any]:
    base = {key: spec.default for key, spec in REGISTRY.items()}
    base.update(translation_retry_base_seconds=0.01, translation_timeout_seconds=2.0)
    base.update(values)
    return base


def provider_for(kind: str, url: str, **values: Any) -> Any:
    keys = {"openai": {"openai_base_url": url, "openai_model": "test-model"},
            "libretranslate": {"libretranslate_url": url},
            "deepl": {"deepl_api_url": url, "deepl_api_key": "k-123:fx"}}[kind]  # fmt: skip
    return make_provider(settings(translation_provider=kind, **keys, **values),
                         sleep=sleeps.append)  # fmt: skip


def chat_batches(state: FakeState) -> list[dict[str, Any]]:
    return [r for r in state.requests if r["path"].endswith("/chat/completions")]


def test_openai_numbered_batches_with_context() -> None:
    with fake_provider("openai", api_key="sk-test") as (url, state):
        provider = provider_for("openai", url, openai_api_key="sk-test",
                                translation_batch_size=3, translation_concurrency=2)  # fmt: skip
        cache = MemoryCache()
        result = translate_texts(provider, CUES, source="eng", target="spa", cache=cache)
        assert result.texts == [mark(c) for c in CUES]
        assert result.characters == sum(len(c) for c in CUES)
        batches = chat_batches(state)
        assert len(batches) == 3  # 3 + 3 + 1 cues
        assert all(r["auth"] == "Bearer sk-test" for r in batches)
        system = batches[0]["body"]["messages"][0]["content"]
        assert "English" in system and "Spanish" in system
        later = [r for r in batches if "Line number 4" in r["body"]["messages"][-1]["content"]]
        assert "for context only" in later[0]["body"]["messages"][-1]["content"]
        # a re-run pays nothing: every cue comes from the cache
        again = translate_texts(provider, CUES, source="eng", target="spa", cache=cache)
        assert (again.texts, again.characters, again.cached) == (result.texts, 0, len(CUES))
        assert len(chat_batches(state)) == 3


def test_openai_wrong_line_count_is_asked_again_cue_by_cue() -> None:
    with fake_provider("openai") as (url, state):
        state.drop_line = True
        provider = provider_for("openai", url, translation_batch_size=4,
                                translation_concurrency=1)  # fmt: skip
        result = translate_texts(provider, CUES[:4], source="eng", target="spa",
                                 cache=MemoryCache())  # fmt: skip
        assert result.texts == [mark(c) for c in CUES[:4]]
        # one batch answered short, then one request per cue
        assert len(chat_batches(state)) == 1 + 4


def test_429_then_success_backs_off_and_retries() -> None:
    for kind in ("openai", "libretranslate", "deepl"):
        with fake_provider(kind, api_key="k-123:fx" if kind == "deepl" else "") as (url, state):
            provider = provider_for(kind, url)
            provider.check()
            state.fail_next = [429, 503]
            sleeps.clear()
            out = provider.translate(["Hello."], source="eng", target="spa")
            assert out == [mark("Hello.")], kind
            assert len(sleeps) == 2  # backed off twice (Retry-After: 0, then exponential)


def test_a_provider_that_keeps_failing_names_the_http_status() -> None:
    with fake_provider("libretranslate") as (url, state):
        provider = provider_for("libretranslate", url, translation_max_retries=2)
        provider.check()
        state.fail_next = [500, 500, 500]
        with pytest.raises(ProviderError) as err:
            translate_texts(provider, ["Hello."], source="eng", target="spa", cache=MemoryCache())
        assert err.value.code == "translation_provider_error"
        assert "HTTP 500" in err.value.detail and "3 attempts" in err.value.detail


def test_401_and_403_end_at_once_with_the_status() -> None:
    with fake_provider("openai", api_key="right") as (url, _):
        provider = provider_for("openai", url, openai_api_key="wrong")
        with pytest.raises(ProviderError) as err:
            provider.translate(["Hello."], source="eng", target="spa")
        assert err.value.http_status == 401 and "HTTP 401" in err.value.detail
    with fake_provider("deepl", api_key="right:fx") as (url, _):
        provider = provider_for("deepl", url)  # key k-123:fx is refused
        with pytest.raises(ProviderError) as err:
            provider.check()
        assert err.value.http_status == 403 and "deepl" in err.value.detail


def test_timeouts_retry_then_fail() -> None:
    with fake_provider("libretranslate") as (url, state):
        provider = provider_for("libretranslate", url, translation_timeout_seconds=0.3,
                                translation_max_retries=1)  # fmt: skip
        provider.check()
        state.hang_seconds = 1.0
        state.fail_next = ["hang", "hang"]
        with pytest.raises(ProviderError) as err:
            provider.translate(["Hello."], source="eng", target="spa")
        assert "timed out" in err.value.detail and "2 attempts" in err.value.detail


def test_unsupported_pairs_name_provider_and_pair() -> None:
    with fake_provider("libretranslate") as (url, _):
        provider = provider_for("libretranslate", url)
        with pytest.raises(UnsupportedPair) as err:
            ensure_pair(provider, "fra", "spa")
        assert "libretranslate" in err.value.detail and "fra->spa" in err.value.detail
    with fake_provider("deepl", api_key="k-123:fx") as (url, state):
        provider = provider_for("deepl", url, deepl_formality="less")
        assert provider.supports("eng", "spa") and not provider.supports("eng", "jpn")
        with pytest.raises(UnsupportedPair) as err:
            provider.translate(["Hello."], source="eng", target="jpn")
        assert err.value.code == "translation_unsupported_pair" and "eng->jpn" in err.value.detail
        provider.translate(["Hello."], source="eng", target="spa")
        sent = [r["body"] for r in state.requests if r["path"] == "/v2/translate"][-1]
        assert (sent["source_lang"], sent["target_lang"], sent["formality"]) == (
            "EN", "ES", "prefer_less")  # fmt: skip
        assert sent["tag_handling"] == "html"


def test_unreachable_provider_is_unavailable() -> None:
    provider = provider_for("libretranslate", "http://127.0.0.1:9", translation_max_retries=0)
    with pytest.raises(TranslationUnavailable) as err:
        provider.check()
    assert "cannot be reached" in err.value.detail


def test_deepl_endpoint_follows_the_key() -> None:
    assert deepl_endpoint("abc:fx") == FREE_URL
    assert deepl_endpoint("abc") == PRO_URL
    assert deepl_endpoint("abc", "http://127.0.0.1:1/") == "http://127.0.0.1:1"


def test_requests_per_minute_spreads_request_starts() -> None:
    from subtitler.translation.http import RateLimiter

    limiter = RateLimiter(1200)  # one start every 50 ms
    started = time.monotonic()
    for _ in range(4):
        limiter.wait()
    assert time.monotonic() - started >= 0.14
    unlimited = RateLimiter(0)
    started = time.monotonic()
    for _ in range(100):
        unlimited.wait()
    assert time.monotonic() - started < 0.05
