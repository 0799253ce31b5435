"""Sentence-level translation (pure parts): cues joined into sentences, translations handed back
to the cues' time at word boundaries, too-short/too-fast pieces merged, the target's numbers and
¿ ¡, {\\anN} kept in SRT, every output within the norms."""

from __future__ import annotations

import pysubs2

from subtitler.subtitles.cues import Cue, CueStyle
from subtitler.translation.conventions import apply, numbers, opening_marks
from subtitler.translation.markup import SourceCue
from subtitler.translation.output import render_translated
from subtitler.translation.reflow import pace, reflow
from subtitler.translation.sentences import (
    continue_case,
    hand_back,
    sentences,
    split_proportional,
)
from tests.subnorms import check

STYLE = CueStyle()


def _norms(cues: list[Cue]) -> tuple[list[str], list[str]]:
    return check(pysubs2.SSAFile.from_string(render_translated(cues, fmt="srt", language="spa")))


def test_cues_of_one_sentence_are_joined_and_dialogue_stays_alone() -> None:
    cues = [
        SourceCue(0.0, 2.0, ("More than two thousand people",)),
        SourceCue(2.1, 3.0, ("had to leave,",)),
        SourceCue(3.1, 4.5, ("who waited for hours.",)),
        SourceCue(4.6, 6.0, ("Where are you going?",)),
        SourceCue(6.1, 7.0, ("- Home.", "- Now?")),
        SourceCue(7.1, 8.0, ("After a pause",)),
        SourceCue(9.5, 10.5, ("the rest.",)),  # 1.5 s later: a new group
        SourceCue(10.6, 11.5, ("<i>In italics</i>",)),
        SourceCue(11.6, 12.5, ("not in italics.",)),
    ]
    groups = sentences(cues, STYLE)
    assert [len(g.cues) for g in groups] == [3, 1, 1, 1, 1, 1, 1]
    assert (
        groups[0].units[0].text
        == "More than two thousand people had to leave, who waited for hours."
    )
    assert [u.text for u in groups[2].units] == ["Home.", "Now?"]
    positioned = [SourceCue(0, 1, ("a",), prefix=r"{\an8}"), SourceCue(1.1, 2, ("b.",))]
    assert len(sentences(positioned, STYLE)) == 2


def test_text_is_cut_near_the_proportions_at_clause_ends_never_in_a_number() -> None:
    text = "Más de 2000 personas tuvieron que irse, y esperaron durante horas en la calle."
    assert split_proportional(text, [1, 1]) == [
        "Más de 2000 personas tuvieron que irse,",
        "y esperaron durante horas en la calle.",
    ]
    # a clause end far from the proportional point does not pull the cut (no one-word piece)
    text = (
        "Más de 2000 personas tuvieron que dejar sus casas último mes, quién esperó en la lluvia."
    )
    three = split_proportional(text, [35, 23, 30])
    assert " ".join(three) == text and all(len(p.split()) >= 3 for p in three), three
    assert three[2].startswith("quién esperó"), three
    pieces = split_proportional("Llegaron 25 000 botellas de agua ayer", [2, 1, 1])
    assert " ".join(pieces) == "Llegaron 25 000 botellas de agua ayer"
    assert not any(p.endswith("25") for p in pieces)
    tagged = split_proportional("<i>hola amigo mío de siempre</i>", [1, 1])
    assert len(tagged) == 2 and all(p.startswith("<i>") and p.endswith("</i>") for p in tagged)


def test_a_piece_too_short_or_too_fast_merges_with_its_neighbour() -> None:
    cues = (
        SourceCue(0.0, 2.5, ("The rain will stop on Friday",)),
        SourceCue(2.5, 2.9, ("and",)),  # 0.4 s: too short for anything
        SourceCue(3.0, 5.5, ("the sun will come back at the weekend.",)),
    )
    (sentence,) = sentences(cues, STYLE)
    out = hand_back(
        sentence,
        "La lluvia parará el viernes y el sol volverá el fin de semana.",
        STYLE,
        before=-1.0,
        after=9.0,
    )
    assert 1 <= len(out) <= 2
    assert " ".join(c.units[0].text for c in out) == (
        "La lluvia parará el viernes y el sol volverá el fin de semana."
    )
    final = reflow(out, STYLE)
    hard, soft = _norms(final)
    assert hard == [] and soft == [], (hard, soft, final)
    assert final[0].start == 0.0 and final[-1].end >= 5.5


def test_no_capital_or_full_stop_mid_sentence() -> None:
    assert continue_case("who waited for hours", "Quién esperó para horas.") == (
        "quién esperó para horas"
    )
    assert continue_case("Who waited?", "Quién esperó?") == "Quién esperó?"
    assert continue_case("and NASA said", "Y NASA dijo") == "y NASA dijo"
    assert continue_case("it was the BBC", "BBC era") == "BBC era"  # an acronym stays


def test_spanish_numbers_follow_the_rae_and_questions_open() -> None:
    src = "More than 2,000 people, 25,000 cars, 1,250,000 euros, up 3.5 percent in 2024, v1.2.3."
    out = "Más de 2,000 personas, 25,000 coches, 1,250,000 euros, 3.5 por ciento en 2024, v1.2.3."
    assert numbers(out, source_text=src, source="eng", target="spa") == (
        "Más de 2000 personas, 25 000 coches, 1 250 000 euros, 3,5 por ciento en 2024, v1.2.3."
    )
    assert numbers("2,000", source_text="2,000", source="eng", target="deu") == "2.000"
    assert numbers("2,000", source_text="2,000", source="eng", target="jpn") == "2,000"
    assert opening_marks("Hola. Dónde vas? Qué bien!", target="spa") == (
        "Hola. ¿Dónde vas? ¡Qué bien!"
    )
    assert opening_marks("¿Dónde vas?", target="spa") == "¿Dónde vas?"
    assert opening_marks("- <i>Dónde?</i>", target="es") == "- <i>¿Dónde?</i>"
    assert opening_marks("Where?", target="eng") == "Where?"
    assert apply("Más de 2,000?", source_text="2,000?", source="en", target="es") == "¿Más de 2000?"


def test_position_tags_are_kept_in_srt() -> None:
    cues = [Cue(0.0, 1.5, (r"{\an8}<i>Arriba</i>", "dos"))]
    srt = render_translated(cues, fmt="srt", language="spa")
    assert "{\\an8}<i>Arriba</i>\ndos" in srt
    assert "{" not in render_translated(cues, fmt="txt", language="spa")
    assert pysubs2.SSAFile.from_string(srt)[0].plaintext == "Arriba\ndos"


def test_a_tight_run_shares_its_time_so_every_cue_is_readable() -> None:
    # Spanish runs ~25 % longer than the English speech it follows: back-to-back cues too fast
    cues = [
        Cue(0.0, 1.4, ("Aquello es una noticia maravillosa.",)),  # 35 chars in 1.4 s
        Cue(1.483, 5.0, ("Muchas tiendas están cerradas.",)),
        Cue(5.083, 5.5, ("Sí.",)),  # 0.417 s
        Cue(5.583, 9.0, ("Los trenes llegan tarde.",)),
        Cue(12.0, 13.0, ("Adiós.",)),  # after a pause: untouched
    ]
    out = pace(cues, STYLE)
    hard, soft = _norms(out)
    assert hard == [] and soft == [], (hard, soft, out)
    assert [c.lines for c in out] == [c.lines for c in cues]
    assert out[0].start == 0.0 and out[-1] == cues[-1]
    assert out[3].end <= 9.0 + STYLE.pause_split
