"""The interface's texts in Dutch and English: the catalogue `TEXTS` (language → key → text).

Texts may hold ``{name}`` placeholders; `text` fills them. It needs no gradio, so ingest/
(whose messages are in web/i18n_ingest.py, merged in here) can use it; web.i18n adds
`label`, the gradio catalogue `I18N` and which language a visitor gets.
"""

from __future__ import annotations

from typing import Any

from web.i18n_ingest import TEXTS as INGEST_TEXTS

DEFAULT_LANGUAGE = "nl"

TEXTS: dict[str, dict[str, str]] = {
    "nl": {
        # page and header
        "skip_link": "Direct naar de vraag",
        "header_nav": "Taal en toegankelijkheid",
        "switch_language": "Switch to English",
        "accessibility": "Toegankelijkheidsverklaring",
        "tab_chat": "Vragen",
        "tab_staff": "Beheer",
        "intro": (
            "# IVB-assistent\n\n"
            "Stel een vraag over het **Integraal Veiligheidsbeleid 2024-2027** van de gemeenten "
            "Dronten, Noordoostpolder en Urk. De assistent zoekt het antwoord in de "
            "beleidsdocumenten en noemt bij elk antwoord de bron: het document en de pagina. "
            "Kies een nummer zoals [1] om die bron te zien.\n\n"
            "**Goed om te weten.** Dit is geen juridisch advies en geen officieel standpunt van "
            "een gemeente. Staat het antwoord niet in de documenten, dan zegt de assistent dat. "
            "Controleer belangrijke informatie altijd in de bron. Vragen en antwoorden worden "
            "zonder naam of IP-adres bewaard om de dienst te verbeteren; deel daarom geen "
            "persoonsgegevens."
        ),
        # chat
        "chat_label": "Gesprek",
        "chat_placeholder": "Stel hieronder uw vraag, of kies een voorbeeldvraag.",
        "examples": "**Voorbeeldvragen**",
        "example_1": "Welke thema's hebben de drie gemeenten samen geprioriteerd?",
        "example_2": "Wat zijn de lokale speerpunten van Dronten?",
        "example_3": "Wanneer wordt het IVB 2024-2027 aan de gemeenteraad aangeboden?",
        "question_label": "Uw vraag",
        "question_placeholder": "Bijvoorbeeld: wat doen de gemeenten samen?",
        "send": "Vraag stellen",
        "new_chat": "Nieuw gesprek",
        "save_md": "Gesprek opslaan (Markdown)",
        "save_docx": "Gesprek opslaan (Word)",
        "comment_label": "Toelichting (optioneel)",
        "comment_send": "Toelichting versturen",
        "settings": "Instellingen",
        "audience_label": "Voor wie is het antwoord?",
        "audience_raad": "Raadslid: precies, met vakbegrippen",
        "audience_inwoner": "Inwoner: in eenvoudige taal",
        "municipality_label": "Gemeente",
        "municipality_info": "Documenten van alle drie gemeenten tellen altijd mee.",
        "municipality_all": "Alle gemeenten",
        "backend_label": "Antwoordmodel",
        "backend_extractive": "Alleen citaten (zonder taalmodel, snel)",
        "backend_local": "Lokaal taalmodel (op deze server)",
        "backend_openai": "Taalmodel via de ingestelde server",
        "page_image_label": "Bronpagina",
        "feedback_note": (
            "Bedankt! U vond antwoord {n} {verdict}. Wilt u nog iets toelichten? Dat mag, "
            "maar het hoeft niet."
        ),
        "feedback_up": "nuttig",
        "feedback_down": "niet goed",
        "feedback_thanks": "Bedankt voor uw toelichting.",
        # answers and sources (web.render)
        "refusal_injection": "Deze vraag behandel ik niet",
        "refusal_busy": "Het taalmodel is nu bezet",
        "refusal_default": "Niet gevonden in de documenten",
        "cite_label": "Bron {n}: {title}, pagina {page}",
        "sources_line": "Bronnen",
        "writing": "Het antwoord wordt geschreven en daarna gecontroleerd tegen de bronnen.",
        "queue": "Wachtrij lokaal model: u bent nummer {place}",
        "queue_tail": "Het antwoord begint zodra het taalmodel vrij is.",
        "error_title": "Er ging iets mis.",
        "error_body": (
            "De vraag kon niet worden beantwoord. Probeer het opnieuw, of kies een ander "
            "antwoordmodel."
        ),
        "sources": "Bronnen",
        "sources_empty": (
            "Hier ziet u de bronnen van het antwoord: het document, de pagina en het "
            "geciteerde stuk."
        ),
        "sources_of": "Bronnen bij vraag {n}",
        "sources_none_refused": (
            "Bij dit antwoord zijn geen bronnen gebruikt, omdat het antwoord niet in de "
            "documenten staat."
        ),
        "sources_none": "Bij dit antwoord zijn geen bronnen gebruikt.",
        "sources_hint": "Kies een bron om het document op die plek te openen.",
        "municipality": "Gemeente",
        "page": "pagina",
        "page_caption": "Pagina {page} van {title}. Het geciteerde stuk is geel omlijnd.",
        "superseded": "Vervangen door een nieuwere versie",
        "superseded_check": "controleer de actuele versie",
        "source_n": "Bron [{n}]",
        # viewer
        "viewer_title": "Bron [{n}]: {title}, pagina {page}",
        "viewer_frame": "Document {title}, geopend op pagina {page}",
        "download": "Download het originele document",
        "open_new": "Open in een nieuw venster",
        "viewer_loading": "Het document wordt geladen…",
        "viewer_failed": (
            "Het document kan hier niet worden getoond. Hieronder staat de geciteerde pagina "
            "als afbeelding; het geciteerde stuk is geel omlijnd."
        ),
        "viewer_not_found": "Het geciteerde stuk is op deze pagina niet gevonden.",
        "viewer_found": "Het geciteerde stuk is geel gemarkeerd op pagina {pages}.",
        "viewer_page": "Pagina {n}",
        "viewer_gone": "Dit document staat niet (meer) in de index.",
        "viewer_text_found": "Het geciteerde stuk is geel gemarkeerd.",
        "page_alt": "Pagina {page} van {title}; geciteerd: {quote}",
    },
    "en": {
        "skip_link": "Skip to the question",
        "header_nav": "Language and accessibility",
        "switch_language": "Nederlands",
        "accessibility": "Accessibility statement (in Dutch: toegankelijkheidsverklaring)",
        "tab_chat": "Ask",
        "tab_staff": "Staff",
        "intro": (
            "# IVB assistant\n\n"
            "Ask a question about the **Integral Safety Policy 2024-2027** (Integraal "
            "Veiligheidsbeleid, IVB) of the municipalities of Dronten, Noordoostpolder and Urk. "
            "The assistant looks for the answer in the policy documents and names the source of "
            "every answer: the document and the page. Choose a number such as [1] to see that "
            "source.\n\n"
            "**Good to know.** This is not legal advice and not an official position of a "
            "municipality. When the documents do not say it, the assistant says so. Always check "
            "important information in the source. Questions and answers are kept without name or "
            "IP address to improve the service; please do not share personal data. The documents "
            "are in Dutch, so quotes are in Dutch."
        ),
        "chat_label": "Conversation",
        "chat_placeholder": "Ask your question below, or choose an example question.",
        "examples": "**Example questions**",
        "example_1": "Which themes have the three municipalities prioritised together?",
        "example_2": "What are the local priorities of Dronten?",
        "example_3": "When will the IVB 2024-2027 be presented to the municipal council?",
        "question_label": "Your question",
        "question_placeholder": "For example: what do the municipalities do together?",
        "send": "Ask",
        "new_chat": "New conversation",
        "save_md": "Save conversation (Markdown)",
        "save_docx": "Save conversation (Word)",
        "comment_label": "Comment (optional)",
        "comment_send": "Send comment",
        "settings": "Settings",
        "audience_label": "Who is the answer for?",
        "audience_raad": "Council member: precise, with technical terms",
        "audience_inwoner": "Resident: in plain language",
        "municipality_label": "Municipality",
        "municipality_info": "Documents of all three municipalities always count.",
        "municipality_all": "All municipalities",
        "backend_label": "Answer model",
        "backend_extractive": "Quotes only (no language model, fast)",
        "backend_local": "Local language model (on this server)",
        "backend_openai": "Language model on the configured server",
        "page_image_label": "Source page",
        "feedback_note": (
            "Thank you! You found answer {n} {verdict}. Would you like to add a comment? You "
            "may, but you don't have to."
        ),
        "feedback_up": "useful",
        "feedback_down": "not good",
        "feedback_thanks": "Thank you for your comment.",
        "refusal_injection": "I do not handle this question",
        "refusal_busy": "The language model is busy now",
        "refusal_default": "Not found in the documents",
        "cite_label": "Source {n}: {title}, page {page}",
        "sources_line": "Sources",
        "writing": "The answer is being written and will then be checked against the sources.",
        "queue": "Queue for the local model: you are number {place}",
        "queue_tail": "The answer starts as soon as the language model is free.",
        "error_title": "Something went wrong.",
        "error_body": "The question could not be answered. Try again, or choose another model.",
        "sources": "Sources",
        "sources_empty": (
            "Here you see the sources of the answer: the document, the page and the quoted part."
        ),
        "sources_of": "Sources of question {n}",
        "sources_none_refused": (
            "No sources were used for this answer, because the documents do not say it."
        ),
        "sources_none": "No sources were used for this answer.",
        "sources_hint": "Choose a source to open the document at that spot.",
        "municipality": "Municipality",
        "page": "page",
        "page_caption": "Page {page} of {title}. The quoted part is outlined in yellow.",
        "superseded": "Replaced by a newer version",
        "superseded_check": "check the current version",
        "source_n": "Source [{n}]",
        "viewer_title": "Source [{n}]: {title}, page {page}",
        "viewer_frame": "Document {title}, opened at page {page}",
        "download": "Download the original document",
        "open_new": "Open in a new window",
        "viewer_loading": "Loading the document…",
        "viewer_failed": (
            "The document cannot be shown here. Below is the cited page as an image; the "
            "quoted part is outlined in yellow."
        ),
        "viewer_not_found": "The quoted part was not found on this page.",
        "viewer_found": "The quoted part is marked in yellow on page {pages}.",
        "viewer_page": "Page {n}",
        "viewer_gone": "This document is not (or no longer) in the index.",
        "viewer_text_found": "The quoted part is marked in yellow.",
        "page_alt": "Page {page} of {title}; quoted: {quote}",
    },
}

# The staff page's labels (gradio translates them).
TEXTS["nl"].update(
    {
        "staff_off": (
            "## Beheer staat uit\n\nEr zijn geen inloggegevens voor medewerkers ingesteld. "
            "Zet `IVB_STAFF_USERNAME` en `IVB_STAFF_PASSWORD_HASH` (maak de hash met "
            "`ivb hash-password`) en start de assistent opnieuw."
        ),
        "login_title": "## Inloggen voor medewerkers",
        "username": "Gebruikersnaam",
        "password": "Wachtwoord",
        "login": "Inloggen",
        "logout": "Uitloggen",
        "upload": "Opnemen in de index",
        "documents_title": "## Documenten in de index",
        "documents": "Documenten",
        "to_delete": "Document om te verwijderen",
        "delete": "Verwijderen uit de index",
        "reingest_title": "## Corpusmap opnieuw inlezen",
        "reingest": "Corpusmap opnieuw inlezen",
        "export_title": "## Exporteren",
        "export_audit": "Auditlog downloaden",
        "export_feedback": "Feedback als evaluatieset downloaden",
        "download_file": "Download",
        "upload_title": "## Document toevoegen of vervangen",
        "file": "Bestand ({formats})",
        "doc_id": "Id (optioneel)",
        "doc_id_info": "Leeg: een id uit de bestandsnaam. Een bestaande id vervangt dat document.",
        "title": "Titel (optioneel)",
        "title_info": "Leeg: uit het document.",
        "doc_municipality": "Gemeente van het document",
        "doc_municipality_auto": "Automatisch (uit de tekst)",
        "doc_municipality_joint": "Gezamenlijk (alle drie)",
        "doc_type": "Soort document",
        "date": "Datum ({formats})",
        "supersedes": "Vervangt (ids, met komma's)",
        "supersedes_info": "Oudere versies die dit vervangt.",
    }
)
TEXTS["en"].update(
    {
        "staff_off": (
            "## Staff page is off\n\nNo staff login is configured. Set `IVB_STAFF_USERNAME` "
            "and `IVB_STAFF_PASSWORD_HASH` (make the hash with `ivb hash-password`) and "
            "restart the assistant."
        ),
        "login_title": "## Staff login",
        "username": "User name",
        "password": "Password",
        "login": "Log in",
        "logout": "Log out",
        "upload": "Add to the index",
        "documents_title": "## Documents in the index",
        "documents": "Documents",
        "to_delete": "Document to remove",
        "delete": "Remove from the index",
        "reingest_title": "## Re-read the corpus folder",
        "reingest": "Re-read the corpus folder",
        "export_title": "## Export",
        "export_audit": "Download the audit log",
        "export_feedback": "Download feedback as an evaluation set",
        "download_file": "Download",
        "upload_title": "## Add or replace a document",
        "file": "File ({formats})",
        "doc_id": "Id (optional)",
        "doc_id_info": "Empty: an id from the file name. An existing id replaces that document.",
        "title": "Title (optional)",
        "title_info": "Empty: from the document.",
        "doc_municipality": "Municipality of the document",
        "doc_municipality_auto": "Automatic (from the text)",
        "doc_municipality_joint": "Joint (all three)",
        "doc_type": "Type of document",
        "date": "Date ({formats})",
        "supersedes": "Replaces (ids, comma-separated)",
        "supersedes_info": "Older versions this one replaces.",
    }
)


# The staff page's messages (web.staff and web.render write them in the page's language).
# The per-file lines of an ingest report are ingest.errors.Reason codes (web.i18n_ingest).
TEXTS["nl"].update(
    {
        "done": "Gelukt.",
        "failed": "Niet gelukt.",
        "not_logged_in": "U bent niet ingelogd of uw sessie is verlopen. Log opnieuw in.",
        "logged_in_as": "Ingelogd als **{user}**.",
        "logged_out": "U bent uitgelogd.",
        "login_wrong": "Onjuiste gebruikersnaam of wachtwoord.",
        "login_blocked": "Te veel mislukte pogingen. Probeer het over {wait} opnieuw.",
        "minute_one": "1 minuut",
        "minutes": "{n} minuten",
        "upload_added": "toegevoegd",
        "upload_replaced": "vervangen",
        "upload_updated": "bijgewerkt",
        "upload_unchanged": "ongewijzigd (hetzelfde bestand)",
        "chunk_one": "1 fragment",
        "chunks": "{n} fragmenten",
        "upload_ocr": "Gelezen met tekstherkenning (OCR): pagina {pages}.",
        "removed": "**{doc_id}** is uit de index verwijderd.",
        "reingest_busy": "Er loopt al een opname; probeer het zo opnieuw.",
        "reingest_reading": "Corpusmap inlezen…",
        "reingest_file": "Opnemen: {name}",
        "reingest_done": (
            "Corpusmap ingelezen in {seconds} s: {added} toegevoegd, {updated} bijgewerkt, "
            "{unchanged} ongewijzigd, {removed} verwijderd, {failed} mislukt."
        ),
        "doc_current": "actueel",
        "doc_replaced_by": "vervangen door {ids}",
        "column_title": "titel",
        "column_municipality": "gemeente",
        "column_date": "datum",
        "column_pages": "pagina's",
        "column_chunks": "fragmenten",
        "column_ingested": "opgenomen",
    }
)
TEXTS["en"].update(
    {
        "done": "Done.",
        "failed": "Not done.",
        "not_logged_in": "You are not logged in or your session has expired. Please log in again.",
        "logged_in_as": "Logged in as **{user}**.",
        "logged_out": "You are logged out.",
        "login_wrong": "Wrong user name or password.",
        "login_blocked": "Too many failed attempts. Try again in {wait}.",
        "minute_one": "1 minute",
        "minutes": "{n} minutes",
        "upload_added": "added",
        "upload_replaced": "replaced",
        "upload_updated": "updated",
        "upload_unchanged": "unchanged (the same file)",
        "chunk_one": "1 chunk",
        "chunks": "{n} chunks",
        "upload_ocr": "Read with text recognition (OCR): page {pages}.",
        "removed": "**{doc_id}** has been removed from the index.",
        "reingest_busy": "An ingest is already running; try again in a moment.",
        "reingest_reading": "Reading the corpus folder…",
        "reingest_file": "Adding: {name}",
        "reingest_done": (
            "Corpus folder read in {seconds} s: {added} added, {updated} updated, "
            "{unchanged} unchanged, {removed} removed, {failed} failed."
        ),
        "doc_current": "current",
        "doc_replaced_by": "replaced by {ids}",
        "column_title": "title",
        "column_municipality": "municipality",
        "column_date": "date",
        "column_pages": "pages",
        "column_chunks": "chunks",
        "column_ingested": "ingested",
    }
)

# The saved conversation (web.export), in the visitor's language.
TEXTS["nl"].update(
    {
        "export_title": "Gesprek met de IVB-assistent",
        "export_disclaimer": (
            "Dit is geen juridisch advies en geen officieel standpunt van een gemeente. "
            "Controleer belangrijke informatie altijd in de bron."
        ),
        "export_saved": "Opgeslagen op {time}. {summary}",
        "export_summary_one": "1 vraag, waarvan {refused} geweigerd.",
        "export_summary": "{n} vragen, waarvan {refused} geweigerd.",
        "export_question": "Vraag {n}: {question}",
        "export_asked": "Gesteld op {time} · Model: {model}",
        "export_refused": "Geweigerd: geen antwoord gegeven (reden: {reason}).",
        "export_superseded": "vervangen door een nieuwere versie",
        "export_unknown": "onbekend",
        "export_months": (
            "januari februari maart april mei juni juli augustus september oktober november "
            "december"
        ),
        "export_file": "gesprek-ivb",
        "export_reason_injection": "de vraag probeert de instructies van de assistent te omzeilen",
        "export_reason_no_relevant_passage": "geen passage in de documenten past bij de vraag",
        "export_reason_key_terms_missing": (
            "de best passende passages bevatten de kern van de vraag niet"
        ),
        "export_reason_unknown_terms": "woorden uit de vraag staan in geen enkel document",
        "export_reason_unsupported": "geen zin in de documenten geeft wat gevraagd wordt",
        "export_reason_busy": "het taalmodel was bezet; de vraag is niet beantwoord",
    }
)
TEXTS["en"].update(
    {
        "export_title": "Conversation with the IVB assistant",
        "export_disclaimer": (
            "This is not legal advice and not an official position of a municipality. Always "
            "check important information in the source."
        ),
        "export_saved": "Saved on {time}. {summary}",
        "export_summary_one": "1 question, of which {refused} refused.",
        "export_summary": "{n} questions, of which {refused} refused.",
        "export_question": "Question {n}: {question}",
        "export_asked": "Asked on {time} · Model: {model}",
        "export_refused": "Refused: no answer given (reason: {reason}).",
        "export_superseded": "replaced by a newer version",
        "export_unknown": "unknown",
        "export_months": (
            "January February March April May June July August September October November December"
        ),
        "export_file": "conversation-ivb",
        "export_reason_injection": "the question tries to get around the assistant's instructions",
        "export_reason_no_relevant_passage": "no passage in the documents fits the question",
        "export_reason_key_terms_missing": (
            "the best fitting passages do not contain the core of the question"
        ),
        "export_reason_unknown_terms": "words of the question are in no document at all",
        "export_reason_unsupported": "no sentence in the documents gives what is asked",
        "export_reason_busy": "the language model was busy; the question was not answered",
    }
)

# The REST API's and the page's named API's own texts (error details, the local model's
# line), in the caller's language: ``lang``, else the ivb_lang cookie, else Accept-Language.
TEXTS["nl"].update(
    {
        "api_bearer_missing": "Log in: stuur 'Authorization: Bearer <token>'.",
        "api_token_wrong": "Het token is onjuist of verlopen. Vraag een nieuw token.",
        "api_staff_off": "Beheer staat uit: er zijn geen inloggegevens ingesteld.",
        "api_not_in_index": "{doc_id} staat niet in de index; voeg het toe met POST.",
        "api_too_large": (
            "Het bestand is te groot; de grens is {limit:g} MB. Verklein het bestand of splits het."
        ),
        "api_empty_question": "Stel een vraag.",
        "api_answer_failed": "Er ging iets mis bij het antwoorden. Probeer het opnieuw.",
        "api_backend_unavailable": (
            "Antwoordmodel '{backend}' is hier niet beschikbaar; kies uit {choices}."
        ),
        "api_audience": "audience moet 'raad' of 'inwoner' zijn.",
        "api_municipality": "municipality moet {choices} zijn.",
        "api_history_json": "history_json is geen geldige JSON: {error}.",
        "api_history_pairs": "history_json moet een lijst zijn van [vraag, antwoord]-paren.",
        "queue_unit": "plaats in de wachtrij",
        "local_turn": "Het lokale taalmodel beantwoordt uw vraag",
    }
)
TEXTS["en"].update(
    {
        "api_bearer_missing": "Log in: send 'Authorization: Bearer <token>'.",
        "api_token_wrong": "The token is wrong or has expired. Ask for a new token.",
        "api_staff_off": "Staff access is off: no staff login is configured.",
        "api_not_in_index": "{doc_id} is not in the index; add it with POST.",
        "api_too_large": (
            "The file is too large; the limit is {limit:g} MB. Make the file smaller or split it."
        ),
        "api_empty_question": "Ask a question.",
        "api_answer_failed": "Something went wrong while answering. Please try again.",
        "api_backend_unavailable": (
            "Answer model '{backend}' is not available here; choose from {choices}."
        ),
        "api_audience": "audience must be 'raad' or 'inwoner'.",
        "api_municipality": "municipality must be {choices}.",
        "api_history_json": "history_json is not valid JSON: {error}.",
        "api_history_pairs": "history_json must be a list of [question, answer] pairs.",
        "queue_unit": "place in the queue",
        "local_turn": "The local language model is answering your question",
    }
)

for _lang, _texts in INGEST_TEXTS.items():
    TEXTS[_lang].update(_texts)


def text(key: str, lang: str | None = None, **values: Any) -> str:
    """A text of the catalogue in a language (Dutch when unknown), placeholders filled.

    Args:
        key: a key of `TEXTS`.
        lang: "nl" or "en".
        values: the placeholders' values.
    """
    table = TEXTS.get(lang or DEFAULT_LANGUAGE, TEXTS[DEFAULT_LANGUAGE])
    template = table.get(key, TEXTS[DEFAULT_LANGUAGE][key])
    return template.format(**values) if values else template
