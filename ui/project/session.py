"""The app's open project: one :class:`pathscaat.project.Project` at a time, and what the
window asks of it (which record a slide is, its annotations' binding, its runs' overlays).

The store does the work (``pathscaat.project``); this object only holds the open project,
closes it when another is opened, and tells the panel and the window when it changed.
A second process opening the same folder gets it read-only: :attr:`notice` says so.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from pathscaat.progress import PathscaatError

if TYPE_CHECKING:
    from pathscaat.annotations.collection import AnnotationCollection
    from pathscaat.project import Project
    from pathscaat.project.binding import ProjectBinding
    from pathscaat.project.slides import SlideRecord

log = logging.getLogger(__name__)

RUNS_FOLDER = "overlays"
"""Model runs started inside a project write under ``<project>/overlays/``."""


@dataclass
class AddResult:
    """What Add Slides did: new records, files already there, and one line per refusal."""

    added: list[SlideRecord] = field(default_factory=list)
    known: list[SlideRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class ProjectSession(QObject):
    """Holds the open project (or none) and answers the window's questions about it."""

    sigChanged = Signal()  # a project was opened or closed
    sigSlidesChanged = Signal()  # slides, counts or runs of the open project changed

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project: Project | None = None

    @property
    def notice(self) -> str | None:
        """Why the open project is read-only (None: writable, or no project)."""
        return self.project.notice if self.project is not None else None

    @property
    def root(self) -> Path | None:
        return self.project.root if self.project is not None else None

    def create(self, folder: Path) -> None:
        """Make a project in ``folder`` and open it; PathscaatError says why not."""
        from pathscaat.project import Project

        self._set(Project.create(folder))

    def open(self, folder: Path, *, read_only: bool = False) -> None:
        """Open the project in ``folder`` (read-only with a notice if another app has it,
        or on request: a damaged project)."""
        from pathscaat.project import Project

        self._set(Project.open(folder, read_only=read_only))

    def close(self) -> None:
        self._set(None)

    def _set(self, project: Project | None) -> None:
        if self.project is not None:
            self.project.close()
        self.project = project
        log.info("project: %s", project.root if project else "none")
        self.sigChanged.emit()

    # -- slides ---------------------------------------------------------------------
    def slides(self) -> list[SlideRecord]:
        return self.project.slides() if self.project is not None else []

    def add_slides(self, paths: Iterable[Path]) -> AddResult:
        """Add each file; one unreadable file is a line of ``problems``, not a stop."""
        result = AddResult()
        if self.project is None:
            result.problems.append("No project is open: use File ▸ New Project… first.")
            return result
        from pathscaat.slides.errors import SlideError

        for path in paths:
            try:
                record, new = self.project.add_slide(path)
            except (PathscaatError, SlideError, OSError) as exc:
                result.problems.append(f"{Path(path).name}: {exc}")
                continue
            (result.added if new else result.known).append(record)
        if result.added or result.known:
            self.sigSlidesChanged.emit()
        return result

    def record_for(self, path: Path) -> SlideRecord | None:
        """The project's record of the file at ``path`` (None: not in the project)."""
        if self.project is None:
            return None
        path = Path(path).resolve()
        return next((s for s in self.slides() if s.found and s.path == path), None)

    def annotation_counts(self) -> dict[int, int]:
        """slide id -> number of annotations."""
        if self.project is None:
            return {}
        return {sid: sum(c.values()) for sid, c in self.project.annotation_counts().items()}

    # -- annotations ----------------------------------------------------------------
    def open_collection(
        self, record: SlideRecord
    ) -> tuple[AnnotationCollection, ProjectBinding | None]:
        """The slide's committed annotations, bound so every edit is saved at once."""
        from pathscaat.project.binding import open_collection

        assert self.project is not None
        return open_collection(self.project, record.id)

    # -- runs -----------------------------------------------------------------------
    def runs_folder(self, slide: Path) -> Path | None:
        """Where a run on ``slide`` inside the project writes (None: no project)."""
        if self.project is None:
            return None
        stem = Path(slide).stem
        folder = self.project.root / RUNS_FOLDER / stem
        n = 2
        while folder.exists() and not _is_run_of(folder, slide):
            folder = self.project.root / RUNS_FOLDER / f"{stem}-{n}"
            n += 1
        return folder

    def overlay_folders(self, record: SlideRecord) -> list[Path]:
        """The slide's recorded runs that are still on disk, oldest first, each once."""
        if self.project is None:
            return []
        seen: dict[Path, None] = {}
        for run in self.project.runs(record.id):
            if (run.output_dir / "overlays.json").is_file():
                seen.pop(run.output_dir, None)
                seen[run.output_dir] = None
        return list(seen)

    def record_run(self, output_dir: Path) -> bool:
        """Record an inference output folder as a run of its slide; False if it is not one
        of the project's slides (or the project is read-only)."""
        if self.project is None or self.project.read_only:
            return False
        known = {r.output_dir for s in self.slides() for r in self.project.runs(s.id)}
        if Path(output_dir).resolve() in known:
            return True
        try:
            self.project.add_inference(output_dir)
        except PathscaatError as exc:
            log.info("run %s not recorded: %s", output_dir, exc)
            return False
        self.sigSlidesChanged.emit()
        return True


def _is_run_of(folder: Path, slide: Path) -> bool:
    """True when ``folder`` holds (or began) a run of ``slide``: a rerun resumes there."""
    import json

    try:
        meta = json.loads((folder / "overlays.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return folder.is_dir()  # a run that has not finished: the rerun resumes it
    return isinstance(meta, dict) and Path(str(meta.get("slide", ""))).resolve() == slide.resolve()
