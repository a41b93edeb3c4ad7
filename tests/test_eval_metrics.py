"""The evaluation's pure parts on small hand-computed cases: metrics, the gold-set
format, the judge's reply parsing, feedback conversion and run comparison."""

from __future__ import annotations

import json
import math

import pytest

from assistant.citations import CitationChecker
from assistant.evaluation import metrics as m
from assistant.evaluation.dataset import DatasetError, SourceRef, fact_found, load_dataset
from assistant.evaluation.feedback import from_feedback
from assistant.evaluation.judge import Judge, JudgeConfig, judge_config, parse_verdict
from assistant.evaluation.report import compare_summaries
from assistant.settings import Settings
from assistant.types import Chunk, Citation, Passage

DOC = "ivb-toelichting-beeldvormende-vergadering"
P2_TEXT = (
    "op drie geprioriteerde thema’s, namelijk ‘cybercrime en digitale veiligheid’, "
    "‘ondermijning’ en ‘maatschappelijke onrust’. De drie gemeenten werken samen waar het kan."
)


def loc(page: str, section: str = "", doc: str = DOC) -> m.Located:
    return m.Located(doc, frozenset({page}), section)


def src(page: str | None = None, section: str | None = None, doc: str = DOC) -> SourceRef:
    return SourceRef(doc_id=doc, page=page, section=section)


def passage(text: str, page: str = "2", cid: str = "c1", section: str = "") -> Passage:
    chunk = Chunk(
        id=cid,
        doc_id=DOC,
        source="x.pdf",
        title="t",
        text=text,
        ordinal=0,
        page_start=int(page) - 1,
        page_end=int(page) - 1,
        page_label_start=page,
        page_label_end=page,
        section=section,
        content_hash="h",
        doc_hash="d",
    )
    return Passage(chunk=chunk, score=1.0)


def cited(cid: str, quote: str, page: str) -> m.Cited:
    return m.Cited(cid, quote, loc(page))


# -- where ------------------------------------------------------------------------------------
def test_page_span_and_citation_ranges():
    assert m.page_span("1", "3") == {"1", "2", "3"}
    assert m.page_span("iv", "v") == {"iv", "v"}
    citation = Citation(
        n=1, chunk_id="c", doc_id=DOC, title="t", page="1-2", page_index=0, source="x", quote="q"
    )
    assert m.Located.from_citation(citation).pages == {"1", "2"}


def test_matches_doc_page_and_section():
    where = loc("2", "Geprioriteerde veiligheidsthema’s")
    assert m.matches(where, src(), "page")  # a doc-only source is a whole document
    assert m.matches(where, src("2"), "page")
    assert not m.matches(where, src("1"), "page")
    assert m.matches(where, src("1"), "doc")
    assert m.matches(where, src(section="geprioriteerde veiligheidsthema's"), "page")
    assert not m.matches(where, src("2", "Planning en proces"), "page")
    assert not m.matches(where, src("2", doc="ander-document"), "doc")


# -- ranking ----------------------------------------------------------------------------------
RANKED = [loc("1"), loc("2"), loc("2"), loc("3")]
GOLD = [src("2"), src("3")]


def test_hit_recall_mrr_by_hand():
    assert m.hit_at(RANKED, GOLD, 1) == 0.0
    assert m.hit_at(RANKED, GOLD, 3) == 1.0
    assert m.recall_at(RANKED, GOLD, 2) == 0.5
    assert m.recall_at(RANKED, GOLD, 3) == 0.5  # the second p. 2 chunk finds nothing new
    assert m.recall_at(RANKED, GOLD, 4) == 1.0
    assert m.recall_at(RANKED, GOLD, 2, mode="any") == 1.0
    assert m.reciprocal_rank(RANKED, GOLD) == 0.5
    # At document level every passage is relevant and the one document is found at once.
    assert m.hit_at(RANKED, GOLD, 1, "doc") == 1.0
    assert m.reciprocal_rank(RANKED, GOLD, "doc") == 1.0
    assert m.recall_at(RANKED, GOLD, 1, "doc") == 1.0


def test_ndcg_credits_each_gold_source_once():
    # Gains at ranks 2 (p. 2) and 4 (p. 3); rank 3 repeats p. 2 and earns nothing.
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3)
    assert m.ndcg_at(RANKED, GOLD, 10) == pytest.approx(dcg / ideal)
    assert m.ndcg_at(RANKED, GOLD, 10, mode="any") == pytest.approx(1 / math.log2(3))
    assert m.ndcg_at(RANKED, GOLD, 10, "doc") == pytest.approx(1.0)
    assert m.ndcg_at([loc("2"), loc("3")], GOLD, 10) == pytest.approx(1.0)


def test_no_gold_source_means_not_applicable():
    for value in (
        m.hit_at(RANKED, [], 5),
        m.recall_at(RANKED, [], 5),
        m.reciprocal_rank(RANKED, []),
        m.ndcg_at(RANKED, [], 10),
        m.citation_precision([cited("c1", "x", "2")], {"c1": "x"}, []),
        m.citation_recall([cited("c1", "x", "2")], []),
    ):
        assert value is None


def test_nothing_retrieved_scores_zero():
    assert m.hit_at([], GOLD, 10) == 0.0
    assert m.reciprocal_rank([], GOLD) == 0.0
    assert m.ndcg_at([], GOLD, 10) == 0.0
    assert m.recall_at([], GOLD, 10) == 0.0


# -- answer text ------------------------------------------------------------------------------
def test_key_fact_recall_substrings_and_regexes():
    text = "Het gaat om Cybercrime en maatschappelijke \n onrust, en werken efficiënter."
    facts = ["cybercrime", r"re:maatschappelijke\s+onrust", "ondermijning"]
    assert m.key_fact_recall(text, facts) == pytest.approx(2 / 3)
    assert m.missing_facts(text, facts) == ["ondermijning"]
    assert fact_found("efficienter", text)  # accents folded
    assert fact_found("re:thema's", "De thema’s")  # curly apostrophe folded
    assert fact_found(r"re:19[:.]30", "om 19.30 uur")
    assert m.key_fact_recall("", facts) == 0.0  # empty answer
    assert m.key_fact_recall(text, []) is None


def test_token_f1_by_hand():
    # Stems: prediction {cybercrime, ondermijning}, reference adds onrust; "en" is a stop word.
    assert m.token_f1("cybercrime en ondermijning", "cybercrime, ondermijning en onrust") == (
        pytest.approx(2 * 1 * (2 / 3) / (1 + 2 / 3))
    )
    assert m.token_f1("Volgens de documenten:\n\n“Cybercrime.” [1]", "cybercrime") == 1.0
    assert m.token_f1("", "cybercrime") == 0.0
    assert m.token_f1("", "") == 1.0
    assert m.token_f1("cybercrime", None) is None


def test_answer_body_strips_markers_and_intro():
    text = "According to the documents (quoted in Dutch):\n\n“Om 19:30 uur.” [1][2]"
    assert m.answer_body(text) == "Om 19:30 uur."


def test_semantic_similarity(embedder):
    same = "De drie gemeenten werken samen op cybercrime."
    assert m.semantic_similarity(same, same, embedder) == pytest.approx(1.0, abs=1e-3)
    other = m.semantic_similarity(same, "Het recept voor appeltaart met kaneel.", embedder)
    assert 0.0 <= other < 0.7
    assert m.semantic_similarity("", same, embedder) == 0.0
    assert m.semantic_similarity(same, None, embedder) is None


# -- citations --------------------------------------------------------------------------------
TEXTS = {"c1": "Tekst over cybercrime op pagina twee.", "c2": "19:30 uur Opening."}


def test_citation_precision_and_recall_by_hand():
    good = cited("c1", "cybercrime op pagina twee", "2")
    off_page = cited("c2", "19:30 uur", "3")
    not_verbatim = cited("c1", "iets dat er niet staat", "2")
    gold = [src("2"), src("1")]
    assert m.citation_precision([good, off_page, not_verbatim], TEXTS, gold) == pytest.approx(1 / 3)
    assert m.citation_recall([good, off_page], gold) == 0.5
    assert m.citation_recall([good], gold, mode="any") == 1.0
    assert m.quote_verbatim(good, TEXTS) and not m.quote_verbatim(not_verbatim, TEXTS)
    assert not m.quote_verbatim(cited("zz", "x", "2"), TEXTS)  # chunk unknown


def test_duplicate_citations_count_once():
    good = cited("c1", "cybercrime op pagina twee", "2")
    off_page = cited("c2", "19:30 uur", "3")
    assert m.citation_precision([good, good, off_page], TEXTS, [src("2")]) == 0.5
    assert m.citation_recall([good, good], [src("2"), src("2")]) == 1.0


def test_refused_answer_has_no_citation_precision_and_zero_recall():
    assert m.citation_precision([], TEXTS, [src("2")]) is None
    assert m.citation_recall([], [src("2")]) == 0.0


# -- faithfulness -----------------------------------------------------------------------------
def test_faithfulness_uses_the_pipelines_checker(embedder):
    checker = CitationChecker(embedder, threshold=0.5)
    p2 = passage(P2_TEXT)
    claims = [
        m.Claim("De drie gemeenten werken samen op cybercrime en ondermijning.", [p2]),
        m.Claim("Het budget voor cybercrime is 5 miljoen euro.", [p2]),  # number not in source
        m.Claim("Ondermijning is een thema.", []),  # cites nothing
        m.Claim("[1]", [p2]),  # no words: not a claim
    ]
    assert m.faithfulness(claims, checker, "nl") == pytest.approx(1 / 3)
    assert m.faithfulness([], checker) is None  # refused or empty answer


def test_strict_support_by_hand():
    assert m.strict_support("De drie gemeenten werken samen waar het kan.", P2_TEXT)
    # An inflection of a passage word is allowed (geprioriteerd / geprioriteerde).
    assert m.strict_support("Drie thema's zijn geprioriteerd: cybercrime [1].", P2_TEXT)
    assert not m.strict_support("De drie gemeenten werken samen sinds 2020.", P2_TEXT)  # number
    assert not m.strict_support("De drie gemeenten werken samen met de politie.", P2_TEXT)
    # Content words all there, but half of the words are not (is, een): below 80%.
    assert not m.strict_support("Cybercrime is een thema.", "Cybercrime en ondermijning: thema’s.")
    assert not m.strict_support("Drie thema's zijn gekozen.", P2_TEXT)  # a Dutch paraphrase
    assert not m.strict_support("", P2_TEXT)


DRONTEN_TEXT = (
    "Daarom heeft elke gemeente lokale speerpunten geformuleerd. Voor de gemeente Dronten "
    "zijn dat de thema’s ‘zorg & veiligheid’, ‘evenementen’ en ‘crisisorganisatie’."
)


def test_strict_support_of_a_translation_checks_numbers_names_and_quoted_terms():
    """An English sentence citing a Dutch passage: words are not compared, but what a
    translation must leave as it is must stand in the passage."""
    faithful = (
        "The local priorities of Dronten are 'zorg & veiligheid', 'evenementen' and "
        "'crisisorganisatie' [1]."
    )
    assert m.strict_support(faithful, DRONTEN_TEXT)
    assert m.strict_support("Three themes were prioritised.", P2_TEXT)
    assert m.strict_support("Dronten’s themes include ‘Zorg & Veiligheid’.", DRONTEN_TEXT)
    assert not m.strict_support(faithful.replace("Dronten", "Lelystad"), DRONTEN_TEXT)  # name
    assert not m.strict_support(faithful.replace(" [1]", " since 2020"), DRONTEN_TEXT)  # number
    # A quoted term must stand in the passage as written: not translated, not garbled,
    # its words in a row.
    assert not m.strict_support(
        faithful.replace("zorg & veiligheid", "care & safety"), DRONTEN_TEXT
    )
    assert not m.strict_support("The themes are 'undermijning' and 'cybercrime'.", P2_TEXT)
    assert not m.strict_support("One theme is 'digitale cybercrime'.", P2_TEXT)
    assert m.strict_support("The themes are 'ondermijning' and 'cybercrime'.", P2_TEXT)
    assert not m.strict_support("[1]", DRONTEN_TEXT)  # an empty sentence
    planning = "In het voorjaar van 2024 (maart) wordt het IVB aangeboden."
    assert m.strict_support("The IVB will be presented in March 2024.", planning)
    assert not m.strict_support("The IVB will be presented in May 2024.", planning)


def test_strict_faithfulness_share():
    p2 = passage(P2_TEXT)
    claims = [
        m.Claim("De drie gemeenten werken samen waar het kan.", [p2]),
        m.Claim("De gemeenten werken samen met de politie.", [p2]),
        m.Claim("De drie gemeenten werken samen waar het kan.", []),
    ]
    assert m.strict_faithfulness(claims) == pytest.approx(1 / 3)
    assert m.strict_faithfulness([]) is None


# -- refusals and latency ---------------------------------------------------------------------
def test_refusal_rates_by_hand():
    outcomes = [(True, False), (True, True), (False, True), (False, False), (False, True)]
    assert m.refusal_accuracy(outcomes) == pytest.approx(2 / 3)
    assert m.false_refusal_rate(outcomes) == 0.5
    assert m.refusal_accuracy([(True, False)]) is None
    assert m.false_refusal_rate([(False, True)]) is None


def test_percentiles_and_latency_stats():
    assert m.percentile([4, 1, 3, 2], 50) == 2.5
    assert m.percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)
    assert m.percentile([7], 95) == 7
    stats = m.latency_stats([{"total": 1.0, "retrieve": 0.5}, {"total": 3.0}])
    assert stats["total"]["p50"] == 2.0 and stats["total"]["n"] == 2
    assert stats["retrieve"] == {"p50": 0.5, "p95": 0.5, "mean": 0.5, "n": 1}
    assert m.mean([1.0, None, 0.0]) == (0.5, 2)
    assert m.mean([None]) == (None, 0)


# -- the gold-set format ----------------------------------------------------------------------
def _write(tmp_path, lines):
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_dataset_loads_and_normalises(tmp_path):
    ok = {"id": "a", "question": "Wie?", "sources": [{"doc_id": DOC, "page": 2}]}
    path = _write(
        tmp_path,
        [json.dumps(ok), "", json.dumps({"id": "b", "question": "Wat?", "answerable": False})],
    )
    items = load_dataset(path)
    assert [i.id for i in items] == ["a", "b"]
    assert items[0].sources[0].page == "2" and items[0].audience == "raad"


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("{niet json", "geen geldige JSON"),
        ('{"id": "x", "question": "Q", "vraag": 1}', "vraag: onbekend veld"),
        ('{"id": "x"}', "question: ontbreekt"),
        ('{"id": "x", "question": "Q", "key_facts": ["re:(("]}', "geen geldige regex"),
        ('{"id": "x", "question": "Q", "audience": "pers"}', "audience"),
        (
            '{"id": "x", "question": "Q", "answerable": false, "sources": [{"doc_id": "d"}]}',
            "onbeantwoordbare",
        ),
        ('{"id": "a", "question": "Q"}', "regel 1"),  # duplicate id
    ],
)
def test_dataset_errors_name_the_line(tmp_path, line, needle):
    path = _write(tmp_path, ['{"id": "a", "question": "Q"}', line])
    with pytest.raises(DatasetError) as err:
        load_dataset(path)
    assert f"{path}:2:" in str(err.value) and needle in str(err.value)


def test_missing_dataset_file(tmp_path):
    with pytest.raises(DatasetError, match="bestaat niet"):
        load_dataset(tmp_path / "nope.jsonl")


# -- the judge's replies ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("reply", "score"),
    [
        ('{"score": 4, "uitleg": "bijna"}', 0.75),
        ('Mijn oordeel:\n```json\n{"score": 5, "uitleg": "juist"}\n```\nKlaar.', 1.0),
        ('<think>misschien score 1</think>{"oordeel": "2"}', 0.25),
        ("{'score': 3}", 0.5),
        ("Score: 4/5 want het klopt grotendeels.", 0.75),
        ("Ik geef dit antwoord een 1.", 0.0),
        ('{"score": 0.8}', 0.8),
        ("Geen idee wat ik moet doen.", None),
        ("", None),
    ],
)
def test_parse_verdict_tolerates_junk(reply, score):
    parsed, _ = parse_verdict(reply)
    assert parsed == (None if score is None else pytest.approx(score))


def test_parse_verdict_keeps_the_reason():
    assert parse_verdict('x {"score": 5, "uitleg": "volledig"} y') == (1.0, "volledig")


def test_judge_config_from_env(monkeypatch):
    monkeypatch.delenv("IVB_JUDGE_BASE_URL", raising=False)
    assert judge_config(Settings()) is None
    monkeypatch.setenv("IVB_JUDGE_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("IVB_JUDGE_MODEL", "rechter")
    config = judge_config(Settings())
    assert config == JudgeConfig("http://127.0.0.1:9/v1", "rechter", None)


class _Client:
    """Stands in for an OpenAI client: no judge endpoint can be reached in unit tests."""

    def __init__(self, reply: str | Exception) -> None:
        self.reply = reply
        self.chat = self
        self.completions = self
        self.messages: list = []

    def create(self, **kwargs):
        self.messages.append(kwargs["messages"])
        if isinstance(self.reply, Exception):
            raise self.reply
        msg = type("M", (), {"content": self.reply})
        return type("R", (), {"choices": [type("C", (), {"message": msg})]})


def test_judge_asks_in_dutch_and_never_raises():
    client = _Client('Oordeel: {"score": 5, "uitleg": "klopt"}')
    judge = Judge(JudgeConfig("http://x", "m"), client=client)
    verdict = judge.correctness("Wie?", "Tom Nauta [1]", "Tom Nauta", ["nauta"])
    assert verdict.score == 1.0 and verdict.error is None
    assert "Referentieantwoord: Tom Nauta" in client.messages[0][1]["content"]
    failing = Judge(JudgeConfig("http://x", "m"), client=_Client(ConnectionError("weg")))
    verdict = failing.faithfulness("antwoord", ["passage"])
    assert verdict.score is None and "ConnectionError" in verdict.error


# -- feedback and comparison ------------------------------------------------------------------
def test_from_feedback_up_down_and_refusal():
    nauta = "Wie geeft de toelichting op de politiecijfers?"
    records = [
        {"question": nauta, "rating": "down", "answer": "Iets anders.", "citations": []},
        {
            "question": "Wat kost het IVB?",
            "rating": "up",
            "answer": "Dat staat er niet in.",
            "citations": [],
            "refused": True,
        },
        {
            "question": "Welke thema's?",
            "rating": "down",
            "answer": "Iets fouts.",
            "citations": [],
            "comment": "mist ondermijning",
        },
        {"question": "Wie is de contactpersoon?", "rating": "up", "answer": "x", "citations": []},
        {"question": "Wie is de contactpersoon?", "rating": "none"},  # taken back
        {
            "question": nauta,
            "rating": "👍",
            "answer": "“Tom Nauta, teamchef.” [1]",
            "citations": [
                {"doc_id": DOC, "page": "3", "quote": "Tom Nauta"},
                {"doc_id": DOC, "page": "3", "quote": "teamchef"},
            ],
        },
    ]
    refused, down, up = from_feedback(records)  # the later rating of Nauta's question wins
    assert up["question"] == nauta and up["answerable"] is True
    assert up["sources"] == [{"doc_id": DOC, "page": "3"}] and "needs_review" not in up
    assert up["reference_answer"] == "Tom Nauta, teamchef." and up["id"].startswith("fb-")
    assert refused["answerable"] is False and "sources" not in refused
    assert down["needs_review"] is True and down["answerable"] is None
    assert "mist ondermijning" in down["notes"] and "afgekeurd antwoord" in down["notes"]
    with pytest.raises(ValueError, match="record 1"):
        from_feedback([{"question": "Q", "rating": "meh"}])


def test_needs_review_items_may_leave_answerable_open(tmp_path):
    open_item = {"id": "r", "question": "Q", "answerable": None, "needs_review": True}
    assert load_dataset(_write(tmp_path, [json.dumps(open_item)]))[0].answerable is None
    with pytest.raises(DatasetError, match="needs_review"):
        load_dataset(_write(tmp_path, ['{"id": "r", "question": "Q", "answerable": null}']))


def test_compare_summaries_deltas_and_direction():
    current = {
        "run": {"dataset_sha256": "a"},
        "latency": {"total": {"p50": 2.0, "p95": 3.0}},
        "metrics": {
            "pass_rate": {"value": 0.6, "n": 5},
            "false_refusal_rate": {"value": 0.1, "n": 5},
        },
    }
    other = {
        "run": {"dataset_sha256": "a", "backend": "local"},
        "latency": {"total": {"p50": 1.0, "p95": 3.5}},
        "metrics": {
            "pass_rate": {"value": 0.8, "n": 5},
            "false_refusal_rate": {"value": 0.3, "n": 5},
        },
    }
    comp = compare_summaries(current, other, "run-a")
    assert comp["metrics"]["pass_rate"]["delta"] == pytest.approx(-0.2)
    assert comp["metrics"]["pass_rate"]["better"] is False
    assert comp["metrics"]["false_refusal_rate"]["better"] is True  # lower is better
    assert comp["latency"]["total"]["delta_p50"] == 1.0 and comp["same_dataset"]


def test_a_sentence_the_check_dropped_is_no_claim_of_the_answer():
    # The local model wrote three sentences; the citation check dropped the third, which
    # nobody sees. Faithfulness grades what the answer shows; the row keeps all three.
    from assistant.evaluation.runner import _claims, _sentence_rows
    from assistant.types import Answer, AnswerSentence

    p = passage(P2_TEXT)
    citation = Citation(n=1, chunk_id="c1", doc_id=DOC, title="t", page="2", page_index=1,
                        source="x.pdf", quote=P2_TEXT[:40])  # fmt: skip
    kept = AnswerSentence(text="De drie gemeenten werken samen waar het kan.", citations=[1],
                          support=1.0)  # fmt: skip
    dropped = AnswerSentence(text="Dat besluit de raad in februari.", supported=False)
    answer = Answer(question="q", text="De drie gemeenten werken samen waar het kan [1].",
                    citations=[citation], sentences=[kept, dropped])  # fmt: skip
    assert [c.text for c in _claims(answer, {"c1": p})] == [kept.text]
    assert len(_claims(answer, {"c1": p}, "flag")) == 2  # shown, marked: it counts
    rows = _sentence_rows(answer, {"c1": p})
    assert [r["shown"] for r in rows] == [True, False]
    assert rows[0]["strict_supported"] and not rows[1]["strict_supported"]
