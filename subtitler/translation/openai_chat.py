"""Any OpenAI-compatible chat endpoint (Ollama, llama.cpp server, LM Studio, vLLM, OpenAI,
OpenRouter): numbered cues in batches with a few cues of context before them; an answer without
exactly the numbers asked is re-asked cue by cue."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from subtitler.translation import languages
from subtitler.translation.base import Pair, Provider
from subtitler.translation.errors import ProviderError, TranslationUnavailable
from subtitler.translation.http import HttpProvider

logger = logging.getLogger(__name__)

DEFAULT_PROMPT = (
    "You are a professional subtitle translator. Translate subtitle lines from {source} to "
    "{target}. Keep the meaning, tone and names; keep <i>, <b> and <u> tags around the same "
    "words; keep each line short and natural for subtitles. Answer only with the translated "
    "lines, each starting with its number in brackets like [3], one line per number, no notes."
)
_NUMBERED = re.compile(r"^\s*(?:[-*\u2022]\s*)?\**\[?(\d{1,4})\s*[\].:)]\**\s*(.*)$")


class OpenAIProvider(Provider):
    name = "openai"

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "",
        prompt: str = "",
        http: HttpProvider,
        batch_size: int = 20,
        context_cues: int = 3,
        concurrency: int = 2,
    ) -> None:
        if not base_url:
            raise TranslationUnavailable("translation provider openai: openai_base_url is not set")
        if not model:
            raise TranslationUnavailable("translation provider openai: openai_model is not set")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.prompt = prompt.strip() or DEFAULT_PROMPT
        self.batch_size = batch_size
        self.context_cues = context_cues
        self.concurrency = concurrency
        self._http = http
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    def close(self) -> None:
        self._http.close()

    def check(self) -> None:
        """GET /models answers on every compatible server; a refusal there is not fatal (some
        proxies only serve chat), but no answer at all is."""
        try:
            self._http.request("GET", f"{self.base_url}/models", headers=self._headers)
        except ProviderError as exc:
            if exc.http_status in (401, 403):
                raise
            if exc.http_status is None:
                raise TranslationUnavailable(
                    f"translation provider openai: {self.base_url} cannot be reached ({exc.detail})"
                ) from None

    def pairs(self) -> list[Pair] | None:
        return None  # a language model is asked for any pair

    def translate(
        self, texts: Sequence[str], *, source: str, target: str, context: Sequence[str] = ()
    ) -> list[str]:
        if not texts:
            return []
        system = self.prompt.format(source=languages.name(source), target=languages.name(target))
        lines = [f"[{i + 1}] {_one_line(t)}" for i, t in enumerate(texts)]
        user = ""
        if context and self.context_cues:
            shown = "\n".join(_one_line(c) for c in context[-self.context_cues :])
            user += f"Earlier lines, for context only (do not translate them):\n{shown}\n\n"
        user += f"Translate these {len(texts)} lines:\n" + "\n".join(lines)
        answer = self._chat(system, user)
        parsed = _parse_numbered(answer)
        if sorted(parsed) == list(range(1, len(texts) + 1)):
            return [parsed[i + 1] for i in range(len(texts))]
        logger.info("openai: answer had %d numbered lines for %d asked; asking line by line",
                    len(parsed), len(texts))  # fmt: skip
        return [self._single(system, text) for text in texts]

    def _single(self, system: str, text: str) -> str:
        answer = self._chat(system, f"Translate this one line:\n[1] {_one_line(text)}")
        parsed = _parse_numbered(answer)
        if 1 in parsed:
            return parsed[1]
        plain = [line.strip() for line in answer.strip().splitlines() if line.strip()]
        if len(plain) == 1:
            return plain[0]
        raise ProviderError(
            f"openai model {self.model} did not answer with one translated line for a cue"
        )

    def _chat(self, system: str, user: str) -> str:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
            "temperature": 0,
            "stream": False,
        }
        response = self._http.request(
            "POST", f"{self.base_url}/chat/completions", json=body, headers=self._headers
        )
        try:
            return str(response.json()["choices"][0]["message"]["content"] or "")
        except (ValueError, KeyError, IndexError, TypeError):
            raise ProviderError(
                f"openai: {self.base_url} answered HTTP {response.status_code} without a chat "
                "completion", http_status=response.status_code,
            ) from None  # fmt: skip


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _parse_numbered(answer: str) -> dict[int, str]:
    out: dict[int, str] = {}
    for line in answer.splitlines():
        match = _NUMBERED.match(line)
        if match and match.group(2).strip():
            out.setdefault(int(match.group(1)), match.group(2).strip())
    return out
