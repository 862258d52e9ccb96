"""Opening a project's SQLite file: connections (a read-only one decodes bad text as
U+FFFD), SQLite's integrity check, and what a damaged store or a failed write means, in one
line for the user. :mod:`pathscaat.project.store` builds the project API on top."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pathscaat.progress import PathscaatError
from pathscaat.project import schema


class ProjectDamagedError(PathscaatError):
    """``project.sqlite`` fails SQLite's integrity check or holds undecodable data.

    Opening it with ``read_only=True`` still works, to copy out what is left.
    """


def damaged_message(db_path: Path, what: str) -> str:
    """One line: the store is damaged, what SQLite said, and the two ways on."""
    return (
        f"{db_path} is damaged ({what}); restore it from a backup, or open the project "
        "read-only to copy out what is left (`pathscaat project list|export DIR --read-only`, "
        "or Open Read-Only in the app)"
    )


def _text(data: bytes) -> str:
    """Text columns of a read-only (possibly damaged) store: bad bytes become U+FFFD."""
    return data.decode("utf-8", "replace")


def _connect(db_path: Path, read_only: bool) -> sqlite3.Connection:
    target = f"{db_path.resolve().as_uri()}?mode={'ro' if read_only else 'rw'}"
    conn = sqlite3.connect(target, uri=True, isolation_level=None, check_same_thread=False)
    if read_only:
        conn.text_factory = _text
    try:
        conn.execute("PRAGMA busy_timeout = 5000")
        if not read_only:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        schema.check_version(conn, db_path)
        schema.check_is_project(conn, db_path)
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:  # Unicode: garbage in the
        conn.close()  # header makes even SQLite's messages undecodable
        raise ProjectDamagedError(
            f"{db_path} is not a readable PathSCAAT project database ({exc}); restore it "
            "from a backup or make a new project"
        ) from exc
    except BaseException:
        conn.close()
        raise
    return conn


def quick_check(conn: sqlite3.Connection, limit: int = 3) -> str:
    """SQLite's ``PRAGMA quick_check`` (page structure, not index contents): ``"ok"`` or
    its first ``limit`` complaints."""
    rows = conn.execute(f"PRAGMA quick_check({int(limit)})").fetchall()
    return "; ".join(str(r[0]) for r in rows)


def _sqlite_failure(db_path: Path, exc: sqlite3.Error) -> str:
    """What a failed write means, by SQLite's error code: only a full disk asks for space."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "decode" in text:
        return damaged_message(db_path, text) + "; nothing of this change was written"
    if name.startswith("SQLITE_FULL"):
        return (
            f"could not save to {db_path} ({text}); nothing of this change was written. "
            "Free disk space, then try again"
        )
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")):
        return (
            f"could not save to {db_path} ({text}); nothing of this change was written. "
            "Check that the folder and file can be written to, then try again"
        )
    return (
        f"could not save to {db_path} ({text}); nothing of this change was written. "
        "Check the disk and the folder, then try again"
    )


def _connect_current(db_path: Path, writer: bool) -> tuple[sqlite3.Connection, str]:
    """A connection to a file at the current schema (the writer migrates it first), and
    what ``PRAGMA quick_check`` found (``"ok"``). A damaged file is never migrated: the
    writer gets :class:`ProjectDamagedError`, a reader the connection."""
    conn = _connect(db_path, read_only=not writer)
    try:
        try:
            problems = quick_check(conn)
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            problems = str(exc)
        if problems != "ok" and writer:
            raise ProjectDamagedError(damaged_message(db_path, f"SQLite: {problems}"))
        if writer:
            schema.migrate(conn, db_path)
        elif schema.schema_version(conn) < schema.SCHEMA_VERSION:
            raise PathscaatError(
                f"{db_path} needs upgrading, which only its writer can do: "
                "close the other PathSCAAT and open the project again"
            )
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise PathscaatError(
            f"{db_path} could not be upgraded ({exc}); it is unchanged. "
            "Restore it from a backup or make a new project"
        ) from exc
    except BaseException:
        conn.close()
        raise
    return conn, problems
