"""Citations decided by code: a model's [n] is kept when it checks out, re-pointed when
another passage supports the sentence, removed when it points nowhere; a sentence no
passage supports is dropped or flagged (real embedding model, hand-made passages)."""

from __future__ import annotations

import pytest

from assistant.citations import CitationChecker
from assistant.types import Chunk, Passage

THEMES = (
    "De drie gemeenten werken de komende vier jaar samen op drie geprioriteerde thema’s, "
    "namelijk cybercrime en digitale veiligheid, ondermijning en maatschappelijke onrust."
)
AGENDA = "19:40 uur Toelichting politiecijfers door Tom Nauta, teamchef Basisteam Dronten."


def passage(text: str, page: str, cid: str) -> Passage:
    chunk = Chunk(
        id=cid, doc_id="ivb", source="ivb.pdf", title="Toelichting IVB", text=text,
        ordinal=0, page_start=int(page) - 1, page_end=int(page) - 1, page_label_start=page,
        page_label_end=page, content_hash=cid, doc_hash="v",
    )  # fmt: skip
    return Passage(chunk=chunk, score=1.0, dense_score=0.7)


PASSAGES = [passage(THEMES, "2", "c-themes"), passage(AGENDA, "3", "c-agenda")]
ANSWER = (
    "De gemeenten werken samen aan cybercrime, ondermijning en maatschappelijke onrust [2]. "
    "Tom Nauta geeft de toelichting op de politiecijfers [9]. "
    "Daarvoor is 5 miljoen euro begroot [1]."
)


def test_markers_are_re_pointed_and_unsupported_sentences_dropped(embedder):
    text, sentences, citations = CitationChecker(embedder, 0.5).check(ANSWER, PASSAGES)
    themes, nauta, budget = sentences
    # [2] named the agenda passage for the themes sentence: re-pointed to the themes one.
    assert themes.supported and [citations[n - 1].page for n in themes.citations] == ["2"]
    # [9] does not exist: replaced by the passage that holds Tom Nauta.
    assert nauta.supported and [citations[n - 1].page for n in nauta.citations] == ["3"]
    # The amount stands in no passage: not supported, and gone from the text.
    assert not budget.supported and budget.citations == []
    assert "miljoen" not in text and "[9]" not in text
    for c in citations:  # every quote is a verbatim span of the cited chunk
        assert c.quote in next(p.chunk.text for p in PASSAGES if p.chunk.id == c.chunk_id)


def test_a_chunk_two_sentences_rest_on_quotes_both(embedder):
    """One citation per chunk, and it quotes each sentence of the chunk an answer sentence
    rests on, in the order the answer uses them (it quoted only the first)."""
    both = passage(f"{THEMES} {AGENDA}", "2", "c-both")
    answer = (
        "De drie gemeenten werken samen op cybercrime, ondermijning en maatschappelijke "
        "onrust [1]. Tom Nauta geeft de toelichting op de politiecijfers [1]."
    )
    _, sentences, citations = CitationChecker(embedder, 0.5).check(answer, [both])
    assert [s.citations for s in sentences] == [[1], [1]]
    (citation,) = citations
    assert citation.quotes == [THEMES, AGENDA] and citation.quote == THEMES


def test_a_correct_marker_is_kept(embedder):
    _, sentences, citations = CitationChecker(embedder, 0.5).check(
        "Tom Nauta geeft de toelichting op de politiecijfers [2].", PASSAGES
    )
    assert citations[sentences[0].citations[0] - 1].chunk_id == "c-agenda"


@pytest.mark.parametrize("policy", ["drop", "flag"])
def test_unsupported_sentence_policy(embedder, policy):
    text, sentences, _ = CitationChecker(embedder, 0.5, policy).check(ANSWER, PASSAGES)
    assert [s.supported for s in sentences] == [True, True, False]
    if policy == "drop":
        assert "miljoen" not in text
    else:
        assert "Daarvoor is 5 miljoen euro begroot [niet onderbouwd]" in text


def test_a_lead_line_is_checked_with_the_list_under_it(embedder):
    answer = (
        "The three municipalities prioritised these themes together: [1]\n"
        "- cybercrime and digital safety\n- undermining\n- social unrest"
    )
    text, sentences, citations = CitationChecker(embedder, 0.5).check(answer, PASSAGES, "en")
    assert len(sentences) == 1 and sentences[0].supported
    assert "social unrest" in text and citations[0].page == "2"


def test_a_numbered_list_is_not_taken_for_numbers(embedder):
    # As the local model wrote it in the IVB gold run ("2.ondermijning" without a space):
    # the list's numbering is no claim that the passage must contain 1, 2 and 3.
    answer = (
        "De drie geprioriteerde veiligheidsthema's zijn:\n\n1. Cybercrime en digitale "
        "veiligheid\n2.ondermijning\n3. maatschappelijke onrust"
    )
    text, sentences, citations = CitationChecker(embedder, 0.5, "flag").check(answer, PASSAGES)
    assert len(sentences) == 1 and sentences[0].supported, sentences
    assert "[niet onderbouwd]" not in text and citations[0].page == "2"


def test_inline_numbering_is_not_taken_for_numbers(embedder):
    answer = "De thema's zijn 1) cybercrime en digitale veiligheid, 2) ondermijning en 3) onrust."
    _, sentences, _ = CitationChecker(embedder, 0.5).check(answer, PASSAGES)
    assert sentences[0].supported, sentences


def test_a_title_abbreviation_does_not_end_a_sentence():
    # pysbd's Dutch rules split "de heer drs. ing. | G.J. Braas": the quote lost the title.
    from assistant.sentences import split_spans

    text = "De raad herbenoemt de heer drs. ing. G.J. Braas als lid. Dat is besloten."
    spans = split_spans(text)
    assert [s.text for s in spans] == [
        "De raad herbenoemt de heer drs. ing. G.J. Braas als lid.",
        "Dat is besloten.",
    ]
    assert all(text[s.start : s.end] == s.text for s in spans)
    first = split_spans("Zie art. 13b van de Opiumwet. Klaar.")[0]
    assert first.text.endswith("Opiumwet.")
