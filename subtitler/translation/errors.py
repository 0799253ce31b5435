"""The translation errors a job or the API can end with (codes are stable: the UI keys on them)."""

from __future__ import annotations

from subtitler.errors import SubtitlerError


class TranslationUnavailable(SubtitlerError):
    """No provider configured, or the configured one cannot run or be reached."""

    status = 422
    code = "translation_unavailable"


class UnsupportedPair(SubtitlerError):
    """The provider runs but does not offer this source -> target pair."""

    status = 422
    code = "translation_unsupported_pair"


class ProviderError(SubtitlerError):
    """The provider kept failing (after retries) or refused us (401/403/456): the job ends."""

    status = 502
    code = "translation_provider_error"

    def __init__(self, detail: str, *, http_status: int | None = None) -> None:
        super().__init__(detail)
        self.http_status = http_status


class TransientError(Exception):
    """A failure worth retrying (timeout, connection refused, 429, 5xx)."""

    def __init__(
        self, detail: str, *, http_status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.http_status = http_status
        self.retry_after = retry_after
