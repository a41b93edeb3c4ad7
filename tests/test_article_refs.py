"""How a question's article references are read and matched to laws (no model needed)."""

from __future__ import annotations

import pytest

from assistant.article_refs import analysed_reference, law_match, named_articles, section_article


@pytest.mark.parametrize(
    ("question", "articles"),
    [
        ("Wat regelt artikel 13b van de Opiumwet?", ["13b"]),
        ("Wat bepaalt art. 174a Gemeentewet?", ["174a"]),
        ("Wat staat er in art 8, lid 2, van de Uitvoeringswet?", ["8"]),
        ("Wat zegt Artikel 64, tweede lid, onder a, Gemeentewet?", ["64"]),
        ("Waar gaat artikel 5:20 Awb over?", ["5:20"]),
        ("Wat regelt art. 1.1 Wabo?", ["1.1"]),
        ("Wat staat in artikel 13 b van de Opiumwet?", ["13b"]),
        ("Wat regelen de artikelen 3, 4 en 5a van de wet?", ["3", "4", "5a"]),
        ("Wat zegt art. 3 sub b Wom?", ["3"]),
        ("Welk artikel geeft de burgemeester macht?", []),
        ("Hoeveel boa's had Urk in 2023?", []),
    ],
)
def test_named_articles(question, articles):
    assert named_articles(question) == articles


def test_section_article_is_the_last_article_of_the_heading_path():
    assert section_article("Hoofdstuk 3 > Artikel  13b") == "13b"
    assert section_article("Hoofdstuk 2 > Artikel 2:48 Verbod") == "2:48"
    assert section_article("Titel 5.1 > Afdeling 5.1.1") is None
    assert analysed_reference("5:20") == "artikel5x20"


@pytest.mark.parametrize(
    ("question", "title", "level"),
    [
        ("Wat regelt artikel 5 van de Gemeentewet?", "Gemeentewet", 2),
        ("Wat zegt art. 11 Politiewet?", "Politiewet 2012", 2),
        ("Wat regelt artikel 5 van de Wet veiligheidsregio's?", "Wet veiligheidsregio’s", 2),
        ("Wat zegt art. 3 Wom?", "Wet openbare manifestaties", 2),
        (
            "Wat regelt art. 13b Opiumwet?",
            "Wet van 12 mei 1928, tot vaststelling van "
            "bepalingen betreffende het opium en andere verdoovende middelen",
            1,
        ),
        ("Wat regelt artikel 5 van de Gemeentewet?", "Wet openbare manifestaties", 0),
        ("Wat zegt art. 3 Wom?", "Gemeentewet", 0),
        ("Wat regelt artikel 5?", "Gemeentewet", 0),
    ],
)
def test_law_match(question, title, level):
    assert law_match(question, title) == level
