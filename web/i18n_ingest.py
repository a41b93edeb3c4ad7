"""What ingestion says about a file, in Dutch and English: the texts of the
``ingest.errors.Reason`` codes (key ``"ingest_<code>"``), merged into ``web.i18n.TEXTS``.

Shown on the staff page, in the REST API's answers and (in Dutch) by ``ivb ingest``.
"""

TEXTS: dict[str, dict[str, str]] = {"nl": {}, "en": {}}

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
        "ingest_outside_link": (
            "is een koppeling naar een bestand buiten de opgegeven map en wordt niet gevolgd; "
            "geef dat bestand zelf op om het op te nemen"
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
        "ingest_outside_link": (
            "is a link to a file outside the given folder and is not followed; give that file "
            "itself to add it"
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
