"""The one exception ingestion raises for input a user can fix."""

from __future__ import annotations


class IngestError(Exception):
    """A file (or manifest) that cannot be ingested, with a Dutch reason that says what to do.

    ``str(error)`` is ``"<path>: <reason>"``, so the message always names the file.
    """

    def __init__(self, path: str, reason: str) -> None:
        """Create the error.

        Args:
            path: the file or manifest the problem is about, as the user gave it.
            reason: short Dutch explanation that says what to do about it.
        """
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"

    def __reduce__(self) -> tuple[type[IngestError], tuple[str, str]]:
        # Keep the two-argument constructor working across pickling (process pools).
        return (type(self), (self.path, self.reason))
