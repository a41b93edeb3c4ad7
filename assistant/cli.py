"""The `ivb` command: a thin shell over the library; every command is one library call."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, get_args

import click
import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from assistant.backends import BACKENDS, backend_names
from assistant.domain import MUNICIPALITIES, or_list, parse_date
from assistant.prompts import SUPERSEDED
from assistant.settings import Audience, Settings, get_settings

# Exit statuses besides 0: 1 some input files failed, 2 wrong use of the command (click: an
# unknown option value; or an --llm backend these settings cannot use),
# 3 a model is missing, damaged or could not be fetched, 4 (ingest) nothing failed but some
# files were skipped (hidden, special or duplicate files; listed in the report).
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_MODEL = 3
EXIT_SKIPPED = 4

# Commands that embed questions: their model is checked before they start, so that a
# server or an evaluation does not start and then fail on every question.
_USES_EMBEDDING = frozenset({"search", "ask", "chat", "serve", "eval"})


class _Commands(TyperGroup):
    """Every `ivb` command: a model problem stops it with one line and EXIT_MODEL."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        asks_help = any(arg in ctx.help_option_names for arg in rest)
        if name in _USES_EMBEDDING and not asks_help and not ctx.resilient_parsing:
            from assistant.model_fetch import embedding_model_path

            embedding_model_path(get_settings())
        return name, command, rest

    def invoke(self, ctx: click.Context) -> object:
        from assistant.model_files import find_model_error

        try:
            return super().invoke(ctx)
        except Exception as exc:
            problem = find_model_error(exc)
            if problem is not None:
                _model_error_line(str(problem))
                raise typer.Exit(EXIT_MODEL) from None
            from assistant.llm import LLMConfigError

            if isinstance(exc, LLMConfigError):
                # A backend these settings cannot use (no openai_base_url, no llama.cpp):
                # wrong use, said in one line with what to set or choose instead.
                sys.stderr.write("Fout: " + " ".join(str(exc).split()) + "\n")
                raise typer.Exit(EXIT_USAGE) from None
            raise


def _model_error_line(message: str) -> None:
    sys.stderr.write("Modelfout: " + " ".join(message.split()) + "\n")


app = typer.Typer(
    cls=_Commands,
    help="IVB-assistent: vragen over het Integraal Veiligheidsbeleid 2024-2027.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)
out = Console()

StoreOpt = Annotated[Path | None, typer.Option("--store", help="Map van de index (store).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Uitvoer als JSON.")]


def _choice(value: str | None, allowed: tuple[str, ...]) -> str | None:
    """``value`` as it is written in ``allowed`` (any case), or a usage error (status 2)
    that lists the allowed values."""
    if value is None:
        return None
    found = next((a for a in allowed if a.lower() == value.strip().lower()), None)
    if found is None:
        raise typer.BadParameter(f"'{value}' is geen geldige keuze; kies {or_list(allowed)}.")
    return found


def _backend(value: str | None) -> str | None:
    return _choice(value, BACKENDS)


def _municipality(value: str | None) -> str | None:
    return _choice(value, MUNICIPALITIES)


def _audience(value: str | None) -> str | None:
    return _choice(value, get_args(Audience))


def _iso_date(value: str | None) -> str | None:
    """A date filter as the store reads it: 2024, 2024-03 or 2024-03-05."""
    if value is not None:
        try:
            parse_date(value)
        except ValueError as exc:
            raise typer.BadParameter(f"{exc}, bijvoorbeeld 2024, 2024-03 of 2024-03-05.") from None
    return value


FromOpt = Annotated[
    str | None,
    typer.Option(
        "--vanaf", help="Alleen documenten vanaf deze datum (2024-01-01).", callback=_iso_date
    ),
]
ToOpt = Annotated[
    str | None,
    typer.Option("--tot", help="Alleen documenten tot en met deze datum.", callback=_iso_date),
]


def _settings(store: Path | None = None) -> Settings:
    settings = get_settings()
    if store is not None:
        settings = settings.model_copy(update={"store_dir": store})
    return settings


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


@app.command()
def models(
    json_: JsonOpt = False,
    fetch: Annotated[bool, typer.Option("--fetch", help="Haal ontbrekende modellen op.")] = False,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Controleer alle hashes opnieuw, de CPU-functies van llama.cpp en de "
            "zelftest van het lokale taalmodel.",
        ),
    ] = False,
) -> None:
    """Show each model: source, path, size and hash status (--verify: also the local
    model's build against this CPU and its one-token self-test)."""
    from assistant import model_fetch, model_files

    settings = _settings()
    if fetch:
        model_fetch.fetch_all(settings)
    statuses = model_files.model_statuses(settings, verify=verify)
    problems = [p for p in map(model_files.status_problem, statuses) if p]
    local = _verify_local_model(settings) if verify and not problems else None
    if json_:
        data = [s.model_dump(mode="json") for s in statuses]
        _print_json({"models": data, "local_model": local} if verify else data)
    else:
        out.print(model_files.render_models_table(statuses))
        for line in (local or {}).get("lines", []):
            out.print(line, markup=False, highlight=False)
    problems += (local or {}).get("problems", [])
    for problem in problems:
        _model_error_line(problem)
    if problems:
        raise typer.Exit(EXIT_MODEL)


def _verify_local_model(settings: Settings) -> dict[str, object] | None:
    """The llama.cpp build against this CPU, then the model's one-token self-test."""
    from assistant import llm, llm_build

    if llm.local_runtime_missing():
        return None
    lines: list[str] = []
    problems: list[str] = []
    try:
        report = llm_build.cpu_report()
    except RuntimeError as exc:
        return {"lines": [], "problems": [f"llama.cpp: {exc}"]}
    lines.append(report.line())
    if report.missing:
        problems.append(report.line())
        return {"lines": lines, "problems": problems, "cpu": _cpu_json(report)}
    try:
        process = llm.start_local_model(settings)
        test = process.self_test
    except llm.LocalModelStartError as exc:
        problems.append(str(exc))
        test = None
    else:
        lines.append(f"Zelftest lokaal taalmodel: 1 token in {test.seconds:.1f} s.")
    return {
        "lines": lines,
        "problems": problems,
        "cpu": _cpu_json(report),
        "self_test": None if test is None else {"ok": test.ok, "seconds": round(test.seconds, 2)},
    }


def _cpu_json(report) -> dict[str, object]:
    return {
        "build": sorted(report.build),
        "machine": sorted(report.machine),
        "missing": sorted(report.missing),
        "build_options": report.record,
    }


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Bestanden en/of mappen.")],
    store: StoreOpt = None,
    prune: Annotated[
        bool, typer.Option("--prune", help="Verwijder documenten waarvan het bestand weg is.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Add or update documents in the index; unchanged files cost nothing."""
    from ingest.progress import run_ingest_with_progress

    settings = _settings(store)
    report = run_ingest_with_progress(paths, settings, prune=prune, console=console)
    if json_:
        _print_json(report.as_dict())
    else:
        from ingest.progress import render_report

        render_report(report, out)
    if report.failed:
        raise typer.Exit(EXIT_FAILED)
    if report.skipped:
        raise typer.Exit(EXIT_SKIPPED)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Zoektekst of vraag.")],
    k: Annotated[int, typer.Option("--k", help="Aantal passages.")] = 10,
    gemeente: Annotated[
        str | None,
        typer.Option(
            "--gemeente",
            help=f"Filter op gemeente: {or_list(MUNICIPALITIES)}.",
            callback=_municipality,
        ),
    ] = None,
    doc_type: Annotated[str | None, typer.Option("--type", help="Filter op documenttype.")] = None,
    vanaf: FromOpt = None,
    tot: ToOpt = None,
    store: StoreOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Ranked passages for a question (hybrid retrieval)."""
    from assistant.store import Filters

    service = _service(store)
    passages = service.retriever.search(
        query,
        k=k,
        filters=Filters(municipality=gemeente, doc_type=doc_type, date_from=vanaf, date_to=tot),
    )
    if json_:
        _print_json([p.as_dict() for p in passages])
        return
    for p in passages:
        c = p.chunk
        label = f"  [yellow]({SUPERSEDED})[/yellow]" if p.superseded else ""
        out.print(
            f"[bold]{p.rank}. {escape(c.title)}[/bold] — p. {escape(c.page_label)}  "
            f"({p.score:.4f}){label}"
        )
        if c.section:
            out.print(f"   [dim]{escape(c.section)}[/dim]")
        out.print("   " + c.text[:300].replace("\n", " "), markup=False)


AudienceOpt = Annotated[
    str | None,
    typer.Option("--doelgroep", help="raad (precies) of inwoner (B1-taal).", callback=_audience),
]
BackendOpt = Annotated[
    str | None, typer.Option("--llm", help=f"{backend_names()}.", callback=_backend)
]
GemeenteOpt = Annotated[
    str | None,
    typer.Option("--gemeente", help=f"{or_list(MUNICIPALITIES)}.", callback=_municipality),
]


def _service(store: Path | None):
    """The service for this store; an empty store is first filled from the corpus folder,
    as the web app does on its first start."""
    from assistant.service import get_service
    from ingest.progress import fill_empty_store

    service = get_service(_settings(store))
    fill_empty_store(service.settings, service.store, console)
    return service


def _pipeline(store: Path | None, backend: str | None = None):
    """The answer pipeline; with the local model, its process is started and self-tested
    first, so a model that cannot start stops the command with one line (status 3)."""
    from assistant.answer import AnswerPipeline
    from assistant.llm import check_backend

    check_backend(_settings(store), backend)  # before the store is filled
    pipeline = AnswerPipeline(_service(store))
    _start_local_model(pipeline.settings, backend)
    return pipeline


def _start_local_model(settings: Settings, backend: str | None) -> None:
    if (backend or settings.llm_backend) == "local":
        from assistant.llm import start_local_model

        start_local_model(settings)


def _print_answer(answer, streamed: bool) -> None:
    if not streamed or answer.refused or answer.backend == "extractive":
        out.print(answer.text, markup=False)
    else:
        out.print("\n[dim]Gecontroleerd antwoord:[/dim]")
        out.print(answer.text, markup=False)
    for c in answer.citations:
        label = f" [yellow]({SUPERSEDED})[/yellow]" if c.superseded else ""
        quoted = " … ".join(f"“{escape(q)}”" for q in c.quotes)
        out.print(
            f"[bold]\\[{c.n}][/bold] {escape(c.title)}, p. {escape(c.page)}{label}: {quoted}",
            highlight=False,
        )


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="De vraag.")],
    llm: BackendOpt = None,
    doelgroep: AudienceOpt = None,
    gemeente: GemeenteOpt = None,
    k: Annotated[int | None, typer.Option("--k", help="Aantal passages.")] = None,
    vanaf: FromOpt = None,
    tot: ToOpt = None,
    store: StoreOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Answer one question with checked citations (streams in the terminal)."""
    from assistant.types import Answer

    pipeline = _pipeline(store, llm)
    answer = None
    streamed = False
    for piece in pipeline.stream(question, audience=doelgroep, municipality=gemeente,
                                 backend=llm, k=k, date_from=vanaf, date_to=tot):  # fmt: skip
        if isinstance(piece, Answer):
            answer = piece
        elif (
            not json_
            and llm != "extractive"
            and (llm or pipeline.settings.llm_backend) != "extractive"
        ):
            streamed = True
            sys.stderr.write(piece)
            sys.stderr.flush()
    assert answer is not None
    if streamed:
        sys.stderr.write("\n")
    if json_:
        _print_json(answer.as_dict())
    else:
        _print_answer(answer, streamed)


@app.command()
def chat(
    llm: BackendOpt = None,
    doelgroep: AudienceOpt = None,
    gemeente: GemeenteOpt = None,
    store: StoreOpt = None,
) -> None:
    """A conversation in the terminal that keeps its history (empty line or Ctrl-D stops)."""
    pipeline = _pipeline(store, llm)
    history: list[tuple[str, str]] = []
    out.print("IVB-assistent. Stel uw vraag (lege regel om te stoppen).")
    while True:
        try:
            question = input("\n> ").strip()
        except EOFError:
            break
        if not question:
            break
        answer = pipeline.ask(question, history=history, audience=doelgroep,
                              municipality=gemeente, backend=llm)  # fmt: skip
        _print_answer(answer, streamed=False)
        history.append((question, answer.text))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option("--host")] = None,
    port: Annotated[int | None, typer.Option("--port")] = None,
    store: StoreOpt = None,
) -> None:
    """Start the web chat (fills an empty store from corpus/ first)."""
    import ui

    settings = _settings(store)
    update: dict[str, object] = {}
    if host:
        update["host"] = host
    if port:
        update["port"] = port
    ui.main(settings.model_copy(update=update))


@app.command("hash-password")
def hash_password(
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Print the bcrypt hash to put in IVB_STAFF_PASSWORD_HASH."""
    from assistant.auth import hash_password as _hash

    out.print(_hash(password), markup=False)


@app.command("eval")
def eval_(
    dataset: Annotated[Path, typer.Argument(help="Goudset (JSON lines).")],
    llm: BackendOpt = None,
    k: Annotated[int, typer.Option("--k", help="Passages per antwoord.")] = 5,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Map voor de resultaten.")] = None,
    compare: Annotated[
        Path | None, typer.Option("--compare", help="Map van een eerdere run om te vergelijken.")
    ] = None,
    store: StoreOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Run a gold set through the real pipeline and report retrieval, answer and citation
    quality, refusals and latency."""
    from assistant.evaluation.report import render_summary_table
    from assistant.evaluation.runner import run_eval
    from assistant.llm import check_backend

    settings = _settings(store)
    check_backend(settings, llm)  # not once for every question of the set
    _start_local_model(settings, llm)
    summary = run_eval(dataset, settings, llm=llm, k=k, out_dir=out_dir,
                       compare=compare, progress=not json_)  # fmt: skip
    if json_:
        _print_json(summary)
    else:
        out.print(render_summary_table(summary))


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover - `python -m assistant.cli`
    main()
