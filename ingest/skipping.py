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

from ingest.manifest import MANIFEST_NAME, SIDECAR_SUFFIX

_HOSTILE_MARKS = ("%2f", "%5c", "../", "..\\")


def skipped_files(roots: Iterable[Path]) -> list[dict[str, str]]:
    """Every hidden file or folder, unfollowed folder link, special file and unreadable
    folder under the given folders, as ``{"path": ..., "reason": ...}`` sorted by path.

    Args:
        roots: the paths given to ingest; files among them are not walked.

    Returns:
        One entry per thing left out (a hidden folder once, not its contents).
    """
    out: dict[str, str] = {}
    for root in roots:
        try:
            if not Path(root).is_dir():
                continue
        except (OSError, ValueError):  # a path the system cannot even look up: discover fails it
            continue

        def unreadable(error: OSError) -> None:
            out[str(error.filename)] = (
                f"is een map die niet kan worden gelezen ({error.strerror}); controleer de "
                "rechten, de bestanden erin zijn niet opgenomen"
            )

        for folder, dirnames, filenames in os.walk(root, onerror=unreadable):
            keep = []
            for name in sorted(dirnames):
                path = Path(folder) / name
                if name.startswith("."):
                    out[str(path)] = _hidden_reason(name, folder=True)
                elif path.is_symlink():
                    out[str(path)] = (
                        "is een koppeling naar een map en wordt niet gevolgd; geef de map "
                        "zelf op om die op te nemen"
                    )
                else:
                    keep.append(name)
            dirnames[:] = keep
            for name in sorted(filenames):
                path = Path(folder) / name
                if name.startswith("."):
                    out[str(path)] = _hidden_reason(name, folder=False)
                elif not _is_metadata(name) and not path.is_file():
                    out[str(path)] = (
                        "is geen gewoon bestand (een koppeling zonder doel, een apparaat "
                        "of een pipe) en is overgeslagen"
                    )
    return [{"path": p, "reason": r} for p, r in sorted(out.items())]


def _is_metadata(name: str) -> bool:
    return name == MANIFEST_NAME or name.endswith(SIDECAR_SUFFIX)


def _hidden_reason(name: str, *, folder: bool) -> str:
    lowered = name.lower()
    if any(mark in lowered for mark in _HOSTILE_MARKS):
        return (
            "heeft een verdachte naam die naar een pad buiten de map lijkt te wijzen en is "
            "niet gelezen; controleer waar het bestand vandaan komt"
        )
    if folder:
        return (
            "is een verborgen map (de naam begint met een punt) en is met alles erin "
            "overgeslagen; geef de map een naam zonder punt vooraan om die op te nemen"
        )
    return (
        "is een verborgen bestand (de naam begint met een punt) en is overgeslagen; geef "
        "het een naam zonder punt vooraan om het op te nemen"
    )
