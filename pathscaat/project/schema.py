"""The project database's schema: ``PRAGMA user_version`` and forward migrations in code.

A fresh project runs every migration from 0, so a new file and an upgraded old one are
built by the same steps (and the upgrade path is tested every time a project is made).
A file from a newer PathSCAAT is refused: an old program must not write a schema it does
not know. Steps never rewrite history: add a new step, never edit a released one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from pathscaat.progress import PathscaatError

# v1: slides, classes and annotations (the first release of the store).
_V1 = """
CREATE TABLE slides (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    mpp_override REAL,
    added_at TEXT NOT NULL
);
CREATE TABLE classes (
    name TEXT PRIMARY KEY,
    colour INTEGER NOT NULL,
    sort_order INTEGER NOT NULL
);
CREATE TABLE annotations (
    slide_id INTEGER NOT NULL REFERENCES slides(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    geometry BLOB NOT NULL,
    object_type TEXT NOT NULL,
    class_name TEXT,
    class_colour INTEGER,
    name TEXT,
    locked INTEGER NOT NULL DEFAULT 0,
    measurements TEXT NOT NULL DEFAULT '{}',
    metadata TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (slide_id, id)
);
CREATE INDEX annotations_by_seq ON annotations (slide_id, seq);
"""

# v2: every Annotation field, relinking data, undo history, models and inference runs.
_V2 = """
ALTER TABLE slides ADD COLUMN abs_path TEXT;
ALTER TABLE slides ADD COLUMN size_bytes INTEGER;
ALTER TABLE slides ADD COLUMN quick_hash TEXT;
ALTER TABLE slides ADD COLUMN width_px INTEGER;
ALTER TABLE slides ADD COLUMN height_px INTEGER;
ALTER TABLE slides ADD COLUMN l0_offset_x REAL NOT NULL DEFAULT 0;
ALTER TABLE slides ADD COLUMN l0_offset_y REAL NOT NULL DEFAULT 0;
ALTER TABLE annotations ADD COLUMN tool TEXT NOT NULL DEFAULT 'imported';
ALTER TABLE annotations ADD COLUMN parent_id TEXT;
ALTER TABLE annotations ADD COLUMN extra TEXT NOT NULL DEFAULT '{}';
CREATE TABLE history (
    slide_id INTEGER NOT NULL REFERENCES slides(id) ON DELETE CASCADE,
    pos INTEGER NOT NULL,
    label TEXT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (slide_id, pos)
);
CREATE TABLE history_state (
    slide_id INTEGER PRIMARY KEY REFERENCES slides(id) ON DELETE CASCADE,
    pos INTEGER NOT NULL
);
CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    checkpoint TEXT NOT NULL UNIQUE,
    backbone TEXT,
    objective TEXT,
    class_names TEXT NOT NULL DEFAULT '[]',
    metrics TEXT NOT NULL DEFAULT '{}',
    added_at TEXT NOT NULL
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    slide_id INTEGER NOT NULL REFERENCES slides(id) ON DELETE CASCADE,
    model_id INTEGER REFERENCES models(id) ON DELETE SET NULL,
    output_dir TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
CREATE INDEX runs_by_slide ON runs (slide_id);
"""


def _backfill_v2(conn: sqlite3.Connection, root: Path) -> None:
    """Give v1 slides the absolute path, size and quick hash that relinking needs."""
    from pathscaat.project.relink import quick_hash  # relink imports nothing from here

    rows = conn.execute("SELECT id, path FROM slides").fetchall()
    for slide_id, stored in rows:
        path = (root / stored).resolve()
        if path.is_file():
            conn.execute(
                "UPDATE slides SET abs_path = ?, size_bytes = ?, quick_hash = ? WHERE id = ?",
                (str(path), path.stat().st_size, quick_hash(path), slide_id),
            )


Step = tuple[str, Callable[[sqlite3.Connection, Path], None] | None]
MIGRATIONS: tuple[Step, ...] = (
    (_V1, None),
    (_V2, _backfill_v2),
)
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def check_version(conn: sqlite3.Connection, db_path: Path) -> int:
    """The file's schema version; a newer one than this program knows is refused."""
    version = schema_version(conn)
    if version > SCHEMA_VERSION:
        raise PathscaatError(
            f"{db_path} was written by a newer PathSCAAT (project schema {version}; this one "
            f"reads up to {SCHEMA_VERSION}); update PathSCAAT to open this project"
        )
    return version


def check_is_project(conn: sqlite3.Connection, db_path: Path) -> None:
    """Refuse another program's SQLite file: version 0 with tables of its own."""
    if schema_version(conn) > 0:
        return
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' LIMIT 3")]  # fmt: skip
    if tables:
        raise PathscaatError(
            f"{db_path} is an SQLite database of another program (tables "
            f"{', '.join(tables)}), not a PathSCAAT project; choose the project's folder"
        )


def migrate(conn: sqlite3.Connection, db_path: Path) -> int:
    """Bring the file up to :data:`SCHEMA_VERSION`, each step in its own transaction.

    ``conn`` must be in autocommit mode (``isolation_level=None``). Returns the version
    the file had before.
    """
    before = check_version(conn, db_path)
    for version in range(before, SCHEMA_VERSION):
        sql, backfill = MIGRATIONS[version]
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(sql):
                conn.execute(statement)
            if backfill is not None:
                backfill(conn, db_path.parent)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return before


def _statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";") if s.strip()]
