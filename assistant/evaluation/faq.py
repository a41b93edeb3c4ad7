"""The Rijksoverheid FAQ (CC0) as a corpus plus a gold set.

Each record's ``reference_answer`` becomes one Markdown document that does NOT contain
its question (otherwise retrieval would be matching a question to itself). The document
id is the record id, its title the first line of the answer, its municipality left
``onbekend`` and its doc_type ``faq``. The gold set asks every question with that
document as the gold source and the answer as the reference.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from assistant.evaluation.dataset import EvalItem, write_dataset
from ingest.manifest import MANIFEST_NAME

TITLE_MAX = 100
MARKER = "# Rijksoverheid vraag-en-antwoord (CC0 1.0), gemaakt door assistant.evaluation.faq."
_ID = re.compile(r"^[A-Za-z0-9._-]+$")


class FaqError(ValueError):
    """A FAQ source file that cannot be converted; the message names file and line."""


def _made_by_us(corpus: Path) -> bool:
    manifest = corpus / MANIFEST_NAME
    if not manifest.is_file():
        return False
    with manifest.open(encoding="utf-8") as fh:
        return fh.readline().rstrip("\n") == MARKER


def faq_title(answer: str, limit: int = TITLE_MAX) -> str:
    """The first non-empty line of an answer, cut at a word boundary to ``limit`` chars."""
    first = next((line.strip() for line in answer.splitlines() if line.strip()), "")
    if len(first) <= limit:
        return first
    cut = first[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:")
    return cut + "…"


def _toml_str(value: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes for quotes, \\ and controls).
    return json.dumps(value, ensure_ascii=False)


def read_faq(src_jsonl: str | Path) -> list[dict[str, Any]]:
    """The records of a FAQ file, checked: id, question and reference_answer present."""
    src = Path(src_jsonl)
    if not src.is_file():
        raise FaqError(f"{src}: bestaat niet; geef het pad naar faq-dev.jsonl")
    records = []
    seen: set[str] = set()
    for number, line in enumerate(src.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FaqError(f"{src}:{number}: geen geldige JSON ({exc.msg})") from None
        for key in ("id", "question", "reference_answer"):
            if not isinstance(rec.get(key), str) or not rec[key].strip():
                raise FaqError(f"{src}:{number}: veld '{key}' ontbreekt of is leeg")
        if not _ID.match(rec["id"]) or rec["id"] in seen:
            raise FaqError(f"{src}:{number}: id '{rec['id']}' is ongeldig of dubbel")
        seen.add(rec["id"])
        records.append(rec)
    return records


def convert_faq(
    src_jsonl: str | Path,
    out_corpus_dir: str | Path,
    out_dataset: str | Path,
    limit: int | None = None,
) -> tuple[Path, Path]:
    """Write the FAQ as a corpus folder (one .md per answer + manifest.toml) and a gold set.

    The corpus folder is replaced as a whole (written beside it, then moved in), so a
    failed conversion never leaves a half-written corpus.

    Args:
        src_jsonl: the FAQ records (id, question, reference_answer, lastmodified, ...).
        out_corpus_dir: the corpus folder to (re)create.
        out_dataset: the gold-set ``.jsonl`` to write.
        limit: only the first N records.

    Returns:
        (corpus folder, dataset file).
    """
    records = read_faq(src_jsonl)[:limit]
    corpus = Path(out_corpus_dir)
    if corpus.exists() and any(corpus.iterdir()) and not _made_by_us(corpus):
        raise FaqError(
            f"{corpus}: bestaat al en is geen FAQ-corpus van deze converter; "
            "kies een lege of nieuwe map"
        )
    staging = corpus.with_name(corpus.name + ".tmp")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    manifest = [
        MARKER,
        "# Elk document is het antwoord zonder de vraag; titel = eerste regel van het antwoord.",
        "",
    ]
    items: list[EvalItem] = []
    for rec in records:
        doc_id = rec["id"]
        answer = rec["reference_answer"].strip()
        (staging / f"{doc_id}.md").write_text(answer + "\n", encoding="utf-8")
        manifest += [
            "[[document]]",
            f"file = {_toml_str(doc_id + '.md')}",
            f"id = {_toml_str(doc_id)}",
            f"title = {_toml_str(faq_title(answer))}",
            'municipality = "onbekend"',
            'doc_type = "faq"',
        ]
        date = str(rec.get("lastmodified") or "")[:10]
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
            manifest.append(f"date = {_toml_str(date)}")
        manifest.append("")
        items.append(
            EvalItem(
                id=f"faq-{doc_id}",
                question=rec["question"].strip(),
                audience="inwoner",
                language="nl",
                answerable=True,
                reference_answer=answer,
                sources=[{"doc_id": doc_id}],
                tags=["faq"],
            )
        )
    (staging / MANIFEST_NAME).write_text("\n".join(manifest), encoding="utf-8")
    if corpus.exists():
        shutil.rmtree(corpus)
    staging.rename(corpus)
    dataset = write_dataset(items, out_dataset)
    return corpus, dataset
