"""Slide thumbnails for the project panel: made in a worker thread, cached as PNG files in
``<project>/thumbnails/`` so a project with hundreds of slides opens at once the next time.

A cached file is reused while it is newer than the slide; a slide that cannot be read
gets no thumbnail (the panel shows its name and the reason), never a stall or a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import cast

from PySide6.QtCore import QObject, QThreadPool, Signal
from superqt.utils import GeneratorWorker, create_worker

log = logging.getLogger(__name__)

THUMB_FOLDER = "thumbnails"
THUMB_PX = 160


def cache_path(project_root: Path, slide_id: int) -> Path:
    return project_root / THUMB_FOLDER / f"slide-{slide_id}.png"


def is_fresh(png: Path, slide: Path) -> bool:
    """The cached thumbnail exists and is newer than the slide file."""
    try:
        return png.stat().st_mtime >= slide.stat().st_mtime
    except OSError:
        return False


def make_thumbnail(slide_path: Path, png: Path, max_px: int = THUMB_PX) -> Path:
    """Write the slide's thumbnail to ``png`` (via a temporary name: never half a file)."""
    from PIL import Image

    from pathscaat.slides import open_slide

    with open_slide(slide_path) as slide:
        rgb = slide.thumbnail(max_px)
    png.parent.mkdir(parents=True, exist_ok=True)
    tmp = png.with_suffix(".tmp.png")
    Image.fromarray(rgb).save(tmp)
    tmp.replace(png)
    return png


def _make_all(jobs: list[tuple[int, Path, Path]]) -> Iterator[tuple[int, str, str]]:
    """Yield (slide id, PNG path or "", problem or "") for each job, in order."""
    for slide_id, slide_path, png in jobs:
        if is_fresh(png, slide_path):
            yield slide_id, str(png), ""
            continue
        try:
            yield slide_id, str(make_thumbnail(slide_path, png)), ""
        except Exception as exc:  # any unreadable file: a line in the panel, not a crash
            log.info("no thumbnail for %s: %s", slide_path, exc)
            yield slide_id, "", str(exc) or type(exc).__name__


class ThumbnailMaker(QObject):
    """Makes thumbnails one batch at a time; a newer batch makes the older one stale."""

    sigReady = Signal(int, str, str)  # slide id, PNG path ("" if none), problem
    sigDone = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._generation = 0
        self._workers: set[GeneratorWorker] = set()

    def is_busy(self) -> bool:
        return bool(self._workers)

    def start(self, jobs: list[tuple[int, Path, Path]]) -> None:
        """Make (or reuse) the thumbnail of each (slide id, slide file, cache PNG)."""
        self._generation += 1
        gen = self._generation
        for worker in self._workers:
            worker.quit()
        worker = cast(GeneratorWorker, create_worker(_make_all, jobs, _start_thread=False,
                                                      _ignore_errors=True))
        worker.yielded.connect(lambda item: self._yielded(gen, item))
        worker.finished.connect(lambda *_: self._finished(gen, worker))
        self._workers.add(worker)
        self._pool.start(worker)

    def _yielded(self, gen: int, item: tuple[int, str, str]) -> None:
        if gen == self._generation:
            self.sigReady.emit(*item)

    def _finished(self, gen: int, worker: GeneratorWorker) -> None:
        self._workers.discard(worker)
        if gen == self._generation:
            self.sigDone.emit()

    def shutdown(self, msecs: int = 10000) -> bool:
        self._generation += 1
        for worker in self._workers:
            worker.quit()
        return bool(self._pool.waitForDone(msecs))
