"""The interface's catalogue (web/i18n.py) for the lines ingestion gives: every reason code
has a Dutch and an English text with the same placeholders, a message renders nested values
in its own language, and the CLI's default stays Dutch."""

from __future__ import annotations

import pickle
import string

from ingest.errors import FieldError, IngestError, Message, Reason
from ingest.readers import FORMATS
from web.i18n import TEXTS


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_reason_and_api_text_is_in_both_languages_with_the_same_placeholders():
    keys = {f"ingest_{reason.value}" for reason in Reason}
    keys |= {k for k in TEXTS["nl"] if k.startswith("api_")} | {"queue_unit", "local_turn", "or"}
    for key in sorted(keys):
        assert key in TEXTS["nl"] and key in TEXTS["en"], key
        assert _fields(TEXTS["nl"][key]) == _fields(TEXTS["en"][key]), key


def test_a_message_writes_its_nested_values_in_its_own_language():
    where = Message(Reason.ENTRY, {"number": 3})
    error = IngestError(
        "corpus/manifest.toml", Reason.ENTRY_UNKNOWN_MUNICIPALITY, where=where,
        value="Lelystad", choices=("Dronten", "Urk", "gezamenlijk"),
    )  # fmt: skip
    assert str(error) == (
        "corpus/manifest.toml: [[document]] nummer 3: municipality 'Lelystad' is onbekend; "
        "kies uit Dronten, Urk of gezamenlijk"
    )
    assert error.text("en") == (
        "corpus/manifest.toml: [[document]] number 3: municipality 'Lelystad' is unknown; "
        "choose from Dronten, Urk or gezamenlijk"
    )
    wrong_type = Message(
        Reason.UPLOAD_TYPE, {"name": "a.pptx", "suffix": ".pptx", "formats": FORMATS}
    )
    assert wrong_type.text("en").endswith("or text (.txt).")
    assert str(wrong_type).endswith("of tekst (.txt).")
    # Any other language gets the Dutch text, as the rest of the interface does.
    assert wrong_type.text("de") == str(wrong_type)


def test_an_error_keeps_its_code_across_the_parse_workers_pickling():
    scan = IngestError("scan.pdf", Reason.PDF_SCANNED_UNREAD, why=Message(Reason.OCR_OFF))
    back = pickle.loads(pickle.dumps(scan))
    assert back.message == scan.message and back.path == "scan.pdf"
    assert back.reason.endswith("OCR staat uit (IVB_OCR=off)")
    assert back.text("en").endswith(
        "OCR is needed before it can be added; OCR is off (IVB_OCR=off)"
    )


def test_a_refused_field_is_a_value_error_in_dutch_with_its_code():
    error = FieldError(Reason.INVALID_DATE, value="gisteren")
    assert isinstance(error, ValueError) and error.message.reason is Reason.INVALID_DATE
    assert str(error) == "Datum 'gisteren' is ongeldig; schrijf JJJJ-MM-DD, JJJJ-MM of JJJJ."
    assert error.message.text("en") == (
        "Date 'gisteren' is not valid; write YYYY-MM-DD, YYYY-MM or YYYY."
    )
