"""Where a new project goes: the folder chosen when it is empty, else a new sub-folder.

A project writes ``project.sqlite``, ``overlays/``, ``models/`` and ``exports/`` into its
folder, so a folder that already holds other files (a Documents folder, a folder of
slides) gets a sub-folder of its own rather than those next to the user's files.
"""

from __future__ import annotations

from pathlib import Path

from pathscaat.project.store import DB_NAME

SUBFOLDER = "PathSCAAT project"


def is_empty_folder(folder: Path) -> bool:
    """No such folder yet, or one with nothing in it but hidden files (.DS_Store)."""
    if not folder.exists():
        return True
    return folder.is_dir() and not any(not p.name.startswith(".") for p in folder.iterdir())


def new_project_folder(folder: str | Path) -> Path:
    """``folder`` when it is empty (or already a project: creating there is refused with
    its reason), else its first free sub-folder ``PathSCAAT project``, ``… 2``, ..."""
    chosen = Path(folder).expanduser()
    if is_empty_folder(chosen) or (chosen / DB_NAME).exists() or not chosen.is_dir():
        return chosen
    n = 1
    while True:
        sub = chosen / (SUBFOLDER if n == 1 else f"{SUBFOLDER} {n}")
        if not sub.exists():
            return sub
        n += 1
