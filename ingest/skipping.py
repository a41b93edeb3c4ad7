"""Files in an ingested folder that are not read, each with the reason why.

``ingest.manifest.discover`` leaves out hidden files and folders and anything that is
not a regular file; this module names them, so that nothing is skipped without a word
(a hostile name such as ``..%2f..%2fetc%2fpasswd.pdf`` starts with a dot as well).
It walks the folders exactly as ``discover`` does.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ingest.errors import Message, Reason
from ingest.manifest import MANIFEST_NAME, SIDECAR_SUFFIX, leaves_folder

_HOSTILE_MARKS = ("%2f", "%5c", "../", "..\\")


def skipped_files(roots: Iterable[Path], lang: str = "nl") -> list[dict[str, str]]:
    """Every hidden file or folder, unfollowed folder link, link to a file outside the
    folder, special file and unreadable folder under the given folders, as
    ``{"path": ..., "reason": ..., "code": ...}`` sorted by path.

    Args:
        roots: the paths given to ingest; files among them are not walked.
        lang: the language of the reasons ("nl" or "en"); ``code`` is the `Reason`.

    Returns:
        One entry per thing left out (a hidden folder once, not its contents).
    """
    out: dict[str, Message] = {}
    for root in roots:
        try:
            if not Path(root).is_dir():
                continue
        except (OSError, ValueError):  # a path the system cannot even look up: discover fails it
            continue

        def unreadable(error: OSError) -> None:
            out[str(error.filename)] = Message(Reason.FOLDER_UNREADABLE, {"error": error.strerror})

        for folder, dirnames, filenames in os.walk(root, onerror=unreadable):
            keep = []
            for name in sorted(dirnames):
                path = Path(folder) / name
                if name.startswith("."):
                    out[str(path)] = _hidden_reason(name, folder=True)
                elif path.is_symlink():
                    out[str(path)] = Message(Reason.FOLDER_LINK)
                else:
                    keep.append(name)
            dirnames[:] = keep
            for name in sorted(filenames):
                path = Path(folder) / name
                if name.startswith("."):
                    out[str(path)] = _hidden_reason(name, folder=False)
                elif leaves_folder(path, Path(root)):
                    out[str(path)] = Message(Reason.OUTSIDE_LINK)
                elif not _is_metadata(name) and not path.is_file():
                    out[str(path)] = Message(Reason.SPECIAL_FILE)
    return [
        {"path": p, "reason": m.text(lang), "code": m.reason.value} for p, m in sorted(out.items())
    ]


def _is_metadata(name: str) -> bool:
    return name == MANIFEST_NAME or name.endswith(SIDECAR_SUFFIX)


def _hidden_reason(name: str, *, folder: bool) -> Message:
    lowered = name.lower()
    if any(mark in lowered for mark in _HOSTILE_MARKS):
        return Message(Reason.HOSTILE_NAME)
    return Message(Reason.HIDDEN_FOLDER if folder else Reason.HIDDEN_FILE)
