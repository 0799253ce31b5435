"""Language codes as each provider spells them, from subtitler's ISO 639-2/T codes.

NLLB-200 uses FLORES-200 codes (`spa_Latn`), M2M-100 two-letter tokens (`__es__`), DeepL upper
case two-letter codes with regional targets (`EN-US`, `PT-BR`), LibreTranslate and OpenAI-style
prompts plain names/two-letter codes, apertium three-letter codes (`eng-spa`).
"""

from __future__ import annotations

from subtitler.media.languages import display_name, parse_language, to_alpha2

# FLORES-200 script suffix per language; anything not listed is Latin script.
_NLLB_SCRIPTS = {
    "arb": "Arab", "ara": "Arab", "pes": "Arab", "fas": "Arab", "urd": "Arab", "pus": "Arab",
    "rus": "Cyrl", "ukr": "Cyrl", "bel": "Cyrl", "bul": "Cyrl", "mkd": "Cyrl", "srp": "Cyrl",
    "kaz": "Cyrl", "kir": "Cyrl", "tgk": "Cyrl", "khk": "Cyrl", "mon": "Cyrl",
    "ell": "Grek", "heb": "Hebr", "yid": "Hebr", "hin": "Deva", "mar": "Deva", "npi": "Deva",
    "nep": "Deva", "ben": "Beng", "asm": "Beng", "tam": "Taml", "tel": "Telu", "kan": "Knda",
    "mal": "Mlym", "guj": "Gujr", "pan": "Guru", "sin": "Sinh", "tha": "Thai", "lao": "Laoo",
    "khm": "Khmr", "mya": "Mymr", "kat": "Geor", "hye": "Armn", "amh": "Ethi", "tir": "Ethi",
    "jpn": "Jpan", "kor": "Hang", "zho": "Hans", "yue": "Hant", "bod": "Tibt",
}  # fmt: skip
# Macrolanguage codes that NLLB spells with an individual language.
_NLLB_CODES = {
    "ara": "arb_Arab", "fas": "pes_Arab", "mon": "khk_Cyrl", "nep": "npi_Deva", "msa": "zsm_Latn",
    "zho": "zho_Hans", "est": "est_Latn", "lav": "lvs_Latn", "swa": "swh_Latn", "uzb": "uzn_Latn",
    "aze": "azj_Latn", "orm": "gaz_Latn",
}  # fmt: skip
_DEEPL_TARGET = {"EN": "EN-US", "PT": "PT-BR"}  # DeepL deprecated bare EN/PT as targets


def nllb_code(language: str) -> str | None:
    code = parse_language(language)
    if code is None:
        return None
    return _NLLB_CODES.get(code) or f"{code}_{_NLLB_SCRIPTS.get(code, 'Latn')}"


def m2m_token(language: str) -> str | None:
    alpha2 = to_alpha2(language)
    return f"__{alpha2}__" if alpha2 else None


def deepl_code(language: str, *, target: bool) -> str | None:
    alpha2 = to_alpha2(language)
    if alpha2 is None:
        return None
    upper = alpha2.upper()
    if upper == "ZH" and target:
        return "ZH-HANS"
    return _DEEPL_TARGET.get(upper, upper) if target else upper


def alpha2(language: str) -> str | None:
    return to_alpha2(language)


def iso3(language: str) -> str | None:
    return parse_language(language)


def name(language: str) -> str:
    return display_name(language)


def from_provider_code(code: str) -> str | None:
    """subtitler's code for a provider's (`ES`, `en-US`, `spa_Latn`, `__es__`, `spa`)."""
    text = code.strip().strip("_")
    if "_" in text:  # FLORES-200
        text = text.split("_", 1)[0]
    return parse_language(text)
