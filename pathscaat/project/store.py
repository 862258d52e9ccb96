"""A project folder: ``project.sqlite`` (WAL) plus ``overlays/``, ``models/``, ``exports/``.

Every write is one ``BEGIN IMMEDIATE ... COMMIT`` with ``synchronous=FULL``: when a
method returns, the edit is on disk, and a process killed at any instant leaves the file
as it was after the last commit (SQLite's journal guarantees it). One process writes
(:mod:`lock`); a second opener gets the project read-only with a :attr:`Project.notice`
saying who holds it. The SQL lives in small modules; this class is the one door to them.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import Annotation, PathClass
from pathscaat.progress import PathscaatError
from pathscaat.project import annotation_rows as rows
from pathscaat.project import models_runs
from pathscaat.project import slides as slide_rows
from pathscaat.project.codec import RowKey, encode_edit, pack_colour, unpack_colour
from pathscaat.project.connection import (
    ProjectDamagedError,
    _connect_current,
    _sqlite_failure,
    damaged_message,
)
from pathscaat.project.lock import ProjectLock
from pathscaat.project.relink import find_moved
from pathscaat.project.slides import SlideRecord

DB_NAME = "project.sqlite"
SUBFOLDERS = ("overlays", "models", "exports")


class ProjectReadOnlyError(PathscaatError):
    """A write to a project opened read-only (another process holds it)."""


class Project:
    """An open project; use :meth:`create` or :meth:`open`, and close it (or use ``with``)."""

    def __init__(
        self, root: Path, conn: sqlite3.Connection, lock: ProjectLock, notice: str | None
    ) -> None:
        self.root = root
        self._conn = conn
        self._lock = lock
        self._mutex = threading.RLock()
        self.notice = notice  # why the project is read-only; None when we are its writer

    # --- opening and closing ---------------------------------------------------------

    @classmethod
    def create(cls, folder: str | Path) -> Project:
        """Make a new project in ``folder`` (created if absent; an existing project is refused)."""
        root = Path(folder).resolve()
        if (root / DB_NAME).exists():
            raise PathscaatError(f"{root} is already a PathSCAAT project; open it instead")
        if root.exists() and not root.is_dir():
            raise PathscaatError(f"{root} is a file; give a folder for the project")
        for sub in ("", *SUBFOLDERS):
            (root / sub).mkdir(parents=True, exist_ok=True)
        sqlite3.connect(root / DB_NAME).close()
        return cls.open(root, _new=True)

    @classmethod
    def open(cls, folder: str | Path, *, read_only: bool = False, _new: bool = False) -> Project:
        """Open ``folder``; read-only (with :attr:`notice`) when another process writes it.

        A damaged store raises :class:`ProjectDamagedError` unless ``read_only``; an empty
        (0-byte) one is refused: only :meth:`create` makes a new project.
        """
        root = Path(folder).resolve()
        db_path = root / DB_NAME
        if not db_path.is_file():
            raise PathscaatError(
                f"{root} is not a PathSCAAT project (no {DB_NAME}); create one "
                f"with `pathscaat project init {folder}`"
            )
        if not _new and db_path.stat().st_size == 0:
            raise ProjectDamagedError(
                f"{db_path} is empty (0 bytes): the file was truncated or never finished, "
                "and holds no slides or annotations. Restore it from a backup, or delete it "
                f"and make a new project with `pathscaat project init {folder}`"
            )
        lock = ProjectLock(root)
        notice = "opened read-only on request" if read_only else None
        if not read_only and not lock.acquire():
            notice = f"{root}: {lock.refusal}. Opened read-only: changes here are not saved."
        try:
            conn, problems = _connect_current(db_path, writer=notice is None)
        except BaseException:
            lock.release()
            raise
        if problems != "ok":
            notice = (
                f"{damaged_message(db_path, f'SQLite: {problems}').split('; restore')[0]}. "
                "Opened read-only: copy out what is left, and restore the file from a backup"
            )
        return cls(root, conn, lock, notice)

    @property
    def read_only(self) -> bool:
        return self.notice is not None

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    def close(self) -> None:
        with self._mutex:
            self._conn.close()
            self._lock.release()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """The connection, for reads; a damaged page or undecodable text is one
        :class:`ProjectDamagedError`, not an sqlite3 traceback."""
        with self._mutex:
            try:
                yield self._conn
            except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
                raise ProjectDamagedError(damaged_message(self.db_path, str(exc))) from exc

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic, durable write: committed on exit, rolled back on any error."""
        if self.notice is not None:
            raise ProjectReadOnlyError(self.notice)
        with self._mutex:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            except UnicodeDecodeError as exc:  # undecodable text in a damaged file
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise ProjectDamagedError(
                    damaged_message(self.db_path, str(exc)) + "; nothing of this change was "
                    "written"
                ) from exc
            except sqlite3.Error as exc:  # disk full, file gone, damaged, a constraint broken
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                text = _sqlite_failure(self.db_path, exc)
                damaged = " is damaged (" in text
                raise (ProjectDamagedError if damaged else PathscaatError)(text) from exc

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check``: ``"ok"`` for a sound file."""
        with self._read() as conn:
            return "; ".join(str(r[0]) for r in conn.execute("PRAGMA integrity_check"))

    # --- slides ----------------------------------------------------------------------

    def add_slide(
        self,
        path: str | Path,
        *,
        mpp_override: float | None = None,
    ) -> tuple[SlideRecord, bool]:
        """Add the slide at ``path`` (opened once to check it); returns (record, newly added).

        A file already in the project (same place, or same size and quick hash after a
        move) is not added twice; a moved one gets its new path.
        """
        from pathscaat.project.slide_facts import read_facts

        path = Path(path).resolve()
        facts = read_facts(path, mpp_override)
        with self.transaction() as conn:
            known = slide_rows.find_slide(conn, self.root, path)
            if known is not None:
                if known.path != path:
                    slide_rows.move_slide(conn, self.root, known.id, path)
                return slide_rows.get_slide(conn, self.root, known.id), False
            slide_id = slide_rows.insert_slide(conn, self.root, path, facts, mpp_override)
            return slide_rows.get_slide(conn, self.root, slide_id), True

    def slides(self) -> list[SlideRecord]:
        with self._read() as conn:
            return slide_rows.list_slides(conn, self.root)

    def slide(self, slide_id: int) -> SlideRecord:
        with self._read() as conn:
            return slide_rows.get_slide(conn, self.root, slide_id)

    def set_mpp_override(self, slide_id: int, mpp: float | None) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE slides SET mpp_override = ? WHERE id = ?", (mpp, slide_id))

    def relink(self, search_dirs: Iterable[str | Path]) -> dict[int, Path]:
        """Find each missing slide under ``search_dirs`` by size and quick hash; store it."""
        missing = {
            s.id: (s.size_bytes, s.quick_hash)
            for s in self.slides()
            if not s.found and s.size_bytes is not None and s.quick_hash
        }
        moved = find_moved(missing, search_dirs)  # type: ignore[arg-type]
        if moved:
            with self.transaction() as conn:
                for slide_id, path in moved.items():
                    slide_rows.move_slide(conn, self.root, slide_id, path)
        return moved

    # --- classes ---------------------------------------------------------------------

    def classes(self) -> list[PathClass]:
        with self._read() as conn:
            return [
                PathClass(n, unpack_colour(c))
                for n, c in conn.execute("SELECT name, colour FROM classes ORDER BY sort_order")
            ]

    def set_classes(self, classes: Sequence[PathClass]) -> None:
        """The project's class list becomes ``classes``, in this order."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM classes")
            conn.executemany(
                "INSERT INTO classes (name, colour, sort_order) VALUES (?, ?, ?)",
                [(c.name, pack_colour(c.colour), i) for i, c in enumerate(classes)],
            )

    # --- annotations and their undo log ----------------------------------------------

    def annotations(self, slide_id: int) -> list[Annotation]:
        with self._read() as conn:
            return rows.load(conn, slide_id)

    def history(self, slide_id: int) -> tuple[list[Edit], int]:
        """(undo stack + redo stack, how many are done), for ``AnnotationCollection``."""
        with self._read() as conn:
            return rows.load_history(conn, slide_id)

    def history_shape(self, slide_id: int) -> tuple[int, int]:
        """(how many edits the undo log holds, how many are done), without reading them."""
        with self._read() as conn:
            return rows.history_len(conn, slide_id), rows.history_pos(conn, slide_id)

    def load_slide(self, slide_id: int) -> tuple[list[Annotation], list[Edit], int]:
        """A slide's objects, undo log and position in one read; values met in both are
        parsed once and shared."""
        known: dict[RowKey, Annotation] = {}
        with self._read() as conn:
            conn.execute("BEGIN")  # one snapshot for rows and log
            try:
                objects = rows.load(conn, slide_id, known)
                history, pos = rows.load_history(conn, slide_id, known)
            finally:
                conn.execute("COMMIT")
        return objects, history, pos

    def apply_edit(
        self, slide_id: int, edit: Edit, *, undoable: bool = True, history_len: int | None = None
    ) -> None:
        """Persist an applied edit; ``undoable`` pushes it at the history position.

        ``history_len`` (for a non-undoable edit) is the collection's history length
        after it, so a redo stack it dropped is dropped here too.
        """
        encoded = encode_edit(edit)
        with self.transaction() as conn:
            rows.write_edit(conn, slide_id, encoded)
            pos = rows.history_pos(conn, slide_id)
            if undoable:
                rows.push_history(conn, slide_id, pos, encoded)
                rows.set_history_pos(conn, slide_id, pos + 1)
            elif history_len is not None:
                rows.truncate_history(conn, slide_id, history_len)

    def record_undo(self, slide_id: int, inverse: Edit) -> None:
        """Persist an undo: ``inverse`` is the edit as the undo changed the state."""
        self._move(slide_id, inverse, -1)

    def record_redo(self, slide_id: int, edit: Edit) -> None:
        self._move(slide_id, edit, +1)

    def _move(self, slide_id: int, edit: Edit, step: int) -> None:
        encoded = encode_edit(edit)
        with self.transaction() as conn:
            pos = rows.history_pos(conn, slide_id) + step
            if not 0 <= pos <= rows.history_len(conn, slide_id):
                raise PathscaatError(
                    f"the undo log of slide {slide_id} in {self.root} is out "
                    "of step with the annotations; reopen the slide"
                )
            rows.write_edit(conn, slide_id, encoded)
            rows.set_history_pos(conn, slide_id, pos)

    def replace_annotations(
        self,
        slide_id: int,
        objects: Sequence[Annotation],
        history: Sequence[Edit] = (),
        history_pos: int = 0,
    ) -> None:
        """The slide's objects and undo log become these (a collection's reset)."""
        with self.transaction() as conn:
            rows.replace_all(conn, slide_id, objects)
            self._write_history(conn, slide_id, history, history_pos)

    def replace_history(self, slide_id: int, history: Sequence[Edit], history_pos: int) -> None:
        """The slide's undo log becomes ``history`` with ``history_pos`` of them done."""
        with self.transaction() as conn:
            self._write_history(conn, slide_id, history, history_pos)

    @staticmethod
    def _write_history(
        conn: sqlite3.Connection, slide_id: int, history: Sequence[Edit], history_pos: int
    ) -> None:
        rows.clear_history(conn, slide_id)
        for i, edit in enumerate(history):
            rows.push_history(conn, slide_id, i, encode_edit(edit))
        rows.set_history_pos(conn, slide_id, history_pos)

    def annotation_counts(self) -> dict[int, dict[str | None, int]]:
        """slide id -> class name (None: unclassified) -> number of objects."""
        counts: dict[int, dict[str | None, int]] = {}
        with self._read() as conn:
            for slide_id, name, n in conn.execute(
                "SELECT slide_id, class_name, COUNT(*) FROM annotations "
                "GROUP BY slide_id, class_name ORDER BY slide_id, class_name"
            ):
                counts.setdefault(slide_id, {})[name] = int(n)
        return counts

    # --- models and runs -------------------------------------------------------------

    def add_model(self, checkpoint: str | Path, name: str | None = None) -> int:
        with self.transaction() as conn:
            return models_runs.add_model(conn, self.root, Path(checkpoint), name)

    def remove_model(self, model_id: int) -> None:
        """Unregister a model (its files stay; its runs keep their outputs, model unset)."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM models WHERE id = ?", (model_id,))

    def models(self) -> list[models_runs.ModelRecord]:
        with self._read() as conn:
            return models_runs.list_models(conn, self.root)

    def add_run(
        self,
        slide_id: int,
        model_id: int | None,
        output_dir: str | Path,
        params: dict[str, Any] | None = None,
    ) -> int:
        with self.transaction() as conn:
            return models_runs.add_run(
                conn, self.root, slide_id, model_id, Path(output_dir), params or {}
            )

    def add_inference(self, output_dir: str | Path) -> int:
        """Record what ``pathscaat infer`` wrote to ``output_dir`` as a run of its slide.

        The slide must be in the project (found by place, or size and quick hash); the
        checkpoint is registered as a model when its JSON is still there.
        """
        found = models_runs.read_inference(Path(output_dir))
        with self._read() as conn:
            slide = (
                slide_rows.find_slide(conn, self.root, found.slide)
                if found.slide.is_file()
                else None
            )
        if slide is None:
            raise PathscaatError(
                f"{found.slide}, the slide of the inference in {output_dir}, "
                "is not in the project; add it with `pathscaat project add`"
            )
        model_id = self.add_model(found.checkpoint) if found.checkpoint else None
        return self.add_run(slide.id, model_id, found.output_dir, found.params)

    def runs(self, slide_id: int | None = None) -> list[models_runs.RunRecord]:
        with self._read() as conn:
            return models_runs.list_runs(conn, self.root, slide_id)
