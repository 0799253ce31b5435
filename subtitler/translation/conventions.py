"""What the target language writes differently from the source, where a provider leaves it as is.

- Numbers: a number written the source's way ("2,000", "3.5" in English) is rewritten the target's
  way. Spanish follows the RAE (Ortografía 2010, §4.2.4): no separator in four-digit numbers
  (2000), a space between groups of three from five digits on (20 000, 1 250 000), and the
  decimal comma (3,5). A number the provider already wrote another way is left alone.
- Spanish questions and exclamations open with ¿ and ¡: added at the start of the sentence when the
  provider wrote only the closing mark.
"""

from __future__ import annotations

import re

from subtitler.media.languages import parse_language

# language -> (decimal separator, group separator, group four-digit numbers too)
_NUMBERS: dict[str, tuple[str, str, bool]] = {
    "eng": (".", ",", True),
    "spa": (",", " ", False),  # RAE: 2000, 20 000, 3,5
    "fra": (",", " ", False),
    "por": (",", ".", True),
    "ita": (",", ".", True),
    "deu": (",", ".", True),
    "nld": (",", ".", True),
    "cat": (",", ".", True),
}
_OPENERS = {"spa": True}
_LEAD = re.compile(r"^\s*(?:-\s*)?(?:</?[ibu]>|[\"'«“‘(\[])*")


def _number_pattern(decimal: str, group: str) -> re.Pattern[str]:
    d, g = re.escape(decimal), re.escape(group)
    return re.compile(rf"(?<![\w.,])(\d{{1,3}}(?:{g}\d{{3}})+|\d+)(?:{d}(\d+))?(?![\w]|[.,]\d)")


def _format(integer: str, fraction: str | None, target: str) -> str:
    decimal, group, four = _NUMBERS[target]
    digits = integer
    if len(digits) > 4 or (four and len(digits) == 4):
        head = len(digits) % 3 or 3
        parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
        digits = group.join(parts)
    return digits + (decimal + fraction if fraction is not None else "")


def numbers(text: str, *, source_text: str, source: str, target: str) -> str:
    """`text` (a translation of `source_text`) with the source's numbers in the target's style."""
    source, target = parse_language(source) or source, parse_language(target) or target
    if source not in _NUMBERS or target not in _NUMBERS or _NUMBERS[source] == _NUMBERS[target]:
        return text
    decimal, group, _ = _NUMBERS[source]
    pattern = _number_pattern(decimal, group)
    swaps: dict[str, str] = {}
    for match in pattern.finditer(source_text):
        written = match.group(0)
        if group not in written and decimal not in written:
            continue  # plain digits read the same in both
        integer = match.group(1).replace(group, "")
        swaps[written] = _format(integer, match.group(2), target)
    for written, wanted in sorted(swaps.items(), key=lambda kv: -len(kv[0])):
        text = re.sub(rf"(?<![\w.,]){re.escape(written)}(?![\w]|[.,]\d)", wanted, text)
    return text


_SENTENCE = re.compile(r"[^.!?…]*[.!?…]+['\"»”’)\]]*|[^.!?…]+$")


def opening_marks(text: str, *, target: str) -> str:
    """Spanish ¿ ¡ at the start of each question/exclamation that has only the closing mark."""
    if not _OPENERS.get(parse_language(target) or target):
        return text
    out = []
    for sentence in _SENTENCE.findall(text):
        closing = sentence.rstrip("'\"»”’)] \t")
        for close, opener in (("?", "¿"), ("!", "¡")):
            if closing.endswith(close) and opener not in sentence:
                lead = _LEAD.match(sentence)
                cut = lead.end() if lead else 0
                sentence = sentence[:cut] + opener + sentence[cut:]
                break
        out.append(sentence)
    return "".join(out)


def apply(text: str, *, source_text: str, source: str, target: str) -> str:
    """Every convention of the target applied to one translated text."""
    text = numbers(text, source_text=source_text, source=source, target=target)
    return opening_marks(text, target=target)
