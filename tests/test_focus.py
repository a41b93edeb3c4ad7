"""Focused passages for the LLM prompt: verbatim sentences, in order, within the budget."""

from __future__ import annotations

from assistant import prompts
from assistant.focus import focus_passages
from assistant.types import Chunk, Passage

AGENDA = (
    "Het IVB 2024-2027 dient als kapstok voor het ontwikkelen van beleid. "
    "Zorgdragen voor een veilige samenleving doen we samen met de politie. "
    "De toelichting op de politiecijfers wordt gegeven door Tom Nauta, teamchef. "
    "De samenwerking met het Openbaar Ministerie loopt al jaren. "
    "Criminaliteit houdt zich immers niet aan geografische grenzen."
)


def passage(text: str, before: str = "", after: str = "") -> Passage:
    chunk = Chunk(
        id="d:v:00001", doc_id="d", source="d.pdf", title="Toelichting", text=text,
        ordinal=1, page_start=2, page_end=2, page_label_start="3", page_label_end="3",
        content_hash="h", doc_hash="v",
    )  # fmt: skip
    return Passage(chunk=chunk, score=1.0, context_before=before, context_after=after)


def test_keeps_the_sentence_that_shares_the_rare_words():
    (text,) = focus_passages(
        "Wie geeft de toelichting op de politiecijfers?", [passage(AGENDA)], 120
    )
    assert "Tom Nauta" in text
    assert "Criminaliteit" not in text
    assert len(text) <= 180  # budget, plus the gap marks


def test_kept_sentences_are_verbatim_and_in_order():
    q = "Wat doet de politie samen met het Openbaar Ministerie?"
    (text,) = focus_passages(q, [passage(AGENDA)], 200)
    parts = [p.strip() for p in text.split("…") if p.strip()]
    assert parts and all(p in AGENDA for p in parts)
    assert [AGENDA.index(p) for p in parts] == sorted(AGENDA.index(p) for p in parts)


def test_idf_weights_decide_between_sentences():
    q = "politie geografische"
    rare_geo = {"politie": 0.1, "geografisch": 5.0}
    (text,) = focus_passages(q, [passage(AGENDA)], 90, idf=lambda terms: rare_geo)
    assert "geografische grenzen" in text


def test_short_passage_and_zero_budget_stay_whole_with_context():
    short = passage("De drie gemeenten werken samen.", before="Inleiding", after="op drie thema's")
    whole = passage(AGENDA)
    assert focus_passages("thema", [short], 300) == ["(…Inleiding) De drie gemeenten werken "
                                                     "samen. (op drie thema's…)"]  # fmt: skip
    assert focus_passages("thema", [whole], 0) == [AGENDA]


def test_question_in_another_language_reads_from_the_top():
    (text,) = focus_passages("Who explains the police figures?", [passage(AGENDA)], 150)
    assert text.startswith("Het IVB 2024-2027")


def test_answer_messages_number_every_passage_and_end_with_the_question():
    ps = [passage(AGENDA), passage("Tweede bron.")]
    (role_s, system), (role_u, user) = prompts.answer_messages(
        "Wie is teamchef?", ps, "inwoner", "nl", passage_chars=100
    )
    assert (role_s, role_u) == ("system", "human")
    assert "taalniveau B1" in system
    assert "[1] Toelichting, p. 3:" in user and "[2] Toelichting, p. 3:\nTweede bron." in user
    assert user.rstrip().endswith("Vraag: Wie is teamchef?")
    assert len(user) < len(prompts.user_prompt("Wie is teamchef?", ps))


def test_a_lead_line_keeps_its_bullets():
    text = (
        "Het IVB kent ook accenten per gemeente. Voor Dronten zijn dat:\n"
        "• jeugdoverlast\n• verkeersveiligheid\n• woninginbraken\n"
        "Urk werkt aan andere onderwerpen die hier niet ter zake doen en die lang zijn."
    )
    (out,) = focus_passages("Welke lokale speerpunten heeft Dronten?", [passage(text)], 90)
    assert "Voor Dronten zijn dat:" in out
    assert "jeugdoverlast" in out and "woninginbraken" in out
