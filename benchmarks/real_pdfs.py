"""Measure what ingest makes of the real PDFs: chunks, running-header-only chunks, glyphs.

Usage: ``python -m benchmarks.real_pdfs [FOLDER]`` (default ``../shared/corpora/real-pdfs``).
Prints one line per file and a total. A file that fails is reported with its reason.

"Running lines" are measured independently of the reader: lines that pypdf's plain
extraction puts first or last on at least three pages (digits ignored). A chunk is
header-only when, with those lines and bare page numbers removed, at most three letters
remain. A chunk "ends with its page number" when its last token is its own page label.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import pypdf

from assistant.settings import Settings
from benchmarks.common import documents_with_chunks

BAD_GLYPH = re.compile("[\ufb00-\ufb06\ue000-\uf8ff\u00ad\x00-\x08\x0b\x0c\x0e-\x1f]")
DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "real-pdfs"


def _key(line: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", " ", line)).strip().lower()


def running_lines(path: Path) -> set[str]:
    """Keys of lines pypdf puts first or last (two lines each) on three or more pages."""
    reader = pypdf.PdfReader(path)
    if reader.is_encrypted:
        reader.decrypt("")
    counts: Counter[str] = Counter()
    for page in reader.pages:
        lines = [ln for ln in page.extract_text().split("\n") if ln.strip()]
        counts.update({_key(ln) for ln in lines[:2] + lines[-2:]})
    return {key for key, n in counts.items() if n >= 3 and len(key) > 1}


def header_only(text: str, running: set[str]) -> bool:
    kept = [ln for ln in text.split("\n") if _key(ln) not in running]
    rest = re.sub(r"\b\d+\b", "", " ".join(kept))
    for key in running:  # running lines joined into a paragraph
        rest = re.sub(re.escape(key).replace("\\#", r"\d+"), "", rest, flags=re.IGNORECASE)
    return sum(ch.isalpha() for ch in rest) <= 3


def main(folder: Path) -> None:
    settings = Settings()
    totals = Counter()
    for path in sorted(folder.glob("*.pdf")):
        try:
            ((doc, chunks),) = list(documents_with_chunks([path], settings))
        except Exception as exc:
            print(f"{path.name}: FAILED {exc}")
            totals["failed"] += 1
            continue
        running = running_lines(path)
        only = [c for c in chunks if header_only(c.text, running)]
        glyphs = sum(len(BAD_GLYPH.findall(c.text)) for c in chunks)
        with_glyphs = sum(1 for c in chunks if BAD_GLYPH.search(c.text))
        ends_number = sum(
            1 for c in chunks if c.text.split() and c.text.split()[-1] == c.page_label_end
        )
        print(
            f"{path.name}: pages={len(doc.pages)} chunks={len(chunks)} header_only={len(only)} "
            f"glyphs={glyphs} chunks_with_glyphs={with_glyphs} ends_with_number={ends_number} "
            f"title={doc.meta.title!r}"
        )
        for c in only[:3]:
            print(f"    header-only: {c.text[:90]!r}")
        totals.update(
            chunks=len(chunks),
            header_only=len(only),
            glyphs=glyphs,
            with_glyphs=with_glyphs,
            ends_number=ends_number,
            ok=1,
        )
    print("TOTAL", dict(totals))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)
