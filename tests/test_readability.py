"""Plain language of resident answers: Flesch–Douma (textstat, Dutch), sentence length, B1."""

from __future__ import annotations

from assistant.evaluation.readability import plain_text, readability, sentence_length

PLAIN = "U kunt de boa bellen. Hij komt snel. De gemeente betaalt de kosten."
HARD = (
    "Ondermijnende criminaliteit vormt een van de prioriteiten van het integraal "
    "veiligheidsbeleid, waarbij de gemeente samenwerkt met het Regionaal Informatie- en "
    "Expertisecentrum en de Belastingdienst teneinde de bestuurlijke weerbaarheid te "
    "versterken en de verwevenheid van onder- en bovenwereld te doorbreken."
)


def test_short_plain_sentences_meet_b1_and_a_long_official_one_does_not():
    easy, hard = readability(PLAIN), readability(HARD)
    assert easy["b1"] == 1.0 and hard["b1"] == 0.0
    assert easy["flesch_douma"] > 60 > hard["flesch_douma"]
    assert easy["sentence_length"] < 6 and hard["sentence_length"] > 30


def test_markers_quotes_and_the_intro_are_not_measured():
    text = "Volgens de documenten:\n\n“De boa komt snel.” [1]"
    assert plain_text(text, "Volgens de documenten:") == "De boa komt snel."
    assert sentence_length(plain_text(text, "Volgens de documenten:")) == 4
    assert readability("", "")["b1"] is None
