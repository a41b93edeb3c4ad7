"""OCR speed: scanned pages per second, read as ingest reads them (render + Tesseract nld).

Builds a PDF of N image-only A4 pages of Dutch text (200 dpi scans, as a copier makes
them) and times ``ingest.ocr.read_scanned_pages`` on it in this process, one Tesseract
thread per page (as in the parse worker). Separate from the ingest benchmark: a text PDF
never reaches OCR.

    python benchmarks/ocr_speed.py --pages 10
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.settings import Settings
from assistant.types import Page
from ingest.ocr import engine, read_scanned_pages
from tests.test_scans import _scan_pdf

LINES = [
    "Hoofdstuk 2 Evenementen",
    "Voor evenementen met meer dan 2.000 bezoekers geldt in Dronten",
    "een meldplicht van twaalf weken. De organisator meldt het evenement",
    "bij de gemeente en legt een veiligheidsplan voor aan de brandweer.",
] * 6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10)
    args = parser.parse_args()
    settings = Settings(parse_timeout_s=3600)
    if not engine(settings).ok:
        sys.exit(f"OCR is niet beschikbaar: {engine(settings).reason}")
    path = Path("/tmp") / f"ocr-speed-{args.pages}.pdf"
    _scan_pdf(path, [LINES] * args.pages)
    pages = [Page(index=i, label=str(i + 1), text="") for i in range(args.pages)]
    started = time.perf_counter()
    cpu = _cpu_seconds()
    read = read_scanned_pages(path.read_bytes(), pages, settings)
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu
    done = sum(p.ocr for p in read)
    # CPU time is what a quiet machine would take per page; wall time includes other load.
    print(f"{done}/{args.pages} pages read by OCR in {seconds:.1f} s: "
          f"{done / seconds:.2f} pages/s; CPU {cpu / max(done, 1):.2f} s/page "
          f"(render + Tesseract), load average {os.getloadavg()[0]:.1f}")  # fmt: skip


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the Tesseract processes
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
