"""The project's slides: where each file is, how to know it again, and its µm/px override.

A path is stored relative to the project folder where one exists (a project and its
slides can move together) and also absolute (a project can move away from its slides).
Size and quick hash identify a file that moved anywhere else (:mod:`relink`).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from pathscaat.progress import PathscaatError
from pathscaat.project.relink import quick_hash

_SELECT = (
    "SELECT id, path, abs_path, size_bytes, quick_hash, mpp_override, width_px, height_px, "
    "l0_offset_x, l0_offset_y, added_at FROM slides"
)


@dataclass(frozen=True)
class SlideRecord:
    """One slide of a project; ``path`` is where the file is now (or was last seen)."""

    id: int
    path: Path
    found: bool
    stored_path: str
    size_bytes: int | None
    quick_hash: str | None
    mpp_override: float | None
    width_px: int | None
    height_px: int | None
    l0_offset: tuple[float, float]
    added_at: str

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class SlideFacts:
    """What adding a slide learns by opening it."""

    width_px: int
    height_px: int
    l0_offset: tuple[float, float]


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def stored_form(root: Path, path: Path) -> str:
    """``path`` relative to ``root`` where the OS allows it (not across Windows drives)."""
    try:
        return Path(os.path.relpath(path, root)).as_posix()
    except ValueError:
        return str(path)


def _locate(root: Path, stored: str, abs_path: str | None, size: int | None) -> tuple[Path, bool]:
    for candidate in (root / stored, Path(abs_path) if abs_path else None):
        if candidate is None:
            continue
        candidate = candidate.resolve()
        if candidate.is_file() and (size is None or candidate.stat().st_size == size):
            return candidate, True
    return Path(abs_path) if abs_path else (root / stored).resolve(), False


def _record(root: Path, row: tuple) -> SlideRecord:
    sid, stored, abs_path, size, digest, mpp, width, height, off_x, off_y, added = row
    path, found = _locate(root, stored, abs_path, size)
    return SlideRecord(
        sid,
        path,
        found,
        stored,
        size,
        digest,
        mpp,
        width,
        height,
        (float(off_x), float(off_y)),
        added,
    )


def list_slides(conn: sqlite3.Connection, root: Path) -> list[SlideRecord]:
    return [_record(root, row) for row in conn.execute(f"{_SELECT} ORDER BY id")]


def get_slide(conn: sqlite3.Connection, root: Path, slide_id: int) -> SlideRecord:
    row = conn.execute(f"{_SELECT} WHERE id = ?", (slide_id,)).fetchone()
    if row is None:
        raise PathscaatError(f"slide {slide_id} is not in the project at {root}")
    return _record(root, row)


def find_slide(conn: sqlite3.Connection, root: Path, path: Path) -> SlideRecord | None:
    """The record of the file at ``path`` (by location, else by size and quick hash)."""
    path = path.resolve()
    for record in list_slides(conn, root):
        if record.found and record.path == path:
            return record
    size = path.stat().st_size
    row = conn.execute(
        f"{_SELECT} WHERE size_bytes = ? AND quick_hash = ?", (size, quick_hash(path))
    ).fetchone()
    return _record(root, row) if row else None


def insert_slide(
    conn: sqlite3.Connection,
    root: Path,
    path: Path,
    facts: SlideFacts,
    mpp_override: float | None,
) -> int:
    """Insert a new slide row; the caller has checked it is not in the project yet."""
    path = path.resolve()
    cur = conn.execute(
        "INSERT INTO slides (path, abs_path, size_bytes, quick_hash, mpp_override, width_px, "
        "height_px, l0_offset_x, l0_offset_y, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            stored_form(root, path),
            str(path),
            path.stat().st_size,
            quick_hash(path),
            mpp_override,
            facts.width_px,
            facts.height_px,
            *facts.l0_offset,
            now_iso(),
        ),
    )
    return int(cur.lastrowid or 0)


def move_slide(conn: sqlite3.Connection, root: Path, slide_id: int, path: Path) -> None:
    path = path.resolve()
    conn.execute(
        "UPDATE slides SET path = ?, abs_path = ? WHERE id = ?",
        (stored_form(root, path), str(path), slide_id),
    )
