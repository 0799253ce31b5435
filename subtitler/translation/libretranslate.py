"""LibreTranslate (self-hosted or libretranslate.com): POST /translate with `q` as a list,
GET /languages for the pairs."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import httpx

from subtitler.translation import languages
from subtitler.translation.base import Pair, Provider, ensure_pair
from subtitler.translation.errors import ProviderError, TranslationUnavailable, UnsupportedPair
from subtitler.translation.http import HttpProvider
from subtitler.translation.markup import from_html, to_html

logger = logging.getLogger(__name__)


class LibreTranslateProvider(Provider):
    name = "libretranslate"

    def __init__(
        self, *, url: str, api_key: str = "", http: HttpProvider, batch_size: int = 50
    ) -> None:
        if not url:
            raise TranslationUnavailable(
                "translation provider libretranslate: libretranslate_url is not set"
            )
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.batch_size = batch_size
        self.model = self.url
        self._http = http
        self._pairs: list[Pair] | None = None

    def close(self) -> None:
        self._http.close()

    def check(self) -> None:
        self.pairs()

    def pairs(self) -> list[Pair]:
        if self._pairs is not None:
            return self._pairs
        try:
            response = self._http.request("GET", f"{self.url}/languages")
            entries = response.json()
        except ProviderError as exc:
            if exc.http_status is None:
                raise TranslationUnavailable(
                    f"translation provider libretranslate: {self.url} cannot be reached "
                    f"({exc.detail})"
                ) from None
            raise
        except ValueError:
            raise TranslationUnavailable(
                f"translation provider libretranslate: {self.url}/languages is not JSON"
            ) from None
        pairs: list[Pair] = []
        for entry in entries if isinstance(entries, list) else []:
            source = languages.from_provider_code(str(entry.get("code", "")))
            for code in entry.get("targets") or []:
                target = languages.from_provider_code(str(code))
                if source and target and source != target:
                    pairs.append(Pair(source, target))
        self._pairs = pairs
        return pairs

    def translate(
        self, texts: Sequence[str], *, source: str, target: str, context: Sequence[str] = ()
    ) -> list[str]:
        if not texts:
            return []
        ensure_pair(self, source, target)
        body: dict[str, Any] = {
            "q": [to_html(t) for t in texts],
            "source": languages.alpha2(source) or source,
            "target": languages.alpha2(target) or target,
            "format": "html",
        }
        if self.api_key:
            body["api_key"] = self.api_key

        def classify(response: httpx.Response) -> None:
            if response.status_code == 400 and "language" in response.text.lower():
                raise UnsupportedPair(
                    f"translation provider libretranslate cannot translate {source}->{target}: "
                    f"{response.text[:200]}"
                )

        response = self._http.request("POST", f"{self.url}/translate", json=body,
                                      classify=classify)  # fmt: skip
        try:
            out = response.json()["translatedText"]
        except (ValueError, KeyError, TypeError):
            raise ProviderError("libretranslate: answer without translatedText") from None
        if isinstance(out, str):
            out = [out]
        if not isinstance(out, list) or len(out) != len(texts):
            raise ProviderError(
                f"libretranslate returned {len(out) if isinstance(out, list) else 0} texts "
                f"for {len(texts)}"
            )
        return [from_html(str(t)) for t in out]
