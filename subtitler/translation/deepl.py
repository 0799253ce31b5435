"""DeepL API: the free endpoint for keys ending in `:fx`, the pro one otherwise; formality;
`tag_handling=html` keeps inline tags."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import httpx

from subtitler.translation import languages
from subtitler.translation.base import Pair, Provider, ensure_pair
from subtitler.translation.errors import ProviderError, TranslationUnavailable
from subtitler.translation.http import HttpProvider
from subtitler.translation.markup import from_html, to_html

logger = logging.getLogger(__name__)

FREE_URL = "https://api-free.deepl.com"
PRO_URL = "https://api.deepl.com"
FORMALITIES = ("default", "more", "less", "prefer_more", "prefer_less")


def deepl_endpoint(api_key: str, override: str = "") -> str:
    """The API base for a key: DeepL free keys end in `:fx`."""
    if override:
        return override.rstrip("/")
    return FREE_URL if api_key.strip().endswith(":fx") else PRO_URL


class DeepLProvider(Provider):
    name = "deepl"

    def __init__(
        self,
        *,
        api_key: str,
        http: HttpProvider,
        formality: str = "default",
        url: str = "",
        batch_size: int = 50,
    ) -> None:
        if not api_key.strip():
            raise TranslationUnavailable("translation provider deepl: deepl_api_key is not set")
        self.url = deepl_endpoint(api_key, url)
        self.formality = formality
        self.batch_size = batch_size
        self.model = "deepl"
        self._http = http
        self._headers = {"Authorization": f"DeepL-Auth-Key {api_key.strip()}"}
        self._pairs: list[Pair] | None = None

    def close(self) -> None:
        self._http.close()

    def check(self) -> None:
        self.pairs()

    def _languages(self, kind: str) -> list[str]:
        try:
            response = self._http.request(
                "GET", f"{self.url}/v2/languages", params={"type": kind}, headers=self._headers
            )
            entries = response.json()
        except ProviderError as exc:
            if exc.http_status is None:
                raise TranslationUnavailable(
                    f"translation provider deepl: {self.url} cannot be reached ({exc.detail})"
                ) from None
            raise
        except ValueError:
            raise TranslationUnavailable("translation provider deepl: languages not JSON") from None
        codes = [languages.from_provider_code(str(e.get("language", ""))) for e in entries]
        return [c for c in dict.fromkeys(codes) if c]

    def pairs(self) -> list[Pair]:
        if self._pairs is None:
            sources, targets = self._languages("source"), self._languages("target")
            self._pairs = [Pair(s, t) for s in sources for t in targets if s != t]
        return self._pairs

    def translate(
        self, texts: Sequence[str], *, source: str, target: str, context: Sequence[str] = ()
    ) -> list[str]:
        if not texts:
            return []
        ensure_pair(self, source, target)
        body: dict[str, Any] = {
            "text": [to_html(t) for t in texts],
            "source_lang": languages.deepl_code(source, target=False),
            "target_lang": languages.deepl_code(target, target=True),
            "tag_handling": "html",
        }
        if self.formality != "default":
            # prefer_*: DeepL ignores it for targets without formality instead of failing
            body["formality"] = (
                f"prefer_{self.formality}" if self.formality in ("more", "less") else self.formality
            )
        if context:
            body["context"] = " ".join(context[-3:])

        def classify(response: httpx.Response) -> None:
            if response.status_code == 456:
                raise ProviderError(
                    "deepl: HTTP 456: the account's character quota is used up", http_status=456
                )
            if response.status_code == 403:
                raise ProviderError(
                    "deepl: HTTP 403: the API key was refused (check deepl_api_key and whether "
                    "it is a free (:fx) or pro key)",
                    http_status=403,
                )

        response = self._http.request("POST", f"{self.url}/v2/translate", json=body,
                                      headers=self._headers, classify=classify)  # fmt: skip
        try:
            out = [from_html(str(t["text"])) for t in response.json()["translations"]]
        except (ValueError, KeyError, TypeError):
            raise ProviderError("deepl: answer without translations") from None
        if len(out) != len(texts):
            raise ProviderError(f"deepl returned {len(out)} texts for {len(texts)}")
        return out
