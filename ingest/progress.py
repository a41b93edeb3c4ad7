"""Terminal progress and summary for ingest runs (shared by the CLI and first start)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from assistant.settings import Settings
from assistant.store import Store
from ingest.pipeline import IngestReport, ingest_paths
from ingest.pipeline import Progress as IngestProgress


def run_ingest_with_progress(
    paths: Sequence[Path], settings: Settings, prune: bool = False, console: Console | None = None
) -> IngestReport:
    """Run an ingest with a progress bar of files and embedded chunks.

    Args:
        paths: files and folders.
        settings: the settings to ingest with.
        prune: remove documents whose file is gone.
        console: where the bar is drawn (stderr by default).
    """
    console = console or Console(stderr=True)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("bestanden · {task.fields[chunks]} fragmenten ingebed"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("Opnemen", total=None, chunks=0)

        def update(p: IngestProgress) -> None:
            bar.update(task, total=p.files_total, completed=p.files_done, chunks=p.chunks_embedded)

        report = ingest_paths(paths, settings, prune=prune, on_progress=update)
        # The last batch is embedded after the last file's progress call.
        bar.update(task, chunks=report.chunks_embedded)
        return report


def render_report(report: IngestReport, console: Console, names: int = 10) -> None:
    """A short human summary of an ingest run: counts, the documents that changed, and
    each failure with its reason. File names, ids and errors are printed as text, never
    read as rich markup (a file may be called ``verslag [concept].md``).

    Args:
        report: the run's report.
        console: where to print.
        names: at most this many document ids per kind of change.
    """
    console.print(
        f"Toegevoegd: {len(report.added)} · bijgewerkt: {len(report.updated)} · "
        f"ongewijzigd: {len(report.unchanged)} · verwijderd: {len(report.removed)} · "
        f"overgeslagen: {len(report.skipped)} · mislukt: {len(report.failed)}",
        markup=False,
    )
    console.print(
        f"Fragmenten ingebed: {report.chunks_embedded} (hergebruikt: {report.chunks_reused}) · "
        f"pagina's: {report.pages} · {report.seconds:.1f} s",
        markup=False,
    )
    for mark, label, ids in (("+", "toegevoegd", report.added),
                             ("~", "bijgewerkt", report.updated),
                             ("-", "verwijderd", report.removed)):  # fmt: skip
        for doc_id in ids[:names]:
            source = report.sources.get(doc_id)
            shown = f"{doc_id} ({Path(source).name})" if source else doc_id
            console.print(f"{mark} {escape(shown)}", highlight=False, soft_wrap=True)
        if len(ids) > names:
            console.print(f"{mark} … en nog {len(ids) - names} {label}", highlight=False)
    for doc_id, labels in report.ocr_pages.items():
        shown = ", ".join(labels)
        console.print(
            f"OCR: {escape(doc_id)}, pagina {escape(shown)} gelezen met tekstherkenning",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
    for warn in report.warnings:
        console.print(
            f"[yellow]![/yellow] {escape(Path(warn['path']).name)}: {escape(warn['warning'])}",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
    for skip in report.skipped:
        console.print(
            f"[yellow]-[/yellow] overgeslagen: {escape(skip['path'])}: {escape(skip['reason'])}",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
    for fail in report.failed:
        console.print(f"[red]✗[/red] {escape(fail['error'])}", highlight=False, soft_wrap=True)


def fill_empty_store(settings: Settings, store: Store, console: Console | None = None) -> bool:
    """First start: ingest the corpus folder into an empty store, with progress.

    Args:
        settings: the settings (corpus_dir is read).
        store: the store to check and fill.
        console: where progress and the summary go (stderr by default).

    Returns:
        Whether the corpus was ingested.
    """
    if store.documents():
        return False
    console = console or Console(stderr=True)
    corpus = Path(settings.corpus_dir)
    console.print(f"De index is leeg: de corpusmap {corpus} wordt ingelezen.", markup=False)
    render_report(run_ingest_with_progress([corpus], settings, console=console), console)
    return True
