"""First come, first served access to one model, shared by every caller of the pipeline.

The local model answers one question at a time. A `ModelLine` hands it to one request at a
time, in the order they joined, tells the others their place, and refuses a request when
too many already wait (`LineFull`), so that a busy server says so instead of piling up.
The web chat and its API share one line; the CLI can use one as well.

Written here rather than taken from a library: a queue.Queue cannot tell a waiting request
its place or drop one that gives up in the middle of the line.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial


class LineFull(Exception):
    """The line for the model is full: the request is not taken (answer it as busy)."""


class Ticket:
    """One request's place in a `ModelLine`. Leave the line when done, also on errors:
    use the ticket as a context manager.
    """

    def __init__(self, line: ModelLine, number: int) -> None:
        self.line = line
        self.number = number  # the order of joining, for logs

    def place(self) -> int:
        """How many requests are before this one: 0 while it holds the model."""
        return self.line.place(self)

    def places(self, poll_s: float = 1.0) -> Iterator[int]:
        """Wait for this request's turn, yielding its place (1: next) at once, whenever it
        changes, and again every ``poll_s`` seconds; returns when the model is its own."""
        return self.line.wait_turn(self, poll_s)

    def leave(self) -> None:
        """Give up the model, or the place in the line (the ones behind move up)."""
        self.line.leave(self)

    def __enter__(self) -> Ticket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.leave()


class ModelLine:
    """First come, first served access to one model, shared by the web chat and the API.

    The request at the front holds the model until it leaves, for its whole answer (a
    follow-up's rewrite and the answer itself, so nothing gets in between); the others
    wait in the order they joined and can be told their place.

    Args:
        max_waiting: how many requests may wait behind the one being served; one more is
            refused (`join` raises LineFull).
    """

    def __init__(self, max_waiting: int) -> None:
        self.max_waiting = max(0, max_waiting)
        self._changed = threading.Condition()
        self._line: list[Ticket] = []
        self._joined = 0

    def __len__(self) -> int:
        """The requests in the line: the one being served and those waiting."""
        with self._changed:
            return len(self._line)

    @property
    def waiting(self) -> int:
        """The requests waiting behind the one being served."""
        with self._changed:
            return max(0, len(self._line) - 1)

    def join(self) -> Ticket:
        """Take a place at the back of the line.

        Raises:
            LineFull: max_waiting requests are already waiting.
        """
        with self._changed:
            if len(self._line) > self.max_waiting:
                raise LineFull(f"{len(self._line) - 1} requests are waiting for the model")
            self._joined += 1
            ticket = Ticket(self, self._joined)
            self._line.append(ticket)
            return ticket

    def place(self, ticket: Ticket) -> int:
        """How many requests are before a ticket (0: it holds the model)."""
        with self._changed:
            return self._place(ticket)

    def _place(self, ticket: Ticket) -> int:
        try:
            return self._line.index(ticket)
        except ValueError:
            raise RuntimeError(f"ticket {ticket.number} is no longer in the line") from None

    def wait_turn(self, ticket: Ticket, poll_s: float = 1.0) -> Iterator[int]:
        """See `Ticket.places`."""
        place = self.place(ticket)
        while place:
            yield place
            with self._changed:
                self._changed.wait_for(partial(self._moved, ticket, place), poll_s)
                place = self._place(ticket)

    def _moved(self, ticket: Ticket, place: int) -> bool:
        return self._place(ticket) != place

    def leave(self, ticket: Ticket) -> None:
        """Take a ticket out of the line (a no-op when it already left)."""
        with self._changed:
            if ticket in self._line:
                self._line.remove(ticket)
                self._changed.notify_all()
