"""Language codes via langcodes: `jpn`, `ja`, `Japanese` (and `ger`/`deu`/`de`) are one language."""

from __future__ import annotations

from functools import lru_cache

import langcodes

from subtitler.errors import Unprocessable

UNDETERMINED = "und"
_UNKNOWN_TAGS = {"", "und", "unk", "zxx", "mis", "mul", "xx", "none", "unknown"}


class UnknownLanguage(Unprocessable):
    code = "unknown_language"


@lru_cache(maxsize=2048)
def _parse(text: str) -> langcodes.Language | None:
    value = text.strip().replace("_", "-")
    if value.lower() in _UNKNOWN_TAGS:
        return None
    try:
        lang = langcodes.get(value)
    except (LookupError, ValueError):
        lang = None
    if lang is None or not lang.is_valid() or lang.language in (None, "und"):
        lang = _find_by_name(value)
        if lang is None:
            return None
    if lang.language in (None, "und"):
        return None
    return lang


def _find_by_name(name: str) -> langcodes.Language | None:
    """A language named in English or in itself ("Japanese", "español"), matched exactly:
    langcodes.find alone is fuzzy and would read "klingonese" as Klingon."""
    try:
        found = langcodes.find(name)
    except (LookupError, ValueError):  # ValueError: its name trie chokes on control bytes
        return None
    base = langcodes.Language.get(found.language or "und")
    wanted = name.casefold()
    names = {base.display_name("en").casefold(), base.autonym().casefold()}
    return found if wanted in names else None


def parse_language(text: str | None) -> str | None:
    """ISO 639-2/T (3-letter) code for any spelling, None for empty/undetermined/unknown."""
    if text is None:
        return None
    lang = _parse(text)
    if lang is None:
        return None
    code = lang.to_alpha3()
    if len(code) != 3 or "qaa" <= code <= "qtz":  # private-use codes name no language
        return None
    return code


def require_language(text: str, *, field: str) -> str:
    """Like parse_language but raise a 422 naming the field for anything unknown."""
    code = parse_language(text)
    if code is None:
        raise UnknownLanguage(f"{field}: unknown language code {text!r}")
    return code


def to_alpha3_b(code: str) -> str:
    """ISO 639-2/B form (`ger`, `fre`), the form Matroska and subtitle file names use."""
    lang = _parse(code)
    return lang.to_alpha3(variant="B") if lang else code


def to_alpha2(code: str) -> str | None:
    """ISO 639-1 (`de`), the form Whisper uses; None when the language has no 2-letter code."""
    lang = _parse(code)
    if lang is None:
        return None
    tag = lang.language or ""
    return tag if len(tag) == 2 else None


def display_name(code: str) -> str:
    lang = _parse(code)
    return lang.display_name("en") if lang else code


def same_language(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    pa, pb = parse_language(a), parse_language(b)
    return pa is not None and pa == pb


def whisper_code(code: str | None) -> str:
    """Whisper's code of a language; Cantonese is reported as `zh` (Bazarr cannot map `yue`)."""
    if not code:
        return "und"
    if code in ("yue", "zh", "zho", "chi"):
        return "zh"
    return to_alpha2(code) or code


# The languages Whisper knows (faster_whisper.tokenizer._LANGUAGE_CODES), kept here so the daemon
# can list them without importing faster-whisper (ctranslate2, numpy, av: the workers' weight).
# tests/acceptance/test_daemon_imports.py checks that the two lists agree.
# fmt: off
WHISPER_LANGUAGES: tuple[str, ...] = (
    "af", "am", "ar", "as", "az", "ba", "be", "bg", "bn", "bo", "br", "bs", "ca", "cs",
    "cy", "da", "de", "el", "en", "es", "et", "eu", "fa", "fi", "fo", "fr", "gl", "gu",
    "ha", "haw", "he", "hi", "hr", "ht", "hu", "hy", "id", "is", "it", "ja", "jw", "ka",
    "kk", "km", "kn", "ko", "la", "lb", "ln", "lo", "lt", "lv", "mg", "mi", "mk", "ml",
    "mn", "mr", "ms", "mt", "my", "ne", "nl", "nn", "no", "oc", "pa", "pl", "ps", "pt",
    "ro", "ru", "sa", "sd", "si", "sk", "sl", "sn", "so", "sq", "sr", "su", "sv", "sw",
    "ta", "te", "tg", "th", "tk", "tl", "tr", "tt", "uk", "ur", "uz", "vi", "yi", "yo",
    "zh", "yue",
)
# fmt: on
