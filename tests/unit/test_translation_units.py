"""Pure parts of translation: cue markup, re-flow to the norms, language codes, sources, the
ctranslate2 model directory layout and token mapping."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pysubs2
import pytest

from subtitler.settings.specs.translation import check_url
from subtitler.subtitles.cues import CueStyle
from subtitler.translation import languages
from subtitler.translation.base import Pair
from subtitler.translation.ct2 import (
    CTranslate2Provider,
    inspect_model,
    source_tokens,
    target_prefix,
)
from subtitler.translation.errors import TranslationUnavailable
from subtitler.translation.markup import SourceCue, Unit, balanced, clean_translation, from_ass
from subtitler.translation.output import render_translated
from subtitler.translation.reflow import TranslatedCue, reflow
from subtitler.translation.sources import SubtitleSource, choose_source
from tests.subnorms import check

STYLE = CueStyle()


def test_ass_markup_becomes_lines_with_inline_tags() -> None:
    prefix, lines = from_ass(r"{\an8}{\i1}Hello there\Nmy friend{\i0}")
    assert prefix == r"{\an8}" and lines == ("<i>Hello there</i>", "<i>my friend</i>")
    cue = SourceCue(start=0, end=1, lines=lines, prefix=prefix)
    assert cue.units() == [Unit(text="Hello there my friend", italic=True)]
    dialogue = SourceCue(start=0, end=1, lines=("- Hi!", "- <b>Who</b> are you?"))
    assert dialogue.dialogue
    assert [u.text for u in dialogue.units()] == ["Hi!", "<b>Who</b> are you?"]


def test_unbalanced_tags_from_a_provider_are_dropped() -> None:
    assert balanced("<i>a</i> <b>b</b>") and not balanced("<i>a</b>")
    assert clean_translation("  <i>hola</b>  amigo ") == "hola amigo"


def test_long_translations_are_split_and_timed_within_the_norms() -> None:
    long_text = (
        "Esta es una frase muy larga que el traductor ha devuelto, mucho más larga que "
        "el original, y que no cabe en dos líneas de cuarenta y dos caracteres."
    )
    cues = [
        TranslatedCue(SourceCue(0.0, 1.0, ("Hi.",)), (Unit("Hola, ¿cómo estás hoy, amigo mío?"),)),
        TranslatedCue(SourceCue(1.5, 4.0, ("Long.",)), (Unit(long_text),)),
        TranslatedCue(SourceCue(9.0, 10.0, ("Bye.",), prefix=r"{\an8}"), (Unit("Adiós", True),)),
    ]
    out = reflow(cues, STYLE)
    subs = pysubs2.SSAFile.from_string(render_translated(out, fmt="srt", language="spa"))
    hard, _ = check(subs)
    assert hard == []
    assert len(out) >= 4  # the long one became two or more cues
    # 33 characters need 1.65 s: borrowed the gap, then the next cue (which has time to spare)
    # starts a little later; never overlapping
    assert out[0].end >= 33 / STYLE.max_cps - 1e-6
    assert out[1].start >= out[0].end + STYLE.min_gap - 1e-6 and out[1].start < 2.0
    assert out[-1].lines == (r"{\an8}<i>Adiós</i>",)
    assert "<i>Adiós</i>" in render_translated(out, fmt="srt", language="spa")
    assert "Adiós" in render_translated(out, fmt="txt", language="spa")
    assert "{" not in render_translated(out, fmt="txt", language="spa")


def test_provider_language_codes() -> None:
    assert languages.nllb_code("es") == "spa_Latn"
    assert languages.nllb_code("jpn") == "jpn_Jpan"
    assert languages.nllb_code("ara") == "arb_Arab"
    assert languages.m2m_token("Spanish") == "__es__"
    assert languages.deepl_code("en", target=True) == "EN-US"
    assert languages.deepl_code("en", target=False) == "EN"
    assert languages.deepl_code("pt", target=True) == "PT-BR"
    for code in ("spa_Latn", "__es__", "ES", "es", "spa"):
        assert languages.from_provider_code(code) == "spa"


def test_source_choice_prefers_full_subtitles_in_the_audio_language() -> None:
    def src(lang: str, **kw: object) -> SubtitleSource:
        return SubtitleSource(
            kind="external", language=lang, path=f"/x.{lang}.srt", codec="srt", **kw
        )  # type: ignore[arg-type]

    candidates = [src("eng", forced=True), src("fra", sdh=True), src("fra"), src("eng"), src("spa")]
    assert choose_source(candidates, target="spa", audio_language="fra") == src("fra")
    assert choose_source(candidates, target="spa", audio_language="deu") == src("eng")
    assert choose_source(candidates, target="spa", accepted=["fra"]) == src("fra")
    assert choose_source(candidates, target="spa", supports=lambda s, t: s == "eng") == src("eng")
    assert choose_source([src("spa")], target="es") is None


def test_urls_are_checked() -> None:
    check_url("")
    check_url("http://localhost:5000")
    for bad in ("localhost:5000", "ftp://x", "http://", "http://u:p@host/", "http://h/?a=1"):
        with pytest.raises(ValueError):
            check_url(bad)


# --- ctranslate2: the directory layout and token mapping -----------------------------------
def _model_dir(root: Path, vocab: list[str], files: tuple[str, ...]) -> Path:
    root.mkdir(parents=True)
    (root / "model.bin").write_bytes(b"\0")
    (root / "shared_vocabulary.json").write_text(json.dumps(vocab))
    for name in files:
        (root / name).write_bytes(b"\0")
    return root


def test_nllb_directory_and_tokens(tmp_path: Path) -> None:
    path = _model_dir(
        tmp_path / "nllb",
        ["<s>", "</s>", "eng_Latn", "spa_Latn", "fra_Latn"],
        ("sentencepiece.bpe.model",),
    )
    layout = inspect_model(path)
    assert layout.family == "nllb" and set(layout.languages) == {"eng", "spa", "fra"}
    assert source_tokens(layout, ["▁Hello"], "eng") == ["eng_Latn", "▁Hello", "</s>"]
    assert target_prefix(layout, "spa") == ["spa_Latn"]
    provider = CTranslate2Provider(model_dir=str(path))
    assert provider.supports("eng", "spa") and not provider.supports("eng", "jpn")


def test_m2m_and_opus_directories(tmp_path: Path) -> None:
    m2m = inspect_model(_model_dir(tmp_path / "m2m", ["__en__", "__es__"], ("sp.model",)))
    assert m2m.family == "m2m100" and target_prefix(m2m, "spa") == ["__es__"]
    opus = inspect_model(_model_dir(tmp_path / "opus-mt-en-es", [], ("source.spm", "target.spm")))
    assert opus.family == "opus-mt" and opus.opus_pair == Pair("eng", "spa")
    assert source_tokens(opus, ["▁Hi"], "eng") == ["▁Hi", "</s>"]
    assert target_prefix(opus, "spa") is None


def test_a_broken_model_directory_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(TranslationUnavailable, match=r"model\.bin"):
        inspect_model(tmp_path)
    path = _model_dir(tmp_path / "nllb", ["spa_Latn"], ())
    with pytest.raises(TranslationUnavailable, match="sentencepiece"):
        inspect_model(path)
    odd = _model_dir(tmp_path / "odd", ["hello"], ("source.spm", "target.spm"))
    with pytest.raises(TranslationUnavailable, match="ctranslate2_language_pair"):
        inspect_model(odd)


def test_a_converted_model_translates_by_name_or_path(tmp_path: Path) -> None:
    """SUBTITLER_TEST_CT2_MODEL (a real ct2-transformers-converter NLLB/M2M-100/OPUS-MT dir) is
    used when set; otherwise the generated tiny NLLB model, installed under its catalog name."""
    from subtitler.translation.installed import InstalledModelsProvider
    from subtitler.translation.registry import make_provider
    from tests.ct2gen import make_nllb_like

    models = tmp_path / "models"
    real = os.environ.get("SUBTITLER_TEST_CT2_MODEL")
    installed = make_nllb_like(models / "translation" / "nllb-200-distilled-600M")
    base = {"translation_provider": "ctranslate2", "__models_dir__": str(models)}
    by_name = make_provider({**base, "ctranslate2_model_dir": "nllb-200-distilled-600M"})
    assert isinstance(by_name, CTranslate2Provider) and by_name.path == installed
    every = make_provider({**base, "ctranslate2_model_dir": ""})
    assert isinstance(every, InstalledModelsProvider) and Pair("eng", "spa") in every.pairs()
    with pytest.raises(TranslationUnavailable, match="System > Models"):
        make_provider({**base, "ctranslate2_model_dir": "opus-mt-en-de"}).check()
    provider = CTranslate2Provider(model_dir=real) if real else every
    pair = (provider.pairs() or [Pair("eng", "spa")])[0]
    if provider.supports("eng", "spa"):
        pair = Pair("eng", "spa")
    try:
        (out,) = provider.translate(
            ["Good evening, my friend."], source=pair.source, target=pair.target
        )
    finally:
        from subtitler.translation import ct2

        ct2._WARM.clear()  # the next test counts what is warm
    assert out.strip() and out != "Good evening, my friend."


def test_ctranslate2_loads_a_converted_model_keeps_it_warm_and_unloads(tmp_path: Path) -> None:
    from subtitler.translation import ct2
    from tests.ct2gen import make_nllb_like

    path = make_nllb_like(tmp_path / "nllb-tiny")
    provider = CTranslate2Provider(model_dir=str(path))
    assert provider.layout().family == "nllb" and provider.pairs() == [
        Pair("eng", "spa"),
        Pair("spa", "eng"),
    ]
    out = provider.translate(["hello world", "the house is big"], source="eng", target="spa")
    assert len(out) == 2 and all("spa_Latn" not in t for t in out)  # the prefix is stripped
    assert ct2.loaded_models() == [str(path)]
    warm = ct2._WARM[(str(path), "cpu", "int8")]
    provider.translate(["hello"], source="eng", target="spa")
    assert ct2._WARM[(str(path), "cpu", "int8")] is warm  # kept warm between calls
    warm.last_used -= 100
    assert ct2.unload_idle(50) == 1 and ct2.loaded_models() == []


def test_which_targets_need_a_provider() -> None:
    from subtitler.translation.stage import needs_provider

    whisper = {"translation_english_via": "whisper"}
    assert not needs_provider(whisper, source="jpn", target="jpn")
    assert not needs_provider(whisper, source="jpn", target="eng")  # Whisper's translate task
    assert needs_provider({"translation_english_via": "provider"}, source="jpn", target="eng")
    assert needs_provider(whisper, source="eng", target="spa")
    assert not needs_provider(whisper, source=None, target="spa")  # known after detection


def test_planning_picks_subtitle_translation_when_it_should() -> None:
    from subtitler.translation.planning import subtitle_job

    eng_srt = [SubtitleSource(kind="external", language="eng", path="/m/F.en.srt", codec="srt")]
    fields = {"target_lang": "spa", "job_type": "transcription", "options": {"rule_id": 1}}
    on = {
        "translation_prefer_subtitles": True,
        "translation_source_languages": [],
        "translation_english_via": "whisper",
    }
    off = {**on, "translation_prefer_subtitles": False}
    planned = subtitle_job(
        fields, sources=eng_srt, audio_language="eng", wants_subtitle=False, settings=on
    )
    assert planned["job_type"] == "subtitle_translation"
    assert planned["options"]["rule_id"] == 1
    assert planned["options"]["subtitle_source"]["path"] == "/m/F.en.srt"
    assert (
        subtitle_job(
            fields, sources=eng_srt, audio_language="eng", wants_subtitle=False, settings=off
        )
        == fields
    )
    assert (
        subtitle_job(
            fields, sources=eng_srt, audio_language="eng", wants_subtitle=True, settings=off
        )["job_type"]
        == "subtitle_translation"
    )
    # Spanish audio to Spanish: listening is the job; no text subtitle: listening too
    assert (
        subtitle_job(
            fields, sources=eng_srt, audio_language="spa", wants_subtitle=False, settings=on
        )
        == fields
    )
    assert (
        subtitle_job(fields, sources=[], audio_language="eng", wants_subtitle=True, settings=on)
        == fields
    )
