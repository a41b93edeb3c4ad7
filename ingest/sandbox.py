"""Parse files in a separate process with a memory cap and a time limit.

A hostile or broken file (a PDF bomb, deeply nested objects, a parser bug) can then
only cost its own parse: the worker is killed and replaced, the file is reported as
failed, and the ingest run goes on. Parsing also overlaps with embedding this way.
"""

from __future__ import annotations

import multiprocessing
import resource
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from assistant.settings import Settings
from assistant.types import Document, DocumentMeta
from ingest.errors import IngestError, Reason

PREFETCH = 4


def _limit_memory(max_bytes: int) -> None:
    if max_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))


def _parse(path: str, meta: DocumentMeta, settings: Settings) -> Document | IngestError:
    from ingest.readers import load_document

    try:
        return load_document(Path(path), meta, settings)
    except IngestError as exc:
        return exc
    except MemoryError:
        return IngestError(path, Reason.PARSE_MEMORY)


class ParserPool:
    """One worker process that parses files ahead of the indexer.

    Args:
        settings: limits (parse_timeout_s, parse_memory_mb) and loader settings.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.parse_seconds = 0.0
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ParserPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self._shutdown(kill=False)

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_limit_memory,
                initargs=(int(self.settings.parse_memory_mb * 1024 * 1024),),
            )
        return self._pool

    def _shutdown(self, kill: bool) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if kill:
            # No public API stops a running task; kill the worker processes directly.
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.kill()
        pool.shutdown(wait=True, cancel_futures=True)

    def parse_all(
        self, entries: Iterable[tuple[Path, DocumentMeta]]
    ) -> Iterator[tuple[Path, DocumentMeta, Document | IngestError]]:
        """Parse entries in order, a few ahead; yield each result as it is needed."""
        pending: deque[tuple[Path, DocumentMeta, Future[Document | IngestError]]] = deque()
        source = iter(entries)

        def fill() -> None:
            while len(pending) < PREFETCH:
                try:
                    path, meta = next(source)
                except StopIteration:
                    return
                fut = self._executor().submit(_parse, str(path), meta, self.settings)
                pending.append((path, meta, fut))

        fill()
        while pending:
            path, meta, fut = pending.popleft()
            started = time.perf_counter()
            try:
                result = fut.result(timeout=self.settings.parse_timeout_s)
            except FutureTimeout:
                result = IngestError(
                    str(path), Reason.PARSE_TIMEOUT, seconds=self.settings.parse_timeout_s
                )
                self._restart(pending)
            except BrokenProcessPool:
                result = IngestError(str(path), Reason.PARSER_CRASHED)
                self._restart(pending)
            self.parse_seconds += time.perf_counter() - started
            yield path, meta, result
            fill()

    def _restart(
        self, pending: deque[tuple[Path, DocumentMeta, Future[Document | IngestError]]]
    ) -> None:
        """Kill the stuck worker and resubmit what was queued behind it."""
        self._shutdown(kill=True)
        requeued = [(p, m) for p, m, _ in pending]
        pending.clear()
        for p, m in requeued:
            pending.append((p, m, self._executor().submit(_parse, str(p), m, self.settings)))
