"""The conversation export (web/export.py): what the Markdown and the Word file say, read
back with python-docx; and the chat's turns as the export takes them (web/chat.py)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone

import pytest
from docx import Document

from assistant.types import RefusalReason
from web.chat import _export_turn
from web.export import (
    REFUSAL_REASONS,
    ExportSource,
    ExportTurn,
    export_file_name,
    render_export,
    to_docx,
    to_markdown,
)
from web.i18n import TEXTS
from web.turns import CitedSource, Turn

ASKED = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
SAVED = datetime(2026, 12, 1, 9, 45, tzinfo=UTC)
QUOTE = "samen te werken op drie geprioriteerde thema's, namelijk cybercrime en ondermijning"


def _turns() -> list[ExportTurn]:
    answered = ExportTurn(
        question="Welke thema's hebben de drie gemeenten samen geprioriteerd?",
        answer="Cybercrime en ondermijning [1]. Ook maatschappelijke onrust [2].",
        asked_at=ASKED,
        model="Qwen2.5-Coder-1.5B-Instruct",
        backend="local",
        sources=[
            ExportSource(1, "Toelichting IVB 2024-2027", "1–2", QUOTE, "ivb-toelichting"),
            ExportSource(2, "IVB 2020-2023", "7", "maatschappelijke onrust", "ivb-oud", True),
        ],
    )
    refused = ExportTurn(
        question="Hoe lang moet een appeltaart in de oven?",
        answer="Dat staat niet in de documenten.",
        asked_at=ASKED + timedelta(minutes=5),
        model="extractive",
        backend="extractive",
        refused=True,
        refusal_reason="no_relevant_passage",
    )
    return [answered, refused]


def test_markdown_names_sources_pages_quotes_dates_models_and_refusals():
    text = to_markdown(_turns(), SAVED)
    assert text.startswith("# Gesprek met de IVB-assistent\n")
    assert "Opgeslagen op 1 december 2026, 09:45 UTC. 2 vragen, waarvan 1 geweigerd." in text
    assert "## Vraag 1: Welke thema's hebben de drie gemeenten samen geprioriteerd?" in text
    assert "Gesteld op 1 december 2026, 09:30 UTC · Model: Qwen2.5-Coder-1.5B-Instruct (local)" in (
        text
    )
    assert "- [1] Toelichting IVB 2024-2027 (`ivb-toelichting`), pagina 1–2" in text
    assert f"  > {QUOTE}" in text
    assert "pagina 7 (vervangen door een nieuwere versie)" in text
    # The refusal is marked, with its reason, under the second question only.
    second = text.split("## Vraag 2:")[1]
    assert "**Geweigerd: geen antwoord gegeven (reden: " in second
    assert REFUSAL_REASONS["no_relevant_passage"] in second
    assert "Geweigerd" not in text.split("## Vraag 2:")[0].split("## Vraag 1:")[1]
    assert "Gesteld op 1 december 2026, 09:35 UTC · Model: extractive" in second


def test_an_english_export_has_english_texts_and_marks_refusals_in_english():
    text = to_markdown(_turns(), SAVED, "en")
    assert text.startswith("# Conversation with the IVB assistant\n")
    assert "Saved on 1 December 2026, 09:45 UTC. 2 questions, of which 1 refused." in text
    # The question, the answer and the quotes stay as they were (Dutch).
    assert "## Question 1: Welke thema's hebben de drie gemeenten samen geprioriteerd?" in text
    assert "Asked on 1 December 2026, 09:30 UTC · Model: Qwen2.5-Coder-1.5B-Instruct (local)" in (
        text
    )
    assert "**Sources**" in text
    assert "- [1] Toelichting IVB 2024-2027 (`ivb-toelichting`), page 1–2" in text
    assert f"  > {QUOTE}" in text
    assert "page 7 (replaced by a newer version)" in text
    first, second = text.split("## Question 2:")
    assert "Refused" not in first
    assert (
        "**Refused: no answer given (reason: no passage in the documents fits the question).**"
        in second
    )
    for dutch in ("Gesprek", "Opgeslagen", "Gesteld", "Vraag", "Bronnen", "pagina", "Geweigerd"):
        assert dutch not in text, dutch
    assert "december" not in text and "reden" not in text


def test_every_refusal_reason_is_worded_in_both_languages():
    for reason in RefusalReason:
        key = f"export_reason_{reason.value}"
        assert TEXTS["nl"][key] and TEXTS["en"][key], key
    assert set(REFUSAL_REASONS) == {r.value for r in RefusalReason}


def test_markdown_keeps_user_text_from_becoming_structure():
    turn = ExportTurn(
        question="# kop\nmet <script>alert(1)</script>",
        answer="## geen kop\n> geen citaat\n1. geen lijst",
        asked_at=ASKED,
    )
    text = to_markdown([turn], SAVED)
    assert "## Vraag 1: \\# kop met &lt;script&gt;" in text
    assert "\n\\## geen kop\n&gt; geen citaat\n\\1. geen lijst" in text
    assert "<script>" not in text


def test_docx_holds_the_same_content():
    data = to_docx(_turns(), SAVED)
    doc = Document(io.BytesIO(data))
    paragraphs = [(p.style.name, p.text) for p in doc.paragraphs]
    texts = [t for _, t in paragraphs]
    assert ("Title", "Gesprek met de IVB-assistent") in paragraphs
    assert (
        "Heading 1",
        "Vraag 1: Welke thema's hebben de drie gemeenten samen geprioriteerd?",
    ) in (paragraphs)
    assert any("Opgeslagen op 1 december 2026, 09:45 UTC" in t for t in texts)
    assert ("List Bullet", "[1] Toelichting IVB 2024-2027 (ivb-toelichting), pagina 1–2") in (
        paragraphs
    )
    assert ("Quote", QUOTE) in paragraphs
    refusals = [t for t in texts if t.startswith("Geweigerd")]
    assert refusals == [
        f"Geweigerd: geen antwoord gegeven (reden: {REFUSAL_REASONS['no_relevant_passage']})."
    ]
    # The refusal stands under the second question's heading.
    assert texts.index(refusals[0]) > texts.index(
        "Vraag 2: Hoe lang moet een appeltaart in de oven?"
    )
    assert any("Model: Qwen2.5-Coder-1.5B-Instruct (local)" in t for t in texts)
    assert doc.core_properties.title == "Gesprek met de IVB-assistent"


def test_an_english_docx_has_english_headings_and_refusals():
    doc = Document(io.BytesIO(to_docx(_turns(), SAVED, "en")))
    paragraphs = [(p.style.name, p.text) for p in doc.paragraphs]
    texts = [t for _, t in paragraphs]
    assert ("Title", "Conversation with the IVB assistant") in paragraphs
    assert (
        "Heading 1",
        "Question 1: Welke thema's hebben de drie gemeenten samen geprioriteerd?",
    ) in paragraphs
    assert ("Heading 2", "Sources") in paragraphs
    assert ("List Bullet", "[1] Toelichting IVB 2024-2027 (ivb-toelichting), page 1–2") in (
        paragraphs
    )
    assert any(t.startswith("Saved on 1 December 2026, 09:45 UTC") for t in texts)
    refusals = [t for t in texts if t.startswith("Refused")]
    assert refusals == [
        "Refused: no answer given (reason: no passage in the documents fits the question)."
    ]
    assert not any(t.startswith("Geweigerd") for t in texts)
    assert doc.core_properties.title == "Conversation with the IVB assistant"
    assert doc.core_properties.language == "en-GB"


def test_render_export_gives_bytes_and_media_type_and_refuses_other_formats():
    md, md_type = render_export(_turns(), "md", exported_at=SAVED)
    assert md_type.startswith("text/markdown") and md.decode("utf-8").startswith("# Gesprek")
    docx, docx_type = render_export(_turns(), "docx", exported_at=SAVED)
    assert docx[:2] == b"PK" and docx_type.endswith("wordprocessingml.document")
    with pytest.raises(ValueError, match="pdf"):
        render_export(_turns(), "pdf")
    local = SAVED.astimezone(timezone(timedelta(hours=1)))
    assert export_file_name(local, "docx") == "gesprek-ivb-20261201-0945.docx"
    assert export_file_name(local, "md", "en") == "conversation-ivb-20261201-0945.md"
    english, _ = render_export(_turns(), "md", exported_at=SAVED, lang="en")
    assert english.decode("utf-8").startswith("# Conversation with the IVB assistant")


def test_from_answer_reads_the_api_answer():
    answer = {
        "question": "V?",
        "answer": "A [1].",
        "refused": False,
        "refusal_reason": "",
        "citations": [{"n": 1, "title": "T", "page": "3", "quote": "q", "doc_id": "d"}],
        "model": "m",
        "backend": "openai",
        "notice": "",
    }
    turn = ExportTurn.from_answer(answer, ASKED)
    assert turn.sources == [ExportSource(1, "T", "3", "q", "d", False)]
    assert (turn.model, turn.backend, turn.refused) == ("m", "openai", False)


def test_a_chat_turn_becomes_an_export_turn():
    source = CitedSource(
        n=1, chunk_id="d:1", doc_id="d", title="T", page="2", page_index=1, source="x.pdf",
        quote="q", context="ctx q ctx",
    )  # fmt: skip
    turn = Turn(
        question="V?", answer="A [1].", html="", refused=True, audience="raad", language="nl",
        audit_id="a1", citations=[source], asked_at="2026-12-01T09:30:00+00:00", model="m",
        backend="extractive", refusal_reason="unsupported", notice="let op",
    )  # fmt: skip
    exported = _export_turn(turn, SAVED)
    assert exported.asked_at == ASKED and exported.refusal_reason == "unsupported"
    assert exported.sources == [ExportSource(1, "T", "2", "q", "d", False)]
    assert "let op" in to_markdown([exported], SAVED)
    # A turn from before the export existed (no time) gets the export's time.
    assert _export_turn(Turn("V", "A", "", False, "raad", "nl", "a"), SAVED).asked_at == SAVED


FIRST = "De drie gemeenten werken samen op drie thema’s."
SECOND = "Voor Dronten zijn dat zorg en veiligheid."


def test_a_source_quoting_two_sentences_exports_both():
    """A citation resting on two sentences of its chunk: the Markdown and the Word file
    quote both, each on its own (only the first was exported)."""
    turn = ExportTurn(
        question="V?",
        answer="Drie thema’s [1]. Zorg en veiligheid [1].",
        asked_at=ASKED,
        sources=[ExportSource(1, "Nota", "2", FIRST, "nota", quotes=[FIRST, SECOND])],
    )
    md = to_markdown([turn], SAVED)
    assert f"  > {FIRST}\n  >\n  > {SECOND}\n" in md
    doc = Document(io.BytesIO(to_docx([turn], SAVED)))
    assert [p.text for p in doc.paragraphs if p.style.name == "Quote"] == [FIRST, SECOND]


def test_both_quotes_come_from_the_api_answer_and_the_chat_turn():
    """``quotes`` is read from the API's answer and from a chat turn; an answer of the older
    shape (``quote`` only) still exports its quote."""
    cited = {"n": 1, "title": "T", "page": "2", "quote": FIRST, "doc_id": "d"}
    answer = {
        "question": "V?",
        "answer": "A [1].",
        "citations": [{**cited, "quotes": [FIRST, SECOND]}],
    }
    assert ExportTurn.from_answer(answer, ASKED).sources[0].quotes == [FIRST, SECOND]
    older = ExportTurn.from_answer({**answer, "citations": [cited]}, ASKED).sources[0]
    assert (older.quote, older.quotes) == (FIRST, [FIRST])
    source = CitedSource(
        n=1, chunk_id="d:1", doc_id="d", title="T", page="2", page_index=1, source="x.pdf",
        quote=FIRST, quotes=[FIRST, SECOND], context=f"{FIRST} {SECOND}",
    )  # fmt: skip
    turn = Turn(question="V?", answer="A [1].", html="", refused=False, audience="raad",
                language="nl", audit_id="a1", citations=[source])  # fmt: skip
    (exported,) = _export_turn(turn, SAVED).sources
    assert (exported.quote, exported.quotes) == (FIRST, [FIRST, SECOND])
    assert SECOND in to_markdown([_export_turn(turn, SAVED)], SAVED)
