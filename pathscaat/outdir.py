"""Output folders of long jobs: proved writable before the work, not left empty after a failure.

``check_writable`` is what a job calls first, so a read-only or mistyped ``--out`` costs a
second, not the minutes of work before the first write. ``cleaned_on_failure`` wraps a job
whose failure would otherwise leave behind the folders it created, empty: those go again,
while any file in them (finished results, partial results a rerun resumes from) stays.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pathscaat.progress import PathscaatError


def check_writable(out: str | Path, what: str = "the output") -> Path:
    """Create ``out`` (with its parents) and write and delete a probe file in it."""
    folder = Path(out).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise PathscaatError(
            f"cannot write {what} to {folder} ({reason}); choose a folder you can write to "
            "with --out, or fix its permissions"
        ) from exc
    return folder


def _missing_ancestors(folder: Path) -> list[Path]:
    """``folder`` and its parents that do not exist yet, deepest first."""
    missing = []
    for path in (folder, *folder.parents):
        if path.exists():
            break
        missing.append(path)
    return missing


def _remove_empty_dirs(top: Path) -> None:
    """Every empty folder under ``top`` (bottom-up), then ``top`` itself if empty."""
    for root, _dirs, _files in os.walk(top, topdown=False):
        with contextlib.suppress(OSError):  # not empty: it holds something worth keeping
            Path(root).rmdir()


@contextmanager
def cleaned_on_failure(
    out: str | Path, discard: Callable[[Path], None] | None = None
) -> Iterator[None]:
    """On any exception, remove the folders under ``out`` this job created and left empty.

    ``discard(out)`` first drops files that no rerun can use (e.g. partial results with no
    finished tile). Folders that existed before the job are never removed.
    """
    folder = Path(out).expanduser()
    created = _missing_ancestors(folder.absolute())
    try:
        yield
    except BaseException:
        if created and folder.is_dir():
            if discard is not None:
                discard(folder)
            _remove_empty_dirs(folder)
            for path in created[1:]:  # parents made by mkdir(parents=True)
                try:
                    path.rmdir()
                except OSError:
                    break
        raise


@contextmanager
def undone_on_failure(out: str | Path, keep: Callable[[Path], bool]) -> Iterator[None]:
    """On any exception, remove what the job added directly under ``out`` (files and folders
    that were not there before it began) and the folders it created, unless ``keep(out)``
    says a partial result is worth keeping (a checkpoint that ``--resume`` continues from).

    Nothing that was there before the job is touched, so a rerun into a used folder
    loses nothing of the earlier run.
    """
    folder = Path(out).expanduser()
    created = _missing_ancestors(folder.absolute())
    before = set(folder.iterdir()) if folder.is_dir() else set()
    try:
        yield
    except BaseException:
        if folder.is_dir() and not keep(folder):
            for path in folder.iterdir():
                if path in before:
                    continue
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        path.unlink()
            for path in created:  # deepest first: out, then parents mkdir made
                try:
                    path.rmdir()
                except OSError:
                    break
        raise
