"""apertium: Debian's rule-based offline translator (`apertium` + `apertium-<pair>` packages).

Texts go through one `apertium -u -f html <mode>` process per batch, each as a `<p>` block, so
inline <i>/<b>/<u> tags survive and the answer splits back into exactly the texts sent.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import time
from collections.abc import Sequence

from subtitler.media.languages import parse_language
from subtitler.translation.base import Pair, Provider, ensure_pair
from subtitler.translation.errors import ProviderError, TranslationUnavailable
from subtitler.translation.markup import from_html, to_html

logger = logging.getLogger(__name__)

_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)
_PAIRS_TTL = 60.0
_cache: dict[str, tuple[float, list[Pair], dict[Pair, str]]] = {}


class ApertiumProvider(Provider):
    name = "apertium"
    batch_size = 200

    def __init__(self, *, binary: str = "apertium", timeout: float = 120.0) -> None:
        self.binary = binary
        self.timeout = timeout
        self.model = "apertium"

    def _exe(self) -> str:
        found = shutil.which(self.binary)
        if found is None:
            raise TranslationUnavailable(
                f"translation provider apertium: {self.binary!r} is not installed "
                "(apt-get install apertium apertium-eng-spa)"
            )
        return found

    def check(self) -> None:
        self._modes()

    def _modes(self) -> tuple[list[Pair], dict[Pair, str]]:
        exe = self._exe()
        hit = _cache.get(exe)
        if hit is not None and time.monotonic() - hit[0] < _PAIRS_TTL:
            return hit[1], hit[2]
        try:
            out = subprocess.run(
                [exe, "-l"], capture_output=True, text=True, timeout=15, check=False
            ).stdout
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise TranslationUnavailable(f"translation provider apertium: {exc}") from None
        pairs: list[Pair] = []
        modes: dict[Pair, str] = {}
        for line in out.split():
            parts = line.strip().split("-")
            if len(parts) != 2:  # `spa-eng_US` style variants and multi-step modes are skipped
                continue
            source, target = parse_language(parts[0]), parse_language(parts[1])
            if source and target and source != target:
                pair = Pair(source, target)
                if pair not in modes:
                    pairs.append(pair)
                    modes[pair] = line.strip()
        _cache[exe] = (time.monotonic(), pairs, modes)
        return pairs, modes

    def pairs(self) -> list[Pair]:
        return self._modes()[0]

    def translate(
        self, texts: Sequence[str], *, source: str, target: str, context: Sequence[str] = ()
    ) -> list[str]:
        if not texts:
            return []
        mode = self._modes()[1].get(Pair(source, target))
        if mode is None:
            ensure_pair(self, source, target)
            raise ProviderError(f"apertium has no mode for {source}->{target}")
        body = "\n".join(f"<p>{to_html(t)}</p>" for t in texts) + "\n"
        try:
            done = subprocess.run(
                [self._exe(), "-u", "-f", "html", mode], input=body, capture_output=True,
                text=True, timeout=self.timeout, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise ProviderError(f"apertium {mode} timed out after {self.timeout:.0f} s") from None
        if done.returncode != 0:
            raise ProviderError(f"apertium {mode} failed: {done.stderr.strip()[:200]}")
        out = [from_html(p) for p in _PARAGRAPH.findall(done.stdout)]
        if len(out) != len(texts):
            raise ProviderError(f"apertium {mode} returned {len(out)} texts for {len(texts)}")
        return out
