"""The interface's texts in Dutch and English, and which language a visitor gets.

One catalogue (`TEXTS`): the page's labels go to gradio as `I18N` (gradio translates them
in the browser, by the page's language), and what the server writes (answers, sources,
the viewer, the accessibility statement, the staff page's messages, the saved conversation)
takes its texts from `text(key, lang)`. The texts of answers, refusals and notices
themselves are in assistant/prompts.py.

The language: the ``ivb_lang`` cookie (set by the switch on the page, ``?lang=en``), else
the browser's Accept-Language, else Dutch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import gradio as gr

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
COOKIE = "ivb_lang"
LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}

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
# The per-file lines of an ingest report are ingest.errors.Reason codes, further below.
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

# What ingestion says about a file (ingest.errors.Reason, key "ingest_<code>"): the lines
# of an upload or re-read on the staff page, in the API's answers and in `ivb ingest` (Dutch).
TEXTS["nl"].update(
    {
        "or": "of",
        "ingest_not_found": "bestaat niet; controleer het pad",
        "ingest_not_a_file": "is geen gewoon bestand; geef een bestand op, geen map",
        "ingest_empty": "is leeg (0 bytes); lever het bestand opnieuw aan",
        "ingest_too_large": (
            "is te groot ({size:.1f} MB, maximaal {limit:g} MB); splits het document of "
            "verhoog max_file_mb"
        ),
        "ingest_unreadable_file": (
            "kan niet worden gelezen ({error}); controleer de rechten op het bestand"
        ),
        "ingest_old_word": (
            "is een oud Word-bestand (.doc); sla het in Word op als .docx en lever dat aan"
        ),
        "ingest_unsupported_type": (
            "bestandstype {suffix} wordt niet ondersteund; lever het aan als {formats}"
        ),
        "ingest_no_extension": (
            "bestandstype (geen extensie) wordt niet ondersteund; lever het aan als {formats}"
        ),
        "ingest_not_pdf": (
            "is geen PDF (de kop %PDF- ontbreekt); controleer het bestand of exporteer het "
            "opnieuw als PDF"
        ),
        "ingest_not_docx": (
            "is geen Word-bestand (.docx); open het in Word en sla het op als .docx"
        ),
        "ingest_no_text": "bevat geen tekst; controleer of het bestand inhoud heeft",
        "ingest_unexpected": (
            "kon niet worden verwerkt door een onverwachte fout ({error}); controleer of het "
            "bestand heel is, sla het opnieuw op en probeer het nog eens"
        ),
        "ingest_pdf_damaged": (
            "is beschadigd: de paginastructuur ontbreekt en zou moeten worden geraden, "
            "waardoor paginanummers niet kloppen; exporteer of download de PDF opnieuw"
        ),
        "ingest_pdf_corrupt": (
            "is een beschadigde of onvolledige PDF ({error}); download of exporteer de PDF opnieuw"
        ),
        "ingest_pdf_encrypted": (
            "is versleuteld met een wachtwoord: vraag een onbeveiligde versie (zonder "
            "wachtwoord) aan"
        ),
        "ingest_pdf_aes_missing": (
            "is versleuteld (AES) en kan niet worden geopend omdat het pakket cryptography "
            "ontbreekt; installeer de afhankelijkheden van de app opnieuw"
        ),
        "ingest_pdf_no_pages": "bevat geen pagina's; exporteer de PDF opnieuw",
        "ingest_pdf_too_many_pages": (
            "heeft {count} pagina's (maximaal {limit}); splits het document of verhoog max_pages"
        ),
        "ingest_pdf_scanned": (
            "bevat geen tekst (gescande afbeelding?); OCR is nodig voordat het kan worden opgenomen"
        ),
        "ingest_pdf_scanned_unread": (
            "bevat geen tekst (gescande afbeelding?); OCR is nodig voordat het kan worden "
            "opgenomen; {why}"
        ),
        "ingest_docx_old_or_encrypted": (
            "is versleuteld of in het oude Word-formaat; sla het in Word op als .docx zonder "
            "wachtwoord"
        ),
        "ingest_docx_unreadable": (
            "is een onleesbaar Word-bestand ({error}); open het in Word en sla het opnieuw op "
            "als .docx"
        ),
        "ingest_docx_bad_zip": (
            "is een beschadigd Word-bestand (geen geldig zip-archief); open het in Word en sla "
            "het opnieuw op als .docx"
        ),
        "ingest_docx_too_many_parts": (
            "bevat {count} onderdelen (maximaal {limit}) en lijkt een zip-bom; lever een "
            "normaal opgeslagen .docx aan"
        ),
        "ingest_docx_bomb": (
            "pakt uit tot {size:.0f} MB en lijkt een zip-bom; lever een normaal opgeslagen "
            ".docx aan"
        ),
        "ingest_docx_not_word": (
            "is geen Word-document (word/document.xml ontbreekt); open het in Word en sla het "
            "op als .docx"
        ),
        "ingest_not_utf8": "is geen UTF-8-tekst; sla het bestand op als UTF-8",
        "ingest_binary_text": (
            "is geen tekstbestand (bevat binaire gegevens); sla het op als UTF-8-tekst"
        ),
        "ingest_parse_memory": (
            "vraagt te veel geheugen om te lezen (PDF-bom?); bestand geweigerd."
        ),
        "ingest_parse_timeout": (
            "lezen duurde langer dan {seconds:.0f} s en is afgebroken; controleer of het "
            "bestand beschadigd is."
        ),
        "ingest_parser_crashed": (
            "de lezer liep vast (te groot of beschadigd bestand); bestand geweigerd."
        ),
        "ingest_no_usable_text": "bevat geen bruikbare tekst; controleer het bestand.",
        "ingest_id_in_use": (
            "document-id '{doc_id}' is al gebruikt door {other}; geef een eigen id in "
            "manifest.toml."
        ),
        "ingest_id_held": (
            "document-id '{doc_id}' hoort al bij {holder}, dat nog bestaat; geef een van "
            "beide bestanden een eigen id in manifest.toml (of een sidecar), of haal het oude "
            "bestand weg."
        ),
        "ingest_duplicate": (
            "heeft dezelfde tekst als document '{doc_id}' ({name}) en is niet nog eens "
            "opgenomen; verwijder de kopie, of vervang het bestaande document als dit de "
            "nieuwe versie is"
        ),
        "ingest_toml_invalid": "is geen geldige TOML ({error}); herstel de opmaak",
        "ingest_metadata_unreadable": "kan niet worden gelezen ({error})",
        "ingest_manifest_unknown_keys": (
            "onbekende sleutel(s) {keys}; zet elk document in een eigen [[document]]-tabel"
        ),
        "ingest_manifest_not_list": "'document' moet een lijst [[document]]-tabellen zijn",
        "ingest_entry": "[[document]] nummer {number}",
        "ingest_sidecar": "het bestand",
        "ingest_entry_not_table": "{where} is geen tabel",
        "ingest_entry_no_file": "{where} mist 'file'; geef het relatieve pad op",
        "ingest_entry_file_missing": (
            "{where} verwijst naar '{file}', dat niet bestaat; pas het pad aan of verwijder "
            "het item"
        ),
        "ingest_entry_duplicate_id": "{where}: id '{id}' komt twee keer voor; maak ids uniek",
        "ingest_entry_duplicate_file": "{where}: '{file}' staat er twee keer in",
        "ingest_entry_unknown_keys": (
            "{where}: onbekende sleutel(s) {keys}; toegestaan zijn {allowed}"
        ),
        "ingest_entry_empty_text": "{where}: '{key}' moet een niet-lege tekst zijn",
        "ingest_entry_invalid_id": (
            "{where}: id '{id}' is ongeldig: gebruik letters, cijfers, '.', '_' en '-' "
            "(hoogstens {max} tekens), en begin met een letter of cijfer"
        ),
        "ingest_entry_invalid_date": (
            "{where}: datum '{value}' is ongeldig; schrijf JJJJ-MM-DD, JJJJ-MM of JJJJ"
        ),
        "ingest_entry_unknown_municipality": (
            "{where}: municipality '{value}' is onbekend; kies uit {choices}"
        ),
        "ingest_entry_supersedes": "{where}: 'supersedes' moet een lijst van ids zijn",
        "ingest_same_id": (
            "heeft dezelfde id '{id}' als {other}; geef elk document een eigen id in "
            "manifest.toml of .meta.toml"
        ),
        "ingest_folder_unreadable": (
            "is een map die niet kan worden gelezen ({error}); controleer de rechten, de "
            "bestanden erin zijn niet opgenomen"
        ),
        "ingest_folder_link": (
            "is een koppeling naar een map en wordt niet gevolgd; geef de map zelf op om die "
            "op te nemen"
        ),
        "ingest_special_file": (
            "is geen gewoon bestand (een koppeling zonder doel, een apparaat of een pipe) en "
            "is overgeslagen"
        ),
        "ingest_hostile_name": (
            "heeft een verdachte naam die naar een pad buiten de map lijkt te wijzen en is "
            "niet gelezen; controleer waar het bestand vandaan komt"
        ),
        "ingest_hidden_folder": (
            "is een verborgen map (de naam begint met een punt) en is met alles erin "
            "overgeslagen; geef de map een naam zonder punt vooraan om die op te nemen"
        ),
        "ingest_hidden_file": (
            "is een verborgen bestand (de naam begint met een punt) en is overgeslagen; geef "
            "het een naam zonder punt vooraan om het op te nemen"
        ),
        "ingest_page_unread": "pagina {page} is niet gelezen: {why}",
        "ingest_ocr_off": "OCR staat uit (IVB_OCR=off)",
        "ingest_ocr_no_pytesseract": "pytesseract is niet geïnstalleerd (scripts/bootstrap.sh)",
        "ingest_ocr_no_tesseract": (
            "Tesseract is niet geïnstalleerd (apt-get install tesseract-ocr tesseract-ocr-nld)"
        ),
        "ingest_ocr_no_dutch": (
            "het Nederlandse taalmodel van Tesseract ontbreekt (apt-get install tesseract-ocr-nld)"
        ),
        "ingest_ocr_time_up": ("OCR afgebroken: de tijd voor dit document ({seconds:.0f} s) is op"),
        "ingest_ocr_page_too_large": "de pagina is te groot om te lezen met OCR",
        "ingest_ocr_render_failed": "de pagina kon niet worden weergegeven ({error})",
        "ingest_ocr_timeout": "OCR duurde langer dan {seconds:.0f} s",
        "ingest_ocr_failed": "OCR mislukte ({error})",
        "ingest_ocr_no_text": "OCR vond geen tekst op deze pagina",
        "ingest_choose_file": "Kies eerst een bestand.",
        "ingest_upload_type": (
            "{name}: bestandstype '{suffix}' wordt niet ondersteund. Kies een bestand als "
            "{formats}."
        ),
        "ingest_upload_no_type": (
            "{name}: bestandstype '(geen)' wordt niet ondersteund. Kies een bestand als {formats}."
        ),
        "ingest_upload_too_large": (
            "{name} is {size:.1f} MB; de grens is {limit:g} MB. Verklein het bestand of splits het."
        ),
        "ingest_invalid_id": (
            "Id '{id}' is ongeldig: gebruik letters, cijfers, '.', '_' en '-' (hoogstens "
            "{max} tekens), en begin met een letter of cijfer."
        ),
        "ingest_invalid_date": (
            "Datum '{value}' is ongeldig; schrijf JJJJ-MM-DD, JJJJ-MM of JJJJ."
        ),
        "ingest_invalid_supersedes": "Ongeldige id bij 'vervangt': {ids}.",
        "ingest_upload_busy": (
            "Er loopt al een opname. Wacht tot die klaar is en probeer het opnieuw."
        ),
        "ingest_upload_failed": "{name} kon niet worden opgenomen ({error}).",
        "ingest_upload_duplicate": (
            "Niet opgenomen: dezelfde tekst staat al in de index als '{doc_id}'."
        ),
        "ingest_not_ingested": "Niet opgenomen; de index is niet veranderd.",
        "ingest_nothing_ingested": "{name}: niets opgenomen.",
        "ingest_old_file_kept": (
            "Let op: het vorige bestand ({name}) staat nog in {folder}. Haal het daar weg, "
            "anders komt het bij opnieuw inlezen terug."
        ),
        "ingest_choose_document": "Kies eerst een document.",
        "ingest_remove_busy": "Er loopt al een opname; probeer het zo opnieuw.",
        "ingest_not_in_index": "{doc_id} staat niet (meer) in de index.",
        "ingest_file_kept": (
            "Het bestand staat nog in {folder}; bij opnieuw inlezen van die map komt het terug."
        ),
    }
)
TEXTS["en"].update(
    {
        "or": "or",
        "ingest_not_found": "does not exist; check the path",
        "ingest_not_a_file": "is not a regular file; give a file, not a folder",
        "ingest_empty": "is empty (0 bytes); deliver the file again",
        "ingest_too_large": (
            "is too large ({size:.1f} MB, at most {limit:g} MB); split the document or raise "
            "max_file_mb"
        ),
        "ingest_unreadable_file": ("cannot be read ({error}); check the permissions on the file"),
        "ingest_old_word": (
            "is an old Word file (.doc); save it in Word as .docx and deliver that"
        ),
        "ingest_unsupported_type": ("file type {suffix} is not supported; deliver it as {formats}"),
        "ingest_no_extension": (
            "file type (no extension) is not supported; deliver it as {formats}"
        ),
        "ingest_not_pdf": (
            "is not a PDF (the %PDF- header is missing); check the file or export it again as PDF"
        ),
        "ingest_not_docx": "is not a Word file (.docx); open it in Word and save it as .docx",
        "ingest_no_text": "contains no text; check that the file has content",
        "ingest_unexpected": (
            "could not be processed because of an unexpected error ({error}); check that the "
            "file is intact, save it again and try once more"
        ),
        "ingest_pdf_damaged": (
            "is damaged: the page structure is missing and would have to be guessed, so page "
            "numbers would be wrong; export or download the PDF again"
        ),
        "ingest_pdf_corrupt": (
            "is a damaged or incomplete PDF ({error}); download or export the PDF again"
        ),
        "ingest_pdf_encrypted": (
            "is encrypted with a password: ask for an unprotected version (without a password)"
        ),
        "ingest_pdf_aes_missing": (
            "is encrypted (AES) and cannot be opened because the cryptography package is "
            "missing; install the app's dependencies again"
        ),
        "ingest_pdf_no_pages": "has no pages; export the PDF again",
        "ingest_pdf_too_many_pages": (
            "has {count} pages (at most {limit}); split the document or raise max_pages"
        ),
        "ingest_pdf_scanned": (
            "contains no text (a scanned image?); OCR is needed before it can be added"
        ),
        "ingest_pdf_scanned_unread": (
            "contains no text (a scanned image?); OCR is needed before it can be added; {why}"
        ),
        "ingest_docx_old_or_encrypted": (
            "is encrypted or in the old Word format; save it in Word as .docx without a password"
        ),
        "ingest_docx_unreadable": (
            "is an unreadable Word file ({error}); open it in Word and save it again as .docx"
        ),
        "ingest_docx_bad_zip": (
            "is a damaged Word file (not a valid zip archive); open it in Word and save it "
            "again as .docx"
        ),
        "ingest_docx_too_many_parts": (
            "contains {count} parts (at most {limit}) and looks like a zip bomb; deliver a "
            "normally saved .docx"
        ),
        "ingest_docx_bomb": (
            "unpacks to {size:.0f} MB and looks like a zip bomb; deliver a normally saved .docx"
        ),
        "ingest_docx_not_word": (
            "is not a Word document (word/document.xml is missing); open it in Word and save "
            "it as .docx"
        ),
        "ingest_not_utf8": "is not UTF-8 text; save the file as UTF-8",
        "ingest_binary_text": "is not a text file (it holds binary data); save it as UTF-8 text",
        "ingest_parse_memory": ("needs too much memory to read (a PDF bomb?); file refused."),
        "ingest_parse_timeout": (
            "reading took longer than {seconds:.0f} s and was stopped; check whether the file "
            "is damaged."
        ),
        "ingest_parser_crashed": (
            "the reader got stuck (a file too large or damaged); file refused."
        ),
        "ingest_no_usable_text": "contains no usable text; check the file.",
        "ingest_id_in_use": (
            "document id '{doc_id}' is already used by {other}; give it an id of its own in "
            "manifest.toml."
        ),
        "ingest_id_held": (
            "document id '{doc_id}' already belongs to {holder}, which still exists; give one "
            "of the two files an id of its own in manifest.toml (or a sidecar), or remove the "
            "old file."
        ),
        "ingest_duplicate": (
            "has the same text as document '{doc_id}' ({name}) and was not added again; "
            "remove the copy, or replace the existing document if this is its new version"
        ),
        "ingest_toml_invalid": "is not valid TOML ({error}); fix the layout",
        "ingest_metadata_unreadable": "cannot be read ({error})",
        "ingest_manifest_unknown_keys": (
            "unknown key(s) {keys}; put each document in a [[document]] table of its own"
        ),
        "ingest_manifest_not_list": "'document' must be a list of [[document]] tables",
        "ingest_entry": "[[document]] number {number}",
        "ingest_sidecar": "the file",
        "ingest_entry_not_table": "{where} is not a table",
        "ingest_entry_no_file": "{where} lacks 'file'; give the relative path",
        "ingest_entry_file_missing": (
            "{where} points to '{file}', which does not exist; correct the path or remove the entry"
        ),
        "ingest_entry_duplicate_id": "{where}: id '{id}' occurs twice; make the ids unique",
        "ingest_entry_duplicate_file": "{where}: '{file}' is in it twice",
        "ingest_entry_unknown_keys": "{where}: unknown key(s) {keys}; allowed are {allowed}",
        "ingest_entry_empty_text": "{where}: '{key}' must be a text that is not empty",
        "ingest_entry_invalid_id": (
            "{where}: id '{id}' is not valid: use letters, digits, '.', '_' and '-' (at most "
            "{max} characters), and start with a letter or digit"
        ),
        "ingest_entry_invalid_date": (
            "{where}: date '{value}' is not valid; write YYYY-MM-DD, YYYY-MM or YYYY"
        ),
        "ingest_entry_unknown_municipality": (
            "{where}: municipality '{value}' is unknown; choose from {choices}"
        ),
        "ingest_entry_supersedes": "{where}: 'supersedes' must be a list of ids",
        "ingest_same_id": (
            "has the same id '{id}' as {other}; give every document an id of its own in "
            "manifest.toml or .meta.toml"
        ),
        "ingest_folder_unreadable": (
            "is a folder that cannot be read ({error}); check the permissions, the files in "
            "it were not added"
        ),
        "ingest_folder_link": (
            "is a link to a folder and is not followed; give the folder itself to add it"
        ),
        "ingest_special_file": (
            "is not a regular file (a link without a target, a device or a pipe) and was skipped"
        ),
        "ingest_hostile_name": (
            "has a suspicious name that seems to point to a path outside the folder and was "
            "not read; check where the file comes from"
        ),
        "ingest_hidden_folder": (
            "is a hidden folder (its name starts with a dot) and was skipped with everything "
            "in it; give the folder a name without a leading dot to add it"
        ),
        "ingest_hidden_file": (
            "is a hidden file (its name starts with a dot) and was skipped; give it a name "
            "without a leading dot to add it"
        ),
        "ingest_page_unread": "page {page} was not read: {why}",
        "ingest_ocr_off": "OCR is off (IVB_OCR=off)",
        "ingest_ocr_no_pytesseract": "pytesseract is not installed (scripts/bootstrap.sh)",
        "ingest_ocr_no_tesseract": (
            "Tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-nld)"
        ),
        "ingest_ocr_no_dutch": (
            "Tesseract's Dutch language model is missing (apt-get install tesseract-ocr-nld)"
        ),
        "ingest_ocr_time_up": "OCR stopped: the time for this document ({seconds:.0f} s) is up",
        "ingest_ocr_page_too_large": "the page is too large to read with OCR",
        "ingest_ocr_render_failed": "the page could not be drawn ({error})",
        "ingest_ocr_timeout": "OCR took longer than {seconds:.0f} s",
        "ingest_ocr_failed": "OCR failed ({error})",
        "ingest_ocr_no_text": "OCR found no text on this page",
        "ingest_choose_file": "Choose a file first.",
        "ingest_upload_type": (
            "{name}: file type '{suffix}' is not supported. Choose a file as {formats}."
        ),
        "ingest_upload_no_type": (
            "{name}: file type '(none)' is not supported. Choose a file as {formats}."
        ),
        "ingest_upload_too_large": (
            "{name} is {size:.1f} MB; the limit is {limit:g} MB. Make the file smaller or split it."
        ),
        "ingest_invalid_id": (
            "Id '{id}' is not valid: use letters, digits, '.', '_' and '-' (at most {max} "
            "characters), and start with a letter or digit."
        ),
        "ingest_invalid_date": "Date '{value}' is not valid; write YYYY-MM-DD, YYYY-MM or YYYY.",
        "ingest_invalid_supersedes": "Invalid id under 'replaces': {ids}.",
        "ingest_upload_busy": (
            "An ingest is already running. Wait until it has finished and try again."
        ),
        "ingest_upload_failed": "{name} could not be added ({error}).",
        "ingest_upload_duplicate": (
            "Not added: the same text is already in the index as '{doc_id}'."
        ),
        "ingest_not_ingested": "Not added; the index has not changed.",
        "ingest_nothing_ingested": "{name}: nothing added.",
        "ingest_old_file_kept": (
            "Note: the previous file ({name}) is still in {folder}. Remove it from there, or "
            "it comes back when that folder is read again."
        ),
        "ingest_choose_document": "Choose a document first.",
        "ingest_remove_busy": "An ingest is already running; try again in a moment.",
        "ingest_not_in_index": "{doc_id} is not (or no longer) in the index.",
        "ingest_file_kept": (
            "The file is still in {folder}; it comes back when that folder is read again."
        ),
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


# gradio's own catalogue has namespaces such as "upload" and "login"; ours are kept apart
# by this prefix (and hold no dots, which gradio reads as a path).
PREFIX = "ivb_"


class _Catalogue(gr.I18n):
    """gr.I18n over `TEXTS`, each key with `PREFIX` in front."""

    def __call__(self, key: str) -> Any:
        return super().__call__(PREFIX + key)


I18N = _Catalogue(
    **{lang: {PREFIX + key: value for key, value in texts.items()} for lang, texts in TEXTS.items()}
)


def label(key: str, **values: Any) -> Any:
    """A label gradio shows in the page's language: `I18N(key)`, or, with ``values``
    (placeholders to fill), a catalogue entry of its own with them filled in.

    Args:
        key: a key of `TEXTS`.
        values: placeholder values.
    """
    if not values:
        return I18N(key)
    filled = {lang: TEXTS[lang][key].format(**values) for lang in LANGUAGES}
    name = f"{key}_{hashlib.sha1(filled['nl'].encode()).hexdigest()[:10]}"
    for lang in LANGUAGES:
        I18N.translations_dict[lang][PREFIX + name] = filled[lang]
    return I18N(name)


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


def pick_language(cookie: str | None = None, accept_language: str | None = None) -> str:
    """The interface language: the cookie's when it names one, else the first language
    of Accept-Language that the page has, else Dutch.

    Args:
        cookie: the ``ivb_lang`` cookie.
        accept_language: the Accept-Language header, e.g. "en-GB,en;q=0.9,nl;q=0.8".
    """
    if cookie in LANGUAGES:
        return str(cookie)
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, i, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


def request_language(request: Any) -> str:
    """The interface language of a gradio or Starlette request (Dutch without one)."""
    if request is None:
        return DEFAULT_LANGUAGE
    cookies: Mapping[str, str] = getattr(request, "cookies", None) or {}
    headers: Mapping[str, str] = getattr(request, "headers", None) or {}
    return pick_language(cookies.get(COOKIE), headers.get("accept-language"))
