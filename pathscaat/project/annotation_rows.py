"""Annotation rows and the undo log of one slide, as SQL on an open connection.

These functions never commit: :class:`pathscaat.project.store.Project` wraps each edit
(rows plus history) in one transaction, so a kill between statements leaves either the
whole edit or none of it. ``seq`` keeps the collection's insertion order (z-order).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import Annotation
from pathscaat.project import codec

_INSERT = (
    f"INSERT INTO annotations (slide_id, seq, {codec.SELECT_COLUMNS}) "
    f"VALUES (?, ?, {', '.join('?' * len(codec.COLUMNS))})"
)
_UPDATE = (
    "UPDATE annotations SET "
    + ", ".join(f"{c} = ?" for c in codec.COLUMNS[1:])
    + " WHERE slide_id = ? AND id = ?"
)


def load(
    conn: sqlite3.Connection, slide_id: int, known: dict[codec.RowKey, Annotation] | None = None
) -> list[Annotation]:
    rows = conn.execute(
        f"SELECT {codec.SELECT_COLUMNS} FROM annotations WHERE slide_id = ? ORDER BY seq",
        (slide_id,),
    )
    return codec.from_rows(rows, known=known)


def _next_seq(conn: sqlite3.Connection, slide_id: int) -> int:
    row = conn.execute(
        "SELECT COALESCE(MAX(seq), -1) + 1 FROM annotations WHERE slide_id = ?", (slide_id,)
    ).fetchone()
    return int(row[0])


def insert(conn: sqlite3.Connection, slide_id: int, rows: Sequence[codec.Row]) -> None:
    seq = _next_seq(conn, slide_id)
    conn.executemany(_INSERT, ((slide_id, seq + i, *row) for i, row in enumerate(rows)))
    ensure_classes(conn, rows)


def write_edit(conn: sqlite3.Connection, slide_id: int, edit: codec.EncodedEdit) -> None:
    """Apply ``edit`` to the slide's rows (removed, then changed, then added)."""
    conn.executemany(
        "DELETE FROM annotations WHERE slide_id = ? AND id = ?",
        ((slide_id, row[0]) for row in edit.removed),
    )
    conn.executemany(_UPDATE, ((*after[1:], slide_id, after[0]) for _b, after in edit.changed))
    ensure_classes(conn, [after for _b, after in edit.changed])
    insert(conn, slide_id, edit.added)


_CLASS = (codec.COLUMNS.index("class_name"), codec.COLUMNS.index("class_colour"))


def ensure_classes(conn: sqlite3.Connection, rows: Iterable[codec.Row]) -> None:
    """Add classes the project has not seen yet at the end of its class list."""
    names = {row[_CLASS[0]]: row[_CLASS[1]] for row in rows if row[_CLASS[0]] is not None}
    if not names:
        return
    known = {r[0] for r in conn.execute("SELECT name FROM classes")}
    order = int(conn.execute("SELECT COALESCE(MAX(sort_order), -1) + 1 FROM classes").fetchone()[0])
    for name, colour in names.items():
        if name not in known:
            conn.execute(
                "INSERT INTO classes (name, colour, sort_order) VALUES (?, ?, ?)",
                (name, int(colour or 0), order),
            )
            order += 1


def replace_all(conn: sqlite3.Connection, slide_id: int, objects: Sequence[Annotation]) -> None:
    """The slide's objects become ``objects``; its undo log is cleared."""
    conn.execute("DELETE FROM annotations WHERE slide_id = ?", (slide_id,))
    insert(conn, slide_id, codec.to_rows(objects))
    clear_history(conn, slide_id)


# --- the undo log: entries 0..n-1 per slide, and how many of them are done ---------------


def history_pos(conn: sqlite3.Connection, slide_id: int) -> int:
    row = conn.execute("SELECT pos FROM history_state WHERE slide_id = ?", (slide_id,)).fetchone()
    return int(row[0]) if row else 0


def history_len(conn: sqlite3.Connection, slide_id: int) -> int:
    row = conn.execute("SELECT COUNT(*) FROM history WHERE slide_id = ?", (slide_id,)).fetchone()
    return int(row[0])


def set_history_pos(conn: sqlite3.Connection, slide_id: int, pos: int) -> None:
    conn.execute(
        "INSERT INTO history_state (slide_id, pos) VALUES (?, ?) "
        "ON CONFLICT (slide_id) DO UPDATE SET pos = excluded.pos",
        (slide_id, pos),
    )


def truncate_history(conn: sqlite3.Connection, slide_id: int, keep: int) -> None:
    conn.execute("DELETE FROM history WHERE slide_id = ? AND pos >= ?", (slide_id, keep))


def push_history(conn: sqlite3.Connection, slide_id: int, at: int, edit: codec.EncodedEdit) -> None:
    """Entry ``at`` becomes ``edit``; the entries after it (the redo stack) are dropped."""
    truncate_history(conn, slide_id, at)
    conn.execute(
        "INSERT INTO history (slide_id, pos, label, payload) VALUES (?, ?, ?, ?)",
        (slide_id, at, edit.label, edit.payload()),
    )


def clear_history(conn: sqlite3.Connection, slide_id: int) -> None:
    truncate_history(conn, slide_id, 0)
    set_history_pos(conn, slide_id, 0)


def load_history(
    conn: sqlite3.Connection, slide_id: int, known: dict[codec.RowKey, Annotation] | None = None
) -> tuple[list[Edit], int]:
    """The slide's undo stack followed by its redo stack, and how many are done."""
    rows = conn.execute(
        "SELECT label, payload FROM history WHERE slide_id = ? ORDER BY pos", (slide_id,)
    )
    edits = [codec.edit_from_json(label, payload, known) for label, payload in rows]
    return edits, min(history_pos(conn, slide_id), len(edits))
