"""HTTP for the web providers: timeouts, a requests-per-minute limit, retries with backoff on
429/5xx/timeouts (Retry-After honoured), and the final error naming the HTTP status."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from subtitler.security.outbound import GuardedSyncTransport
from subtitler.translation.errors import ProviderError, TransientError

logger = logging.getLogger(__name__)

TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})
MAX_BACKOFF = 60.0


class RateLimiter:
    """At most `per_minute` request starts a minute, spread evenly (0: no limit)."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = 60.0 / per_minute if per_minute > 0 else 0.0
        self._clock = clock
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self._interval
        if start > now:
            time.sleep(start - now)


class HttpProvider:
    """The retrying client a web provider sends through (thread-safe: httpx.Client is)."""

    def __init__(
        self,
        *,
        name: str,
        timeout: float,
        max_retries: int,
        backoff_base: float,
        requests_per_minute: int = 0,
        headers: dict[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = name
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self._sleep = sleep
        self._limiter = RateLimiter(requests_per_minute)
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers=headers or {},
            follow_redirects=False,
            trust_env=False,  # never route a LAN provider through a proxy from the environment
            transport=GuardedSyncTransport(),  # never link-local / metadata addresses
        )

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        classify: Callable[[httpx.Response], None] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """The response (2xx). `classify` may raise a domain error for a 4xx it understands."""
        attempt = 0
        while True:
            try:
                return self._once(method, url, classify=classify, **kwargs)
            except TransientError as exc:
                attempt += 1
                if attempt > self.max_retries:
                    status = f"HTTP {exc.http_status}" if exc.http_status else "no answer"
                    raise ProviderError(
                        f"{self.name}: {status} after {attempt} attempts ({exc.detail})",
                        http_status=exc.http_status,
                    ) from None
                delay = exc.retry_after
                if delay is None:
                    delay = self.backoff_base * 2 ** (attempt - 1) * (1 + random.random() / 4)
                delay = min(delay, MAX_BACKOFF)
                logger.warning("%s: %s; retry %d/%d in %.1f s", self.name, exc.detail, attempt,
                               self.max_retries, delay)  # fmt: skip
                self._sleep(delay)

    def _once(
        self,
        method: str,
        url: str,
        *,
        classify: Callable[[httpx.Response], None] | None,
        **kwargs: Any,
    ) -> httpx.Response:
        self._limiter.wait()
        try:
            response = self._client.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise TransientError("timed out") from None
        except httpx.TransportError as exc:
            raise TransientError(f"cannot connect: {type(exc).__name__}") from None
        if response.is_success:
            return response
        if response.status_code in TRANSIENT_STATUS:
            raise TransientError(
                f"HTTP {response.status_code}",
                http_status=response.status_code,
                retry_after=_retry_after(response),
            )
        if classify is not None:
            classify(response)
        raise ProviderError(
            f"{self.name}: HTTP {response.status_code}: {_excerpt(response)}",
            http_status=response.status_code,
        )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _excerpt(response: httpx.Response) -> str:
    """The error message a provider gave (JSON `error`/`message`/`detail`), short and safe."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip() or response.reason_phrase
    if isinstance(body, dict):
        for key in ("error", "message", "detail"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message")
            if value:
                return str(value)[:200]
    return str(body)[:200]
